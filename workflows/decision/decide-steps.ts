/**
 * The steps of a decision, shared by decisionShardWorkflow (which runs them for a batch of Updates at once) and the
 * legacy decideWorkflow (kept registered so decisions started before ADR 0012 drain): context, pure matching and
 * planning, the commit input, the follow-up workflows of the shown actions.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { proxyLocalActivities, startChild, uuid4 } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { CommitDecisionInput } from '../../activities/decisions/decision-activities';
import { planActions, type ActionPlan } from '../../domain/action-planning';
import { alertsToDeliver } from '../../domain/alerting';
import { planMultiplierActions, type ApprovalTask } from '../../domain/approval/approval-planning';
import { hasMentorCandidates, planMentorActions, type MentorEnrichmentTask } from '../../domain/mentor/mentor-planning';
import type { ActionType } from '../../domain/model/common';
import type { DecisionContext, DecisionRef } from '../../domain/model/decision';
import { REQUEST_TRIGGER_KIND } from '../../domain/model/constants';
import { matchPlaybooks } from '../../domain/playbook-matching';
import { assignArms, tagExperimentCandidates, withArm } from '../../domain/experiments/arm-planning';
import { alertDeliveryWorkflowId, approvalWorkflowId, mentorEnrichmentWorkflowId } from '../../temporal/workflow-ids';
import type { LoadContextInput, LoadedContext } from '../../activities/context/context-activities';
import type { alertDeliveryWorkflow } from '../alerts/workflow';
import type { dualChannelApprovalWorkflow } from '../approval/workflow';
import type { mentorEnrichmentWorkflow } from '../mentor/workflow';
import type { DecideWorkflowInput } from './contract';

/**
 * Local activities: a decision runs inside one workflow task, with no activity task round trips. Retries are quick and
 * few so a decision stays within its latency budget.
 */
export const fast = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 seconds',
  localRetryThreshold: '1 second',
  retry: { initialInterval: '20 milliseconds', backoffCoefficient: 2, maximumInterval: '200 milliseconds', maximumAttempts: 3 },
});

export const ALL_ACTION_TYPES: ActionType[] = ['mirror', 'mentor', 'multiplier'];

export type GatewayStatus = Awaited<ReturnType<Activities['mentorGatewayStatus']>>;

export interface FollowUps {
  mentor: MentorEnrichmentTask[];
  approvals: ApprovalTask[];
  degraded_reasons: string[];
}
const NO_FOLLOW_UPS: FollowUps = { mentor: [], approvals: [], degraded_reasons: [] };

/** Where a decision is recorded in Temporal, stored with the decision for ops. */
export interface RecordedAt {
  workflow_id: string;
  workflow_run_id: string | null;
  update_id: string | null;
}

export function contextInput(input: DecideWorkflowInput): LoadContextInput {
  const { request } = input;
  return {
    tenant_id: request.tenant_id,
    actor_id: request.actor_id,
    trigger_kind: request.signal?.kind ?? REQUEST_TRIGGER_KIND,
    ...(input.traceparent ? { traceparent: input.traceparent } : {}),
  };
}

/**
 * Which playbooks match, the arm each active experiment gives this actor (its overrides laid over the playbook), and
 * which of their actions may be shown (policy, preferences, quiet hours): an arm is judged by the same rules, and
 * fatigue follows in the commit (ADR 0017).
 */
export function basePlanOf(input: DecideWorkflowInput, ctx: LoadedContext, now: Date, supportedTypes: ActionType[]) {
  const matched = matchPlaybooks(ctx.playbooks, input.request);
  // thompson draws use the workflow's Math.random, which Temporal seeds per run and replays identically; decisions of
  // a batch are planned in acceptance order, so the draws are too. No experiment, no draw (older histories unchanged).
  // eslint-disable-next-line no-restricted-properties -- the workflow sandbox's deterministic Math.random
  const arms = assignArms(matched, ctx.experiments ?? [], input.request.actor_id, () => Math.random());
  const steered = arms.size > 0 ? matched.map((m) => withArm(m, arms.get(m.playbook_id))) : matched;
  const plan = planActions({
    request: input.request,
    matched: steered,
    policy: ctx.policy,
    preferences: ctx.preferences,
    now,
    newActionId: () => `act_${uuid4()}`,
    supportedTypes: [...supportedTypes],
  });
  return { matched: steered, plan: tagExperimentCandidates(plan, arms) };
}

/** The gateway's availability is read (a local activity) only when a mentor action may be enriched. */
export function wantsGateway(basePlan: ActionPlan, ctx: LoadedContext): boolean {
  return hasMentorCandidates(basePlan) && ctx.policy.llm_enabled;
}

/** Mentor actions get their template rationale and enrichment status, multiplier actions their digest and deadline. */
export function prepareActionFollowUps(
  base: ReturnType<typeof basePlanOf>,
  input: DecideWorkflowInput,
  ctx: LoadedContext,
  now: Date,
  gateway: GatewayStatus | null,
): { plan: ActionPlan; followUps: FollowUps } {
  const { request } = input;
  const mentor = planMentorActions(base.plan, { request, matched: base.matched, recent_signals: ctx.recent_signals, llm_enabled: ctx.policy.llm_enabled, gateway });
  const multiplier = planMultiplierActions(mentor.plan, { request, now, approval_timeout_minutes: ctx.policy.approval_timeout_minutes });
  return { plan: multiplier.plan, followUps: { mentor: mentor.tasks, approvals: multiplier.tasks, degraded_reasons: mentor.degraded_reasons } };
}

/** Reserve nudges against fatigue and cool-downs, store the decision and its signed receipt: what commitDecision takes. */
export function commitInputOf(
  input: DecideWorkflowInput,
  ctx: LoadedContext,
  planned: { plan: ActionPlan; followUps: FollowUps },
  now: Date,
  recordedAt: RecordedAt,
): CommitDecisionInput {
  const { request } = input;
  const { plan, followUps } = planned;
  const context: DecisionContext = {
    actor_type: request.actor_type,
    actor_roles: input.actor_roles,
    surface: request.surface,
    repo_id: request.repo_id ?? null,
    branch: request.branch ?? null,
    file_path: request.file_path ?? null,
    policy_snapshot_id: ctx.policy.policy_snapshot_id,
    quiet_hours: ctx.policy.quiet_hours,
    in_quiet_hours: plan.in_quiet_hours,
    timezone: ctx.preferences.timezone ?? ctx.policy.quiet_hours?.timezone ?? null,
    recent_signals: ctx.recent_signals,
    signal: request.signal ?? null,
  };
  return {
    decision_id: input.decision_id,
    workflow_id: recordedAt.workflow_id,
    ...(recordedAt.update_id ? { workflow_run_id: recordedAt.workflow_run_id, update_id: recordedAt.update_id } : {}),
    created_at: now.toISOString(),
    request,
    context,
    plan,
    fatigue: { window_ms: ctx.policy.window_minutes * 60_000, max: ctx.policy.max_nudges_per_window },
    degraded_reasons: [...ctx.degraded_reasons, ...followUps.degraded_reasons],
    ...(followUps.approvals.length > 0 ? { approvals: followUps.approvals } : {}),
    idempotency_key: input.idempotency_key,
    request_sha256: input.request_sha256,
    received_at_ms: input.received_at_ms,
    ...(input.dropped_fields ? { dropped_fields: input.dropped_fields } : {}),
    ...(input.traceparent ? { traceparent: input.traceparent } : {}),
  };
}

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
  const tenantId = input.request.tenant_id;
  const decisionId = input.decision_id;
  const shown = decision.action_ids ?? [];
  const alerts = alertsToDeliver({ tenant_id: tenantId, decision_id: decisionId, surface: input.request.surface, candidates: plan.candidates, shown_action_ids: shown });
  const once = opts.onceOnly ? ({ workflowIdReusePolicy: 'REJECT_DUPLICATE' } as const) : {};
  const mentorTasks = followUps.mentor.filter((t) => shown.includes(t.action_id));
  const approvals = followUps.approvals.filter((t) => shown.includes(t.action_id));
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
