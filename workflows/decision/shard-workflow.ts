import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, currentUpdateInfo, patched, proxyLocalActivities, setHandler, sleep, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { BatchItemError, LoadedContext } from '../../activities/context/context-activities';
import type { DecisionRef } from '../../domain/model/decision';
import type { DecideWorkflowInput } from './contract';
import {
  ALL_ACTION_TYPES,
  basePlanOf,
  commitInputOf,
  contextInput,
  fast,
  prepareActionFollowUps,
  startActionFollowUps,
  startFollowUps,
  wantsGateway,
  type RecordedAt,
} from './decide-steps';
import { decideUpdate, SHARD_DRAINING, WRONG_TENANT, type DecisionShardInput } from './messages';

/** Application failure type of one decision that could not be made (its context or its commit failed). */
export const DECISION_FAILED = 'DecisionFailed';

interface Pending {
  input: DecideWorkflowInput;
  recordedAt: RecordedAt;
  settle(result: DecisionRef | BatchItemError): void;
}

/**
 * The long-lived decision workflow of one (tenant, shard) (ADR 0012). Each decision is an Update; the Updates that
 * arrive together (in one workflow task) are decided as one batch by the workflow's main loop: one local activity
 * reads every context, pure planning per decision, one local activity commits them all, then the follow-up workflows
 * start in acceptance order. Batches run one after another, so the commands of a workflow task never depend on which
 * local activity happened to finish first: replay sees the same order (concurrent handlers each running their own
 * local activities did not, tests/replay/shard-replay.test.ts).
 *
 * A run accepts at most `max_decisions_per_run` decisions (the server allows 2,000 Updates per run), until the
 * server suggests continuing as new, or until it is `max_run_age_ms` old (so shards spread over the workers there are); it then refuses new Updates in the validator (nothing is recorded, the client
 * sends them again and reaches the next run), decides what it holds, and continues as new.
 */
export async function decisionShardWorkflow(input: DecisionShardInput): Promise<void> {
  let accepted = 0;
  let aged = false;
  const pending: Pending[] = [];
  // An aged run that has decided nothing stays: idle shards must not continue as new forever.
  const full = () => (aged && accepted > 0) || accepted >= input.max_decisions_per_run || workflowInfo().continueAsNewSuggested;
  // One timer per run (histories recorded before it replay without it).
  if (input.max_run_age_ms && patched('decision-shard-max-run-age'))
    void sleep(input.max_run_age_ms).then(() => {
      aged = true;
    });

  setHandler(
    decideUpdate,
    (decision: DecideWorkflowInput) => {
      accepted++;
      const info = workflowInfo();
      const recordedAt = { workflow_id: info.workflowId, workflow_run_id: info.runId, update_id: currentUpdateInfo()?.id ?? decision.decision_id };
      return new Promise<DecisionRef>((resolve, reject) => {
        pending.push({
          input: decision,
          recordedAt,
          settle: (r) => ('error' in r ? reject(ApplicationFailure.create({ type: DECISION_FAILED, message: r.error, nonRetryable: true })) : resolve(r)),
        });
      });
    },
    {
      // Validators run only when an Update arrives, never on replay: refusing here leaves no trace in the history.
      validator: (decision: DecideWorkflowInput) => {
        if (full()) throw ApplicationFailure.create({ type: SHARD_DRAINING, message: 'this run is continuing as new; send the decision again', nonRetryable: true });
        if (decision.request.tenant_id !== input.tenant_id)
          throw ApplicationFailure.create({ type: WRONG_TENANT, message: `this shard decides for tenant ${input.tenant_id}`, nonRetryable: true });
      },
    },
  );

  for (;;) {
    await condition(() => pending.length > 0 || full());
    if (pending.length === 0) break;
    const batch = pending.splice(0);
    // Runs recorded before it replay their batches as two local activities with planning in the workflow.
    await (patched('decision-shard-one-activity') ? decideInOneActivity(batch) : decideBatch(batch));
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof decisionShardWorkflow>(input);
}

const isError = (r: unknown): r is BatchItemError => typeof r === 'object' && r !== null && 'error' in r;

/**
 * Context, planning and commit of a whole batch in one local activity (its time limit covers the context's budgets,
 * 1.5 s at most, and the commit). Each decision's seed comes from the workflow's generator, so a task that runs the
 * batch again plans the same action ids.
 */
const batchActivity = proxyLocalActivities<Activities>({
  startToCloseTimeout: '4 seconds',
  localRetryThreshold: '1 second',
  retry: { initialInterval: '20 milliseconds', backoffCoefficient: 2, maximumInterval: '200 milliseconds', maximumAttempts: 3 },
});

/** One batch in one local activity; then the follow-ups start in acceptance order and every Update is answered. */
async function decideInOneActivity(batch: Pending[]): Promise<void> {
  try {
    const results = await batchActivity.decideBatch({
      now: new Date().toISOString(),
      items: batch.map((p) => ({ input: p.input, recorded_at: p.recordedAt, seed: uuid4() })),
    });
    const starts: Array<Promise<unknown>> = [];
    batch.forEach((p, i) => {
      const r = results[i];
      if (!isError(r) && r.follow_ups) starts.push(...startFollowUps(p.input, r.follow_ups, { alertDelivery: () => true, onceOnly: true }));
    });
    if (starts.length > 0) await Promise.all(starts);
    batch.forEach((p, i) => {
      const r = results[i];
      p.settle(isError(r) ? r : r.ref);
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    for (const p of batch) p.settle({ error: message });
  }
}

/** One batch as runs recorded before decideInOneActivity have it: every item is settled, whatever fails (a failed activity fails its decisions, never the workflow). */
async function decideBatch(batch: Pending[]): Promise<void> {
  try {
    const now = new Date();
    const contexts = await fast.loadDecisionContexts(batch.map((p) => contextInput(p.input)));
    const planned = batch.map((p, i) => {
      const ctx = contexts[i];
      return isError(ctx) ? { p, error: ctx } : { p, ctx, base: basePlanOf(p.input, ctx, now, ALL_ACTION_TYPES) };
    });
    // One gateway check for the batch, and only when some mentor action may be enriched.
    const wanted = planned.map((d) => !d.error && wantsGateway(d.base.plan, d.ctx as LoadedContext));
    const gateway = wanted.some(Boolean) ? await fast.mentorGatewayStatus() : null;
    const ready = planned.map((d, i) => (d.error ? d : { ...d, prepared: prepareActionFollowUps(d.base, d.p.input, d.ctx as LoadedContext, now, wanted[i] ? gateway : null) }));
    const toCommit = ready.filter((d) => !d.error);
    const refs = toCommit.length > 0 ? await fast.commitDecisions(toCommit.map((d) => commitInputOf(d.p.input, d.ctx as LoadedContext, d.prepared!, now, d.p.recordedAt))) : [];
    const starts: Array<Promise<unknown>> = [];
    toCommit.forEach((d, i) => {
      const ref = refs[i];
      if (!isError(ref)) starts.push(...startActionFollowUps(d.p.input, d.prepared!.plan, d.prepared!.followUps, ref, { alertDelivery: () => true, onceOnly: true }));
    });
    if (starts.length > 0) await Promise.all(starts);
    for (const d of ready) if (d.error) d.p.settle(d.error);
    toCommit.forEach((d, i) => d.p.settle(refs[i]));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    for (const p of batch) p.settle({ error: message });
  }
}
