import { patched, proxyLocalActivities, startChild, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { planActions, type ActionPlan } from '../../domain/action-planning';
import { alertsToDeliver, type AlertPayload } from '../../domain/alerting';
import { planMultiplierActions, type ApprovalTask } from '../../domain/approval/approval-planning';
import { hasMentorCandidates, planMentorActions, type MentorEnrichmentTask } from '../../domain/mentor/mentor-planning';
import type { ActionType } from '../../domain/model/common';
import type { DecisionContext, DecisionRef } from '../../domain/model/decision';
import { REQUEST_TRIGGER_KIND } from '../../domain/model/constants';
import { matchPlaybooks } from '../../domain/playbook-matching';
import { OUTCOME_ATTR } from '../../temporal/search-attributes';
import { alertDeliveryWorkflowId, approvalWorkflowId, mentorEnrichmentWorkflowId } from '../../temporal/workflow-ids';
import type { LoadedContext } from '../../activities/context/context-activities';
import type { alertDeliveryWorkflow } from '../alerts/workflow';
import type { dualChannelApprovalWorkflow } from '../approval/workflow';
import type { mentorEnrichmentWorkflow } from '../mentor/workflow';
import type { DecideWorkflowInput } from './contract';

/**
 * Local activities: the whole decision runs inside the first workflow task, with no activity task round trips and a
 * history of eight events. Retries are quick and few so a decision stays within its latency budget.
 */
const fast = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 seconds',
  localRetryThreshold: '1 second',
  retry: { initialInterval: '20 milliseconds', backoffCoefficient: 2, maximumInterval: '200 milliseconds', maximumAttempts: 3 },
});

/** Before MENTOR_MULTIPLIER_PATCH, mentor and multiplier actions were suppressed as not_supported. */
const SUPPORTED_ACTION_TYPES = ['mirror'] as const;
/** Mentor actions (template now, LLM enrichment after the answer) and multiplier actions (consent and approval). */
const MENTOR_MULTIPLIER_PATCH = 'mentor-multiplier-v1';
const SUPPORTED_ACTION_TYPES_V1: ActionType[] = ['mirror', 'mentor', 'multiplier'];
/** Alert-surface decisions that show actions deliver their alerts after the answer (alertDeliveryWorkflow). */
const ALERT_DELIVERY_PATCH = 'alert-delivery-v1';

export async function decideWorkflow(input: DecideWorkflowInput): Promise<DecisionRef> {
  const { request } = input;
  const decisionId = input.decision_id;
  const now = new Date();
  // Decisions recorded before mentor and multiplier delivery replay with the old supported types and no follow-ups.
  const actionsV1 = patched(MENTOR_MULTIPLIER_PATCH);

  // 1. Context: tenant policy, the actor's preferences, published playbooks, recent behavioural signals.
  const ctx = await fast.loadDecisionContext({
    tenant_id: request.tenant_id,
    actor_id: request.actor_id,
    trigger_kind: request.signal?.kind ?? REQUEST_TRIGGER_KIND,
  });

  // 2. Which playbooks match, and which of their actions may be shown (policy, preferences, quiet hours).
  const matched = matchPlaybooks(ctx.playbooks, request);
  const basePlan = planActions({
    request,
    matched,
    policy: ctx.policy,
    preferences: ctx.preferences,
    now,
    newActionId: () => `act_${uuid4()}`,
    supportedTypes: actionsV1 ? [...SUPPORTED_ACTION_TYPES_V1] : [...SUPPORTED_ACTION_TYPES],
  });
  const { plan, followUps } = actionsV1 ? await prepareActionFollowUps(basePlan, input, ctx, matched, now) : { plan: basePlan, followUps: NO_FOLLOW_UPS };

  // 3. Reserve nudges against fatigue and cool-downs, store the decision and its signed receipt.
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
  const decision = await fast.commitDecision({
    decision_id: decisionId,
    workflow_id: workflowInfo().workflowId,
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
  });

  // 4. Let ops find it by outcome.
  upsertSearchAttributes([{ key: OUTCOME_ATTR, value: decision.outcome }]);

  // 5. After the answer: mentor enrichment, the approval of each multiplier action and the delivery of alerts, as
  // their own workflows. Alerts: only for shown actions (commitDecision returns their ids on the alert surface).
  const alerts = alertsToDeliver({
    tenant_id: request.tenant_id,
    decision_id: decisionId,
    surface: request.surface,
    candidates: plan.candidates,
    shown_action_ids: decision.action_ids ?? [],
  });
  if (actionsV1) await startActionFollowUps(request.tenant_id, decisionId, decision.action_ids ?? [], followUps, alerts);
  return decision;
}

interface FollowUps {
  mentor: MentorEnrichmentTask[];
  approvals: ApprovalTask[];
  degraded_reasons: string[];
}
const NO_FOLLOW_UPS: FollowUps = { mentor: [], approvals: [], degraded_reasons: [] };

/**
 * Mentor actions get their template rationale and enrichment status, multiplier actions their digest and deadline.
 * The gateway's availability is read (a local activity) only when a mentor action may be enriched.
 */
async function prepareActionFollowUps(
  basePlan: ActionPlan,
  input: DecideWorkflowInput,
  ctx: LoadedContext,
  matched: ReturnType<typeof matchPlaybooks>,
  now: Date,
): Promise<{ plan: ActionPlan; followUps: FollowUps }> {
  const { request } = input;
  const mentorWanted = hasMentorCandidates(basePlan) && ctx.policy.llm_enabled;
  const gateway = mentorWanted ? await fast.mentorGatewayStatus() : null;
  const mentor = planMentorActions(basePlan, { request, matched, recent_signals: ctx.recent_signals, llm_enabled: ctx.policy.llm_enabled, gateway });
  const multiplier = planMultiplierActions(mentor.plan, { request, now, approval_timeout_minutes: ctx.policy.approval_timeout_minutes });
  return { plan: multiplier.plan, followUps: { mentor: mentor.tasks, approvals: multiplier.tasks, degraded_reasons: mentor.degraded_reasons } };
}

/**
 * Started only for actions that were shown (fatigue may have suppressed some). ABANDON: neither workflow is cut short
 * when the decision completes, and each sets its own execution timeout (a child would inherit the decision's 2 min).
 */
async function startActionFollowUps(tenantId: string, decisionId: string, shown: string[], followUps: FollowUps, alerts: AlertPayload[]): Promise<void> {
  const mentorTasks = followUps.mentor.filter((t) => shown.includes(t.action_id));
  const approvals = followUps.approvals.filter((t) => shown.includes(t.action_id));
  const starts: Array<Promise<unknown>> = [];
  if (mentorTasks.length > 0)
    starts.push(
      startChild<typeof mentorEnrichmentWorkflow>('mentorEnrichmentWorkflow', {
        workflowId: mentorEnrichmentWorkflowId(tenantId, decisionId),
        args: [{ tenant_id: tenantId, decision_id: decisionId, tasks: mentorTasks }],
        parentClosePolicy: 'ABANDON',
        workflowExecutionTimeout: '10 minutes',
      }),
    );
  for (const task of approvals)
    starts.push(
      startChild<typeof dualChannelApprovalWorkflow>('dualChannelApprovalWorkflow', {
        workflowId: approvalWorkflowId(tenantId, task.action_id),
        args: [{ tenant_id: tenantId, decision_id: decisionId, task }],
        parentClosePolicy: 'ABANDON',
        // The approval window plus a week for delegation retries and late readers of its status.
        workflowExecutionTimeout: Date.parse(task.expires_at) - Date.parse(task.opened_at) + 7 * 24 * 60 * 60_000,
      }),
    );
  // A history recorded before the patch has no marker, so patched() is false on its replay and no start is added: an
  // alert-surface decision with a mentor or multiplier action did return its shown action ids then.
  if (alerts.length > 0 && patched(ALERT_DELIVERY_PATCH))
    starts.push(
      startChild<typeof alertDeliveryWorkflow>('alertDeliveryWorkflow', {
        workflowId: alertDeliveryWorkflowId(tenantId, decisionId),
        args: [{ tenant_id: tenantId, decision_id: decisionId, alerts }],
        parentClosePolicy: 'ABANDON',
        // The delivery's one-hour retry window plus room for recording an alert that was not accepted.
        workflowExecutionTimeout: '2 hours',
      }),
    );
  await Promise.all(starts);
}
