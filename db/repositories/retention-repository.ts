import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

export interface MmmPurgeCounts {
  decisions: number;
  outcomes: number;
  approvals: number;
  outbox: number;
  audit_entries: number;
}

/**
 * The MMM engine's retention (issue 12, ADR 0013): decision bodies, their outcomes, approvals and the action outbox
 * older than the cutoff are deleted, and audit entries past it lose their recorded values. Receipts are never touched:
 * a purged decision keeps its receipt, which holds no raw values and stays verifiable. One transaction per tenant run.
 */
export function createRetentionRepository(sequelize: Sequelize) {
  const count = async (sql: string, replacements: Record<string, unknown>, transaction: Transaction) => {
    const rows = await sequelize.query<{ n: string }>(`WITH gone AS (${sql} RETURNING 1) SELECT count(*) AS n FROM gone`, {
      replacements,
      transaction,
      type: QueryTypes.SELECT,
    });
    return Number(rows[0]?.n ?? 0);
  };
  return {
    /** Tenants with decisions or a policy: each gets its daily retention Schedule at start. */
    async knownTenants(): Promise<string[]> {
      const rows = await sequelize.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM decisions UNION SELECT tenant_id FROM tenant_policies', { type: QueryTypes.SELECT });
      return rows.map((r) => r.tenant_id);
    },
    async purgeExpired(tenantId: string, cutoff: Date): Promise<MmmPurgeCounts> {
      const r = { tenant: tenantId, cutoff };
      return sequelize.transaction(async (tx) => {
        // Outcomes go with their decision (ON DELETE CASCADE); counted first so the run can say how many.
        const outcomes = await count('DELETE FROM decision_outcomes WHERE tenant_id = :tenant AND decision_id IN (SELECT decision_id FROM decisions WHERE tenant_id = :tenant AND created_at < :cutoff)', r, tx);
        const decisions = await count('DELETE FROM decisions WHERE tenant_id = :tenant AND created_at < :cutoff', r, tx);
        // Approvals still open (their window has not closed by the cutoff) stay: their workflow still reads them.
        await count('DELETE FROM action_approval_transitions WHERE tenant_id = :tenant AND action_id IN (SELECT action_id FROM action_approvals WHERE tenant_id = :tenant AND created_at < :cutoff AND expires_at < :cutoff)', r, tx);
        const approvals = await count('DELETE FROM action_approvals WHERE tenant_id = :tenant AND created_at < :cutoff AND expires_at < :cutoff', r, tx);
        const outbox = await count('DELETE FROM action_outbox WHERE tenant_id = :tenant AND created_at < :cutoff', r, tx);
        // Metrics rolled up from what is purged go with it (their actor samples too); a period the cutoff falls in is rolled up again from what is left.
        await count('DELETE FROM tenant_metrics_rollups WHERE tenant_id = :tenant AND period_start < :cutoff', r, tx);
        await count('DELETE FROM tenant_metrics_periods WHERE tenant_id = :tenant AND period_start < :cutoff', r, tx);
        const [audit] = await sequelize.query<{ n: string }>('SELECT mmm_purge_audit_values(:tenant, :cutoff) AS n', { replacements: r, transaction: tx, type: QueryTypes.SELECT });
        return { decisions, outcomes, approvals, outbox, audit_entries: Number(audit?.n ?? 0) };
      });
    },
  };
}
export type RetentionRepository = ReturnType<typeof createRetentionRepository>;
