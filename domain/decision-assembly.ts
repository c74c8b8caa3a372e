import { FATIGUE_VERDICT_REASON, type FatigueVerdict } from './fatigue';
import type { ActionPlan } from './action-planning';
import type { Action, DecisionOutcome, Suppressed } from './model/decision';
import type { DecideRequest } from './model/decision';

/** Surface latency budgets (NFR-1): IDE p95 150 ms, CI p95 500 ms; PR comments share CI's, alerts IDE's urgency. */
export const SURFACE_BUDGET_MS: Record<DecideRequest['surface'], number> = { ide: 150, ci: 500, pr: 500, alert: 150 };

export function isOverBudget(surface: DecideRequest['surface'], latencyMs: number): boolean {
  return latencyMs > SURFACE_BUDGET_MS[surface];
}

/**
 * Joins the plan with the fatigue store's verdicts (one per candidate, same order). When the store could not answer,
 * nothing is shown: showing nudges without knowing how many the actor already had is the unsafe choice (NFR-6).
 * A holdout candidate that fatigue grants is withheld (`experiment_holdout`, ADR 0017). Shown actions get the actor's
 * remaining nudge budget in `payload.why`.
 */
export function applyFatigueVerdicts(
  plan: ActionPlan,
  verdicts: FatigueVerdict[] | 'unavailable',
  budget: { remaining: number | null; max: number; window_minutes: number } | null = null,
): { actions: Action[]; suppressed: Suppressed[] } {
  const actions: Action[] = [];
  const suppressed: Suppressed[] = [...plan.suppressed];
  plan.candidates.forEach((c, i) => {
    const verdict = verdicts === 'unavailable' ? 'unavailable' : verdicts[i];
    const experiment = c.action.experiment ? { experiment: c.action.experiment } : {};
    if (verdict === 'granted' && !c.holdout) {
      const why = c.action.payload.why;
      actions.push(why && budget ? { ...c.action, payload: { ...c.action.payload, why: { ...why, nudge_budget: budget } } } : c.action);
      return;
    }
    suppressed.push({
      playbook_id: c.action.playbook_id,
      playbook_version: c.action.playbook_version,
      action_type: c.action.type,
      reason: verdict === 'granted' ? 'experiment_holdout' : verdict === 'cooldown' || verdict === 'fatigue_limit' ? FATIGUE_VERDICT_REASON[verdict] : 'fatigue_unavailable',
      ...experiment,
    });
  });
  return { actions, suppressed };
}

/**
 * What a receipt says: what was decided and why, with no text a person wrote and no identifier beyond the actor id
 * (NFR-3). Titles and bodies are left out; the playbook version pins them.
 */
export function receiptPayload(args: {
  request: DecideRequest;
  outcome: DecisionOutcome;
  actions: Action[];
  suppressed: Suppressed[];
  policySnapshotId: string;
  degradedReasons: string[];
  workflowId: string;
}): Record<string, unknown> {
  return {
    actor_id: args.request.actor_id,
    actor_type: args.request.actor_type,
    surface: args.request.surface,
    signal: args.request.signal
      ? { signal_id: args.request.signal.signal_id, source: args.request.signal.source, kind: args.request.signal.kind, severity: args.request.signal.severity }
      : null,
    outcome: args.outcome,
    policy_snapshot_id: args.policySnapshotId,
    actions: args.actions.map((a) => ({
      action_id: a.action_id,
      type: a.type,
      playbook_id: a.playbook_id,
      playbook_version: a.playbook_version,
      surfaces: a.surfaces,
      // FR-9: the receipt says which experiment arm steered the action (absent when none did).
      ...(a.experiment ? { experiment: a.experiment } : {}),
    })),
    suppressed: args.suppressed.map((s) => ({ playbook_id: s.playbook_id, playbook_version: s.playbook_version, reason: s.reason, ...(s.experiment ? { experiment: s.experiment } : {}) })),
    degraded_reasons: args.degradedReasons,
    workflow_id: args.workflowId,
  };
}
