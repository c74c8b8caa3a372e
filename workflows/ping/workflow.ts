import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, defineUpdate, setHandler, workflowInfo } from '@temporalio/workflow';

/**
 * A workflow that does nothing but complete: the floor of a Temporal round trip on this deployment. The bench
 * compares decideWorkflow against it, and ops can start it to check that workers are polling the queue.
 */
export async function pingWorkflow(): Promise<string> {
  return 'pong';
}

/** The floor of ADR 0012's design: an Update into a long-lived workflow whose handler does nothing. */
export const pingUpdate = defineUpdate<number, [number]>('ping');

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
    {
      validator: (_n: number) => {
        if (accepted >= 1000 || workflowInfo().continueAsNewSuggested) throw ApplicationFailure.create({ type: 'PingShardDraining', nonRetryable: true });
      },
    },
  );
  await condition(() => accepted >= 1000 || workflowInfo().continueAsNewSuggested);
  await condition(allHandlersFinished);
  await continueAsNew<typeof pingShardWorkflow>();
}
