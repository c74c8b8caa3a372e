import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, defineUpdate, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';

/**
 * A workflow that does nothing but complete: the floor of a Temporal round trip on this deployment. The bench
 * compares decideWorkflow against it, and ops can start it to check that workers are polling the queue.
 */
export async function pingWorkflow(): Promise<string> {
  return 'pong';
}

/** The floor of ADR 0012's design: an Update into a long-lived workflow whose handler does nothing. */
export const pingUpdate = defineUpdate<number, [number]>('ping');

/** Failure type of a ping a full run refused while it continues as new; the bench sends it again. */
export const PING_SHARD_DRAINING = 'PingShardDraining';

/** A ping shard run is full at 1,000 Updates or when the server suggests continuing as new, as decision shards are. */
const runFull = (accepted: number) => accepted >= 1000 || workflowInfo().continueAsNewSuggested;

/** The validator both ping shards register: a full run refuses, nothing is recorded. */
function refusedWhenFull(accepted: () => number) {
  return {
    validator: (_n: number) => {
      if (runFull(accepted())) throw ApplicationFailure.create({ type: PING_SHARD_DRAINING, nonRetryable: true });
    },
  };
}

/**
 * A long-lived workflow that answers `ping` Updates at once and continues as new like decisionShardWorkflow: the
 * bench sends Update-with-Start into a few of these, next to decide, so the Temporal share of a decision shows.
 */
export async function pingShardWorkflow(): Promise<void> {
  let accepted = 0;
  setHandler(
    pingUpdate,
    (n: number) => {
      accepted++;
      return n;
    },
    refusedWhenFull(() => accepted),
  );
  await condition(() => runFull(accepted));
  await condition(allHandlersFinished);
  await continueAsNew<typeof pingShardWorkflow>();
}

const batchActivity = proxyLocalActivities<Pick<Activities, 'pingBatch'>>({ startToCloseTimeout: '4 seconds' });

/**
 * The floor of ADR 0012's design with its shape kept: Updates queued by the handler and answered by the main loop
 * after one local activity per batch, as decisionShardWorkflow does, with nothing done in either. The bench prints
 * it beside the no-op floor above, so the cost of the design's shape and the cost of a decision's own work show apart.
 */
export async function pingBatchShardWorkflow(): Promise<void> {
  let accepted = 0;
  const pending: Array<{ n: number; resolve(n: number): void }> = [];
  setHandler(
    pingUpdate,
    (n: number) => {
      accepted++;
      return new Promise<number>((resolve) => pending.push({ n, resolve }));
    },
    refusedWhenFull(() => accepted),
  );
  for (;;) {
    await condition(() => pending.length > 0 || runFull(accepted));
    if (pending.length === 0) break;
    const batch = pending.splice(0);
    const answers = await batchActivity.pingBatch(batch.map((p) => p.n));
    batch.forEach((p, i) => p.resolve(answers[i]));
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof pingBatchShardWorkflow>();
}
