import type { Transaction } from 'sequelize';
import { redact } from '../../domain/redaction';
import type { Models } from '../models';

export interface AuditEntry {
  tenantId: string;
  actorSub: string;
  action: string;
  resourceType: string;
  resourceId: string;
  before: unknown;
  after: unknown;
}

/** NFR-7: every admin mutation, with redacted before and after state, in the mutation's own transaction. */
export function createAuditLog(models: Models) {
  return {
    async record(entry: AuditEntry, transaction: Transaction): Promise<void> {
      await models.AuditLog.create(
        {
          tenant_id: entry.tenantId,
          actor_sub: entry.actorSub,
          action: entry.action,
          resource_type: entry.resourceType,
          resource_id: entry.resourceId,
          before: entry.before === null || entry.before === undefined ? null : redact(entry.before),
          after: entry.after === null || entry.after === undefined ? null : redact(entry.after),
        },
        { transaction },
      );
    },
    async list(tenantId: string, limit = 100) {
      const rows = await models.AuditLog.findAll({ where: { tenant_id: tenantId }, order: [['id', 'DESC']], limit });
      return rows.map((r) => r.get({ plain: true }));
    },
  };
}
export type AuditLog = ReturnType<typeof createAuditLog>;
