import type { Sequelize } from 'sequelize';
import {
  DEFAULT_TENANT_POLICY,
  policySnapshotId,
  tenantPolicyInputSchema,
  type TenantPolicy,
  type TenantPolicyInput,
} from '../../domain/model/policy';
import type { Models, TenantPolicyRow } from '../models';
import type { AuditLog } from './audit-log';

export function toPolicy(tenantId: string, row: TenantPolicyRow | null): TenantPolicy {
  // Stored JSON went through the schema when written; parsing again fills defaults added since.
  const input = row ? tenantPolicyInputSchema.parse(row.policy) : DEFAULT_TENANT_POLICY;
  const version = row?.version ?? 0;
  return {
    ...input,
    tenant_id: tenantId,
    version,
    policy_snapshot_id: policySnapshotId(tenantId, version),
    updated_at: row ? row.updated_at.toISOString() : null,
  };
}

export function createPolicyRepository(sequelize: Sequelize, models: Models, audit: AuditLog) {
  return {
    /** A tenant without a stored policy runs on the defaults (version 0). */
    async get(tenantId: string): Promise<TenantPolicy> {
      const row = await models.TenantPolicy.findByPk(tenantId);
      return toPolicy(tenantId, row ? row.get({ plain: true }) : null);
    },

    async put(tenantId: string, given: TenantPolicyInput, actorSub: string): Promise<TenantPolicy> {
      // Only the policy's own fields are stored, whatever else a caller's object carries.
      const input = tenantPolicyInputSchema.parse(given);
      return sequelize.transaction(async (transaction) => {
        // A row lock cannot serialise the first write (there is no row yet), so writers of one tenant take an
        // advisory lock: concurrent PUTs get distinct versions and each snapshot id names exactly one policy.
        await sequelize.query("SELECT pg_advisory_xact_lock(hashtext('tenant_policy:' || :tenantId))", { replacements: { tenantId }, transaction });
        const existing = await models.TenantPolicy.findByPk(tenantId, { transaction });
        const before = existing ? toPolicy(tenantId, existing.get({ plain: true })) : null;
        const version = (before?.version ?? 0) + 1;
        const row = { tenant_id: tenantId, version, policy: input, updated_at: new Date() };
        await models.TenantPolicy.upsert(row, { transaction });
        const after = toPolicy(tenantId, row);
        await audit.record(
          { tenantId, actorSub, action: 'policy.put', resourceType: 'tenant_policy', resourceId: tenantId, before, after },
          transaction,
        );
        return after;
      });
    },
  };
}
export type PolicyRepository = ReturnType<typeof createPolicyRepository>;
