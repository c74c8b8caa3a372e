import { QueryTypes, type Sequelize } from 'sequelize';

export interface OutboxEntry {
  tenant_id: string;
  action_id: string;
  target: OutboxTarget;
  idempotency_key: string;
  payload: Record<string, unknown>;
  /** `pending` (the default) is what surfaces read; alerts also record `refused` and `gave_up` (006-alert-deliveries). */
  status?: 'pending' | 'refused' | 'gave_up';
}
export type OutboxTarget = 'edge_agent' | 'ci' | 'alerting';

/**
 * The hand-off of an approved multiplier action when no edge agent or CI is configured (ARCHITECTURE.md, embedded
 * defaults): a row the edge agent or CI reads. The idempotency key makes a retried hand-off one row.
 */
export function createOutboxRepository(sequelize: Sequelize) {
  return {
    async record(entry: OutboxEntry): Promise<{ outbox_id: string }> {
      const [row] = await sequelize.query<{ outbox_id: string }>(
        `WITH ins AS (
           INSERT INTO action_outbox (tenant_id, action_id, target, idempotency_key, payload, status)
           VALUES (:tenant_id, :action_id, :target, :idempotency_key, CAST(:payload AS jsonb), :status)
           ON CONFLICT (idempotency_key) DO NOTHING
           RETURNING outbox_id
         )
         SELECT outbox_id FROM ins UNION ALL SELECT outbox_id FROM action_outbox WHERE idempotency_key = :idempotency_key LIMIT 1`,
        { replacements: { ...entry, status: entry.status ?? 'pending', payload: JSON.stringify(entry.payload) }, type: QueryTypes.SELECT },
      );
      return { outbox_id: String(row.outbox_id) };
    },

    async pending(tenantId: string, target?: OutboxTarget): Promise<Array<OutboxEntry & { outbox_id: string; status: string }>> {
      const rows = await sequelize.query<OutboxEntry & { outbox_id: string; status: string }>(
        `SELECT outbox_id::text AS outbox_id, tenant_id, action_id, target, idempotency_key, payload, status FROM action_outbox
         WHERE tenant_id = :tenantId AND status = 'pending' ${target ? 'AND target = :target' : ''} ORDER BY outbox_id`,
        { replacements: { tenantId, target: target ?? null }, type: QueryTypes.SELECT },
      );
      return rows;
    },

    /** Every row of a tenant for one target, whatever its status (oldest first). */
    async list(tenantId: string, target: OutboxTarget): Promise<Array<OutboxEntry & { outbox_id: string; status: string }>> {
      return sequelize.query<OutboxEntry & { outbox_id: string; status: string }>(
        `SELECT outbox_id::text AS outbox_id, tenant_id, action_id, target, idempotency_key, payload, status FROM action_outbox
         WHERE tenant_id = :tenantId AND target = :target ORDER BY outbox_id`,
        { replacements: { tenantId, target }, type: QueryTypes.SELECT },
      );
    },
  };
}
export type OutboxRepository = ReturnType<typeof createOutboxRepository>;
