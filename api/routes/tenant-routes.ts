import { z } from 'zod';
import { idSchema } from '../../domain/model/common';
import { auditQuerySchema, auditResponseSchema } from '../../domain/model/audit';
import { tenantMetricsQuerySchema, tenantMetricsSchema } from '../../domain/model/tenant-metrics';
import type { AuditLog } from '../../db/repositories/audit-log';
import { ADMINS, type AuthRule } from '../authorization';
import { defineRoute } from '../route';
import { tenantMetrics, type TenantMetricsDeps } from '../tenant-metrics';

/** A tenant_admin reads its own tenant only (the path must name the token's tenant); mmm_admin likewise. */
const TENANT_ADMINS: AuthRule = { roles: ADMINS, tenant: 'path' };
const params = z.object({ tenant_id: idSchema });

export function tenantRoutes(deps: { audit: AuditLog } & TenantMetricsDeps) {
  return [
    defineRoute({
      method: 'get', path: '/v1/mmm/tenants/:tenant_id/metrics', tag: 'tenant', auth: TENANT_ADMINS,
      summary: "Aggregate counts of the tenant's decisions, actions, outcomes and approvals over `since`..`until` (default the last 30 days; `until` must be after `since`, at most 366 days apart, else 400 naming the field); never per actor, cells below the minimum group size left out",
      params, query: tenantMetricsQuerySchema, response: tenantMetricsSchema,
      async handler({ params: p, query }) {
        return { body: await tenantMetrics(deps, p.tenant_id, query) };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/mmm/tenants/:tenant_id/audit', tag: 'tenant', auth: TENANT_ADMINS,
      summary: "The admin audit log, newest first (filter since, resource_type, limit), with whether the tenant's whole hash chain verifies and its first broken entry",
      params, query: auditQuerySchema, response: auditResponseSchema,
      async handler({ params: p, query }) {
        const [entries, walk] = await Promise.all([
          deps.audit.list(p.tenant_id, { since: query.since, resourceType: query.resource_type, limit: query.limit }),
          deps.audit.verify(p.tenant_id),
        ]);
        return {
          body: { tenant_id: p.tenant_id, entries, chain_ok: walk.broken === null, first_broken: walk.broken, verified_entries: walk.verified, unchained_entries: walk.unchained },
        };
      },
    }),
  ];
}
