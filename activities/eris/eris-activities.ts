import { Context } from '@temporalio/activity';
import type { ReceiptOutbox } from '../../db/repositories/receipt-outbox';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import type { ErisClient } from '../clients/eris-client';

/**
 * FR-12 / CONTRACT.md: a receipt is retried 3 times, 0.5, 1 and 2 s after the first attempt; after that it is retried
 * durably, with a backoff doubling from 5 s up to `maxBackoffMs`, for as long as it takes. It is never dropped.
 */
export const FIRST_RETRIES_MS = [500, 1000, 2000] as const;
const DURABLE_FIRST_MS = 5000;

/** How long to wait before the next attempt, given how many attempts (this failed one included) were made. */
export function nextRetryMs(attemptsMade: number, maxBackoffMs: number): number {
  if (attemptsMade >= 1 && attemptsMade <= FIRST_RETRIES_MS.length) return FIRST_RETRIES_MS[attemptsMade - 1];
  return Math.min(maxBackoffMs, DURABLE_FIRST_MS * 2 ** Math.max(0, attemptsMade - FIRST_RETRIES_MS.length - 1));
}

/** A claimed row is leased this long: a worker that dies mid-send leaves the receipt to the next claim after it. */
const LEASE_MS = 30_000;
const BATCH = 50;

export interface DrainInput {
  /** Keep draining (and polling when idle) for this long, then return so the workflow records progress. */
  max_wait_ms: number;
}
export interface DrainResult {
  /** False when ERIS is not configured (any more): the emission workflow then ends. */
  configured: boolean;
  delivered: number;
  failed: number;
}

export interface ErisActivityDeps {
  eris: Pick<ErisClient, 'submitReceipt'>;
  outbox: Pick<ReceiptOutbox, 'claimDue' | 'markDelivered' | 'markFailed'>;
  pollMs: number;
  maxBackoffMs: number;
  metrics?: Pick<Metrics, 'receiptEmissions'>;
  logger?: Pick<Logger, 'warn'>;
}

/** Without deps (ERIS not configured, or a worker built for tests of other flows) the drain reports `configured: false`. */
export function createErisActivities(deps?: ErisActivityDeps) {
  return {
    /**
     * Sends every due receipt of the outbox to ERIS, each with its receipt id as idempotency key, and records the
     * outcome on its row: delivered, or the time of its next attempt. Heartbeats, and honours cancellation (a worker
     * shutting down), between batches.
     */
    async drainReceiptOutbox(input: DrainInput): Promise<DrainResult> {
      if (!deps) return { configured: false, delivered: 0, failed: 0 };
      const { eris } = deps;
      const ctx = Context.current();
      const deadline = Date.now() + input.max_wait_ms;
      let delivered = 0;
      let failed = 0;
      for (;;) {
        ctx.heartbeat({ delivered, failed });
        const due = await deps.outbox.claimDue(BATCH, LEASE_MS);
        const accepted: string[] = [];
        await Promise.all(
          due.map(async (row) => {
            try {
              await eris.submitReceipt(row.receipt);
              accepted.push(row.receipt_id);
            } catch (err) {
              const retryIn = nextRetryMs(row.attempts + 1, deps.maxBackoffMs);
              await deps.outbox.markFailed(row.receipt_id, retryIn, err instanceof Error ? err.message : String(err));
              failed++;
              deps.metrics?.receiptEmissions.inc({ outcome: 'retry_scheduled' });
              if (row.attempts + 1 === FIRST_RETRIES_MS.length + 1)
                deps.logger?.warn({ receipt_id: row.receipt_id, err: (err as Error).message }, 'receipt not accepted by ERIS after 4 attempts; retrying durably');
            }
          }),
        );
        // One statement for the batch; a crash before it re-sends these under the same keys, which ERIS stores once.
        if (accepted.length > 0) {
          await deps.outbox.markDelivered(accepted);
          delivered += accepted.length;
          deps.metrics?.receiptEmissions.inc({ outcome: 'delivered' }, accepted.length);
        }
        if (Date.now() >= deadline) return { configured: true, delivered, failed };
        // A full batch means more is due now; otherwise wait for the next poll (throws CancelledFailure on shutdown).
        if (due.length < BATCH) await ctx.sleep(deps.pollMs);
      }
    },
  };
}
