import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, currentUpdateInfo, setHandler, workflowInfo } from '@temporalio/workflow';
import type { DecideWorkflowInput } from './contract';
import { ALL_ACTION_TYPES, runDecision } from './decide-steps';
import { decideUpdate, SHARD_DRAINING, WRONG_TENANT, type DecisionShardInput } from './messages';

/**
 * The long-lived decision workflow of one (tenant, shard) (ADR 0010). Each decision is an Update whose handler runs
 * the steps decideWorkflow ran (two local activities and pure planning), so a decision costs the server one Update
 * instead of a whole workflow; Updates that arrive while a workflow task runs are delivered together in the next one.
 *
 * A run accepts at most `max_decisions_per_run` decisions (the server allows 2,000 Updates per run) or until the
 * server suggests continuing as new; it then refuses new Updates in the validator (nothing is recorded, the client
 * sends them again and reaches the next run), lets the handlers in flight finish, and continues as new.
 */
export async function decisionShardWorkflow(input: DecisionShardInput): Promise<void> {
  let accepted = 0;
  let draining = false;
  const full = () => accepted >= input.max_decisions_per_run || workflowInfo().continueAsNewSuggested;

  setHandler(
    decideUpdate,
    (decision: DecideWorkflowInput) => {
      accepted++;
      const info = workflowInfo();
      return runDecision(decision, {
        supportedTypes: ALL_ACTION_TYPES,
        followUps: true,
        alertDelivery: () => true,
        onceOnly: true,
        recordedAt: { workflow_id: info.workflowId, workflow_run_id: info.runId, update_id: currentUpdateInfo()?.id ?? decision.decision_id },
      });
    },
    {
      // Validators run only when an Update arrives, never on replay: refusing here leaves no trace in the history.
      validator: (decision: DecideWorkflowInput) => {
        if (draining || full()) throw ApplicationFailure.create({ type: SHARD_DRAINING, message: 'this run is continuing as new; send the decision again', nonRetryable: true });
        if (decision.request.tenant_id !== input.tenant_id)
          throw ApplicationFailure.create({ type: WRONG_TENANT, message: `this shard decides for tenant ${input.tenant_id}`, nonRetryable: true });
      },
    },
  );

  await condition(full);
  draining = true;
  await condition(allHandlersFinished);
  await continueAsNew<typeof decisionShardWorkflow>(input);
}
