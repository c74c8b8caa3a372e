/**
 * The steps of a decision, shared by decisionShardWorkflow (which runs them for a batch of Updates at once) and the
 * legacy decideWorkflow (kept registered so decisions started before ADR 0012 drain): context, pure matching and
 * planning, the commit input, the follow-up workflows of the shown actions.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { proxyLocalActivities, startChild, uuid4 } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ActionType } from '../../domain/model/common';
import type { DecisionRef } from '../../domain/model/decision';
import {
  basePlanOf as planWith,
  commitInputOf,
  contextInput,
  followUpStartsOf,
  NO_FOLLOW_UPS,
  prepareActionFollowUps,
  wantsGateway,
  type DecisionInput,
  type FollowUps,
  type FollowUpStarts,
  type LoadedContext,
  type RecordedAt,
} from '../../domain/decision-steps';
import type { ActionPlan } from '../../domain/action-planning';
import { alertDeliveryWorkflowId, approvalWorkflowId, mentorEnrichmentWorkflowId } from '../../temporal/workflow-ids';
import type { alertDeliveryWorkflow } from '../alerts/workflow';
import type { dualChannelApprovalWorkflow } from '../approval/workflow';
import type { mentorEnrichmentWorkflow } from '../mentor/workflow';
import type { DecideWorkflowInput } from './contract';

export { ALL_ACTION_TYPES, commitInputOf, contextInput, prepareActionFollowUps, wantsGateway, type RecordedAt } from '../../domain/decision-steps';

/**
 * Local activities: a decision runs inside one workflow task, with no activity task round trips. Retries are quick and
 * few so a decision stays within its latency budget.
 */
export const fast = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 seconds',
  localRetryThreshold: '1 second',
  retry: { initialInterval: '20 milliseconds', backoffCoefficient: 2, maximumInterval: '200 milliseconds', maximumAttempts: 3 },
});

export interface FollowUpOptions {
  /** Whether shown alert-surface actions get their alertDeliveryWorkflow (a patch in decideWorkflow). */
  alertDelivery: () => boolean;
  /**
   * Follow-ups are started at most once per workflow id (REJECT_DUPLICATE) and one already started is joined: in a
   * shard, the same decision may run twice (a retry that reached the next run while the first was still in flight).
   */
  onceOnly: boolean;
}

/**
 * Planning in the workflow (decideWorkflow, and shard batches recorded before the one-activity batch): thompson draws
 * use the workflow's Math.random, which Temporal seeds per run and replays identically; decisions of a batch are
 * planned in acceptance order, so the draws are too. Action ids come from the workflow's uuid4.
 */
export function basePlanOf(input: DecideWorkflowInput, ctx: LoadedContext, now: Date, supportedTypes: ActionType[]) {
  // eslint-disable-next-line no-restricted-properties -- the workflow sandbox's deterministic Math.random
  return planWith(input, ctx, now, supportedTypes, { uniform: () => Math.random(), actionId: () => `act_${uuid4()}` });
}

/**
 * After the answer: mentor enrichment, the approval of each multiplier action and the delivery of alerts, as their own
 * workflows, started only for actions that were shown (fatigue may have suppressed some; commitDecision returns their
 * ids). ABANDON: none is cut short when its parent closes, and each sets its own execution timeout.
 */
export function startActionFollowUps(
  input: DecideWorkflowInput,
  plan: ActionPlan,
  followUps: FollowUps,
  decision: DecisionRef,
  opts: FollowUpOptions,
): Array<Promise<unknown>> {
  return startFollowUps(input, followUpStartsOf(input, plan, followUps, decision), opts);
}

/** The follow-up workflows of one committed decision, in the order every history has them: mentor, approvals, alert. */
export function startFollowUps(input: DecisionInput, toStart: FollowUpStarts, opts: FollowUpOptions): Array<Promise<unknown>> {
  const tenantId = input.request.tenant_id;
  const decisionId = input.decision_id;
  const { mentor: mentorTasks, approvals, alerts } = toStart;
  const once = opts.onceOnly ? ({ workflowIdReusePolicy: 'REJECT_DUPLICATE' } as const) : {};
  const starts: Array<Promise<unknown>> = [];
  if (mentorTasks.length > 0)
    starts.push(
      startChild<typeof mentorEnrichmentWorkflow>('mentorEnrichmentWorkflow', {
        workflowId: mentorEnrichmentWorkflowId(tenantId, decisionId),
        args: [{ tenant_id: tenantId, decision_id: decisionId, tasks: mentorTasks }],
        parentClosePolicy: 'ABANDON',
        ...once,
        workflowExecutionTimeout: '10 minutes',
      }),
    );
  for (const task of approvals)
    starts.push(
      startChild<typeof dualChannelApprovalWorkflow>('dualChannelApprovalWorkflow', {
        workflowId: approvalWorkflowId(tenantId, task.action_id),
        args: [{ tenant_id: tenantId, decision_id: decisionId, task }],
        parentClosePolicy: 'ABANDON',
        ...once,
        // The approval window plus a week for delegation retries and late readers of its status.
        workflowExecutionTimeout: Date.parse(task.expires_at) - Date.parse(task.opened_at) + 7 * 24 * 60 * 60_000,
      }),
    );
  // decideWorkflow: a history recorded before the patch has no marker, so the patch is false on its replay and no
  // start is added (an alert-surface decision with a mentor or multiplier action did return its shown action ids then).
  if (alerts.length > 0 && opts.alertDelivery())
    starts.push(
      startChild<typeof alertDeliveryWorkflow>('alertDeliveryWorkflow', {
        workflowId: alertDeliveryWorkflowId(tenantId, decisionId),
        args: [{ tenant_id: tenantId, decision_id: decisionId, alerts }],
        parentClosePolicy: 'ABANDON',
        ...once,
        // The delivery's one-hour retry window plus room for recording an alert that was not accepted.
        workflowExecutionTimeout: '2 hours',
      }),
    );
  return opts.onceOnly ? starts.map((p) => p.catch(joinStarted)) : starts;
}

/** A follow-up that an earlier run of the same decision started already is that decision's: nothing to add. */
function joinStarted(err: unknown): void {
  if (err instanceof WorkflowExecutionAlreadyStartedError) return;
  throw err;
}

/** decideWorkflow's options: what differs between its histories (patches) and where the decision is recorded. */
export interface SingleDecisionSteps extends FollowUpOptions {
  supportedTypes: ActionType[];
  /** Mentor and multiplier follow-ups (false only when replaying decideWorkflow histories older than them). */
  followUps: boolean;
  recordedAt: RecordedAt;
  /** Called right after the commit, before the follow-ups (decideWorkflow's outcome search attribute). */
  afterCommit?: (ref: DecisionRef) => void;
}

/** One decision on its own, in decideWorkflow's command order: context, [gateway], commit, [search attribute], follow-ups. */
export async function runDecision(input: DecideWorkflowInput, steps: SingleDecisionSteps): Promise<DecisionRef> {
  const now = new Date();
  const ctx = await fast.loadDecisionContext(contextInput(input));
  const base = basePlanOf(input, ctx, now, steps.supportedTypes);
  const planned = steps.followUps
    ? prepareActionFollowUps(base, input, ctx, now, wantsGateway(base.plan, ctx) ? await fast.mentorGatewayStatus() : null)
    : { plan: base.plan, followUps: NO_FOLLOW_UPS };
  const decision = await fast.commitDecision(commitInputOf(input, ctx, planned, now, steps.recordedAt));
  steps.afterCommit?.(decision);
  if (steps.followUps) {
    const starts = startActionFollowUps(input, planned.plan, planned.followUps, decision, steps);
    if (starts.length > 0) await Promise.all(starts);
  }
  return decision;
}
