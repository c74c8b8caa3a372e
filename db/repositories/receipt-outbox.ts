import { QueryTypes, type Sequelize } from 'sequelize';
import type { Receipt } from '../../domain/model/receipt';

export interface DueEmission {
  receipt_id: string;
  /** Attempts made before this one. */
  attempts: number;
  receipt: Receipt;
}

/**
 * The ERIS emission outbox (migration 005): one row per ledger receipt, filled by a trigger on `receipts`. A claim
 * pushes the row's next attempt out by a lease, so a worker that dies mid-send leaves it to be retried after the lease.
 */
export function createReceiptOutbox(sequelize: Sequelize) {
  return {
    /**
     * Turns queueing on for good and queues the ledger's history, once per database (later calls are one read).
     * `SHARE` mode waits for receipt inserts in flight and holds new ones until the commit, so a receipt appended
     * while queueing is switched on is either in the history read here or sees the switch in its trigger.
     */
    async enable(): Promise<{ queued_history: number } | null> {
      return sequelize.transaction(async (transaction) => {
        const [on] = await sequelize.query('SELECT 1 FROM receipt_emission_state', { transaction, type: QueryTypes.SELECT });
        if (on) return null;
        await sequelize.query('LOCK TABLE receipts IN SHARE MODE', { transaction });
        const switched = await sequelize.query('INSERT INTO receipt_emission_state (id) VALUES (true) ON CONFLICT (id) DO NOTHING RETURNING id', {
          transaction,
          type: QueryTypes.SELECT,
        });
        if (switched.length === 0) return null; // another replica switched it on meanwhile, history included
        const [queued] = await sequelize.query<{ n: number }>(
          `WITH q AS (INSERT INTO receipt_emissions (receipt_id, tenant_id, created_at)
                      SELECT receipt_id, tenant_id, created_at FROM receipts ON CONFLICT DO NOTHING RETURNING 1)
           SELECT count(*)::int AS n FROM q`,
          { transaction, type: QueryTypes.SELECT },
        );
        return { queued_history: queued.n };
      });
    },

    /** Due, undelivered rows, oldest first, locked past concurrent claimers (SKIP LOCKED) and leased for `leaseMs`. */
    async claimDue(limit: number, leaseMs: number): Promise<DueEmission[]> {
      const rows = await sequelize.query<{ receipt_id: string; attempts: number; body: Receipt }>(
        `WITH due AS (
           SELECT receipt_id FROM receipt_emissions
            WHERE delivered_at IS NULL AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT :limit FOR UPDATE SKIP LOCKED
         ), claimed AS (
           UPDATE receipt_emissions e SET next_attempt_at = now() + make_interval(secs => :leaseS)
             FROM due WHERE e.receipt_id = due.receipt_id
           RETURNING e.receipt_id, e.attempts
         )
         SELECT c.receipt_id, c.attempts, r.body FROM claimed c JOIN receipts r ON r.receipt_id = c.receipt_id`,
        { replacements: { limit, leaseS: leaseMs / 1000 }, type: QueryTypes.SELECT },
      );
      return rows.map((r) => ({ receipt_id: r.receipt_id, attempts: Number(r.attempts), receipt: r.body }));
    },

    async markDelivered(receiptIds: string[]): Promise<void> {
      await sequelize.query(
        'UPDATE receipt_emissions SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE receipt_id IN (:receiptIds) AND delivered_at IS NULL',
        { replacements: { receiptIds } },
      );
    },

    async markFailed(receiptId: string, retryInMs: number, error: string): Promise<void> {
      await sequelize.query(
        `UPDATE receipt_emissions SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => :retryS), last_error = :error
          WHERE receipt_id = :receiptId AND delivered_at IS NULL`,
        { replacements: { receiptId, retryS: retryInMs / 1000, error: error.slice(0, 500) } },
      );
    },

    /** Receipts not yet delivered, counted over the partial index of undelivered rows (cheap enough per scrape). */
    async pendingCount(): Promise<number> {
      const [row] = await sequelize.query<{ n: number }>('SELECT count(*)::int AS n FROM receipt_emissions WHERE delivered_at IS NULL', { type: QueryTypes.SELECT });
      return Number(row?.n ?? 0);
    },

    /** Counts for readiness, metrics and tests: pending (not yet delivered) and delivered, optionally for one tenant. */
    async counts(tenantId?: string): Promise<{ pending: number; delivered: number }> {
      const [row] = await sequelize.query<{ pending: string; delivered: string }>(
        `SELECT count(*) FILTER (WHERE delivered_at IS NULL) AS pending, count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered
           FROM receipt_emissions ${tenantId ? 'WHERE tenant_id = :tenantId' : ''}`,
        { replacements: { tenantId: tenantId ?? null }, type: QueryTypes.SELECT },
      );
      return { pending: Number(row?.pending ?? 0), delivered: Number(row?.delivered ?? 0) };
    },
  };
}
export type ReceiptOutbox = ReturnType<typeof createReceiptOutbox>;
