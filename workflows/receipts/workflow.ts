import { continueAsNew, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ReceiptEmissionInput } from './contract';

/**
 * The drain is an ordinary (not local) activity: it runs for a round, heartbeats, and is retried for ever with a
 * capped backoff, so a worker killed mid-round only delays emission. Each receipt's own retry schedule (0.5, 1, 2 s,
 * then durable) lives on its outbox row, not here.
 */
const { drainReceiptOutbox } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Delivers every ledger receipt to ERIS exactly once (idempotency key = receipt id), whoever appended it. */
export async function receiptEmissionWorkflow(input: ReceiptEmissionInput): Promise<void> {
  for (let round = 0; round < input.rounds_per_run; round++) {
    const result = await drainReceiptOutbox({ max_wait_ms: input.round_ms });
    // ERIS is no longer configured on the workers: nothing to do until a deployment configures it and starts us again.
    if (!result.configured) return;
  }
  await continueAsNew<typeof receiptEmissionWorkflow>(input);
}
