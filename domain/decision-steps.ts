/**
 * The pure steps of one decision (ADR 0001, ADR 0012), shared by the shard workflow's local activity that decides a
 * whole batch (activities/decisions/decide-batch-activity.ts) and by the workflow code that replays batches and
 * decisions recorded before it (workflows/decision/decide-steps.ts): what the context read asks for, matching and
 * planning, the commit input, and which follow-up workflows the shown actions get. Randomness (action ids, experiment
 * draws) comes in from the caller: the workflow's deterministic generator, or one seeded by the workflow.
 */
import { planActions, type ActionPlan } from './action-planning';
import { alertsToDeliver, type AlertPayload } from './alerting';
import { planMultiplierActions, type ApprovalTask } from './approval/approval-planning';
import { assignArms, tagExperimentCandidates, withArm, type ActiveExperiment } from './experiments/arm-planning';
import { hasMentorCandidates, planMentorActions, type MentorEnrichmentTask } from './mentor/mentor-planning';
import type { ActionType } from './model/common';
import { REQUEST_TRIGGER_KIND } from './model/constants';
import type { DecideRequest, DecisionContext, DecisionRef } from './model/decision';
import type { PublishedPlaybook } from './model/playbook';
import type { TenantPolicy } from './model/policy';
import type { Preferences } from './model/preferences';
import type { RecentSignal } from './model/signal';
import { matchPlaybooks } from './playbook-matching';

/** What a decision is asked with (workflows/decision/contract.ts's DecideWorkflowInput has this shape). */
export interface DecisionInput {
  decision_id: string;
  request: DecideRequest;
  actor_roles: string[];
  received_at_ms: number;
  idempotency_key: string | null;
  request_sha256: string;
  dropped_fields?: string[];
  traceparent?: string;
}

export interface LoadContextInput {
  tenant_id: string;
  actor_id: string;
  /** The signal's kind, or "request" for a surface request without a signal. */
  trigger_kind: string;
  /** The decision's trace (ADR 0015): its context is read under it. */
  traceparent?: string;
}

export interface LoadedContext {
  policy: TenantPolicy;
  preferences: Preferences;
  playbooks: PublishedPlaybook[];
  recent_signals: RecentSignal[];
  degraded_reasons: string[];
  /** The active experiments of those playbooks (ADR 0017); absent from contexts recorded before them, and when none. */
  experiments?: ActiveExperiment[];
}

/** One item of a batch activity that failed on its own: the workflow fails that decision's Update with it. */
export interface BatchItemError {
  error: string;
}

export const isBatchItemError = (r: unknown): r is BatchItemError => typeof r === 'object' && r !== null && 'error' in r;

export interface CommitDecisionInput {
  decision_id: string;
  workflow_id: string;
  /** Set by decisionShardWorkflow: the run and the Update that make this decision (ADR 0012). */
  workflow_run_id?: string | null;
  update_id?: string;
  created_at: string;
  request: DecideRequest;
  context: DecisionContext;
  plan: ActionPlan;
  fatigue: { window_ms: number; max: number };
  degraded_reasons: string[];
  idempotency_key: string | null;
  request_sha256: string;
  received_at_ms: number;
  /** Request fields the privacy filter removed before the decision (names only, ADR 0013). */
  dropped_fields?: string[];
  /** Multiplier actions of the plan, opened for consent when shown. */
  approvals?: ApprovalTask[];
  /** The decision's trace (ADR 0015): its id is stored with the decision, its reservation made under it. */
  traceparent?: string;
}

export const ALL_ACTION_TYPES: ActionType[] = ['mirror', 'mentor', 'multiplier'];

/** Whether this deployment has an LLM gateway (and its breaker is not open). */
export interface GatewayStatus {
  configured: boolean;
  circuit_open: boolean;
}

export interface FollowUps {
  mentor: MentorEnrichmentTask[];
  approvals: ApprovalTask[];
  degraded_reasons: string[];
}
export const NO_FOLLOW_UPS: FollowUps = { mentor: [], approvals: [], degraded_reasons: [] };

/** The follow-up workflows a committed decision starts: only for the actions it showed (fatigue may drop some). */
export interface FollowUpStarts {
  mentor: MentorEnrichmentTask[];
  approvals: ApprovalTask[];
  alerts: AlertPayload[];
}

/** Where a decision is recorded in Temporal, stored with the decision for ops. */
export interface RecordedAt {
  workflow_id: string;
  workflow_run_id: string | null;
  update_id: string | null;
}

/** Where the randomness of planning comes from: uniform draws (experiment arms) and action ids. */
export interface PlanningRandomness {
  uniform: () => number;
  actionId: () => string;
}

export function contextInput(input: DecisionInput): LoadContextInput {
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
 * fatigue follows in the commit (ADR 0017). No experiment, no draw.
 */
export function basePlanOf(input: DecisionInput, ctx: LoadedContext, now: Date, supportedTypes: ActionType[], random: PlanningRandomness) {
  const matched = matchPlaybooks(ctx.playbooks, input.request);
  const arms = assignArms(matched, ctx.experiments ?? [], input.request.actor_id, random.uniform);
  const steered = arms.size > 0 ? matched.map((m) => withArm(m, arms.get(m.playbook_id))) : matched;
  const plan = planActions({
    request: input.request,
    matched: steered,
    policy: ctx.policy,
    preferences: ctx.preferences,
    now,
    newActionId: random.actionId,
    supportedTypes: [...supportedTypes],
  });
  return { matched: steered, plan: tagExperimentCandidates(plan, arms) };
}

/** The gateway's availability is read only when a mentor action may be enriched. */
export function wantsGateway(basePlan: ActionPlan, ctx: LoadedContext): boolean {
  return hasMentorCandidates(basePlan) && ctx.policy.llm_enabled;
}

/** Mentor actions get their template rationale and enrichment status, multiplier actions their digest and deadline. */
export function prepareActionFollowUps(
  base: ReturnType<typeof basePlanOf>,
  input: DecisionInput,
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
  input: DecisionInput,
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

/** The follow-ups of the actions a committed decision showed (`decision.action_ids`, set by the commit). */
export function followUpStartsOf(input: DecisionInput, plan: ActionPlan, followUps: FollowUps, decision: DecisionRef): FollowUpStarts {
  const shown = decision.action_ids ?? [];
  return {
    mentor: followUps.mentor.filter((t) => shown.includes(t.action_id)),
    approvals: followUps.approvals.filter((t) => shown.includes(t.action_id)),
    alerts: alertsToDeliver({ tenant_id: input.request.tenant_id, decision_id: input.decision_id, surface: input.request.surface, candidates: plan.candidates, shown_action_ids: shown }),
  };
}
