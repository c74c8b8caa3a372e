import { proxyLocalActivities, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { planActions, decisionOutcome } from '../../domain/action-planning';
import { applyFatigueVerdicts, receiptPayload } from '../../domain/decision-assembly';
import type { Decision } from '../../domain/model/decision';
import { matchPlaybooks } from '../../domain/playbook-matching';
import { OUTCOME_ATTR } from '../../temporal/search-attributes';
import type { DecideWorkflowInput } from './contract';

/**
 * Local activities: the whole decision runs inside the first workflow task, with no activity task round trips and a
 * history of a dozen events. Each step is short; retries are quick and few so a decision stays within its budget.
 */
const fast = proxyLocalActivities<Activities>({
  startToCloseTimeout: '2 seconds',
  localRetryThreshold: '1 second',
  retry: { initialInterval: '20 milliseconds', backoffCoefficient: 2, maximumInterval: '200 milliseconds', maximumAttempts: 3 },
});

/** Mentor and multiplier delivery come in a later release; until then matched ones are suppressed as not_supported. */
const SUPPORTED_ACTION_TYPES = ['mirror'] as const;

export async function decideWorkflow(input: DecideWorkflowInput): Promise<Decision> {
  const { request } = input;
  const decisionId = `dec_${uuid4()}`;
  const now = new Date();

  const ctx = await fast.loadDecisionContext({ tenant_id: request.tenant_id, actor_id: request.actor_id });

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

  const degradedReasons = [...ctx.degraded_reasons];
  let verdicts: Parameters<typeof applyFatigueVerdicts>[1] = [];
  if (plan.candidates.length > 0) {
    const reserved = await fast.reserveNudges({
      tenant_id: request.tenant_id,
      actor_id: request.actor_id,
      decision_id: decisionId,
      now: now.getTime(),
      window_ms: ctx.policy.window_minutes * 60_000,
      max: ctx.policy.max_nudges_per_window,
      candidates: plan.candidates.map((c) => ({ key: c.cooldown_key, cooldown_ms: c.cooldown_ms })),
    });
    if (reserved.available) verdicts = reserved.verdicts;
    else {
      verdicts = 'unavailable';
      degradedReasons.push('fatigue_store_unavailable');
    }
  }
  const { actions, suppressed } = applyFatigueVerdicts(plan, verdicts);
  const outcome = decisionOutcome(actions, suppressed);
  const { workflowId } = workflowInfo();

  const decision = await fast.recordDecision({
    decision: {
      decision_id: decisionId,
      tenant_id: request.tenant_id,
      actor_id: request.actor_id,
      created_at: now.toISOString(),
      context: {
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
      },
      actions,
      suppressed,
      outcome,
      policy_snapshot_id: ctx.policy.policy_snapshot_id,
      degraded_mode: degradedReasons.length > 0,
      degraded_reasons: degradedReasons,
      workflow_id: workflowId,
    },
    surface: request.surface,
    idempotencyKey: input.idempotency_key,
    requestSha256: input.request_sha256,
    receiptPayload: receiptPayload({
      request, outcome, actions, suppressed, policySnapshotId: ctx.policy.policy_snapshot_id, degradedReasons, workflowId,
    }),
    received_at_ms: input.received_at_ms,
  });

  upsertSearchAttributes([{ key: OUTCOME_ATTR, value: decision.outcome }]);
  return decision;
}
