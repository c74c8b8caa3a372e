import type { Decision } from '../model/decision';

/** One (experiment, decision) an experiment touched: what `experiment_exposures` stores with the decision (ADR 0017). */
export interface Exposure {
  experiment_id: string;
  arm_id: string;
  holdout: boolean;
  /** Shown: the arm's actions were shown, or (holdout) fatigue granted them and they were withheld. */
  shown: boolean;
  /** The shown actions outcomes are joined on. */
  action_ids: string[];
}

/** From the stored decision: its actions and suppressions that carry an experiment arm. */
export function exposuresOf(decision: Pick<Decision, 'actions' | 'suppressed'>): Exposure[] {
  const byExperiment = new Map<string, Exposure>();
  const entry = (ref: { experiment_id: string; arm_id: string }) => {
    let e = byExperiment.get(ref.experiment_id);
    if (!e) byExperiment.set(ref.experiment_id, (e = { experiment_id: ref.experiment_id, arm_id: ref.arm_id, holdout: false, shown: false, action_ids: [] }));
    return e;
  };
  for (const a of decision.actions) {
    if (!a.experiment) continue;
    const e = entry(a.experiment);
    e.shown = true;
    e.action_ids.push(a.action_id);
  }
  for (const s of decision.suppressed) {
    if (!s.experiment) continue;
    const e = entry(s.experiment);
    if (s.reason === 'experiment_holdout') e.holdout = e.shown = true;
  }
  return [...byExperiment.values()];
}
