import { proxyLocalActivities, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { planActions } from '../../domain/action-planning';
import type { DecisionContext, DecisionRef } from '../../domain/model/decision';
import { REQUEST_TRIGGER_KIND } from '../../domain/model/constants';
import { matchPlaybooks } from '../../domain/playbook-matching';
import { OUTCOME_ATTR } from '../../temporal/search-attributes';
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

/** Mentor and multiplier delivery come in a later release; until then matched ones are suppressed as not_supported. */
const SUPPORTED_ACTION_TYPES = ['mirror'] as const;

export async function decideWorkflow(input: DecideWorkflowInput): Promise<DecisionRef> {
  const { request } = input;
  const decisionId = input.decision_id;
  const now = new Date();

  // 1. Context: tenant policy, the actor's preferences, published playbooks, recent behavioural signals.
  const ctx = await fast.loadDecisionContext({
    tenant_id: request.tenant_id,
    actor_id: request.actor_id,
    trigger_kind: request.signal?.kind ?? REQUEST_TRIGGER_KIND,
  });

  // 2. Which playbooks match, and which of their actions may be shown (policy, preferences, quiet hours).
  const matched = matchPlaybooks(ctx.playbooks, request);
  const plan = planActions({
    request,
    matched,
    policy: ctx.policy,
    preferences: ctx.preferences,
    now,
    newActionId: () => `act_${uuid4()}`,
    supportedTypes: [...SUPPORTED_ACTION_TYPES],
  });

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
    degraded_reasons: ctx.degraded_reasons,
    idempotency_key: input.idempotency_key,
    request_sha256: input.request_sha256,
    received_at_ms: input.received_at_ms,
  });

  // 4. Let ops find it by outcome.
  upsertSearchAttributes([{ key: OUTCOME_ATTR, value: decision.outcome }]);
  return decision;
}
