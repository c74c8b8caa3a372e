import { createContextActivities, type ContextDeps } from './context/context-activities';
import { createDecisionActivities, type DecisionStoreDeps } from './decisions/decision-activities';
import type { DecisionNotifier } from './decisions/decision-notifier';
import type { FatigueStore } from './fatigue/fatigue-store';
import { createUbiBaselineActivities, type UbiBaselineActivityDeps } from './ubi/baseline-activities';

export interface ActivityDeps {
  repos: ContextDeps & DecisionStoreDeps;
  fatigueStore: FatigueStore;
  notifier?: DecisionNotifier;
  /** UBI baseline recompute and retention (absent in decision-only test workers). */
  ubi?: UbiBaselineActivityDeps;
}

/** Every activity the decision worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createContextActivities(deps.repos),
    ...createDecisionActivities({ ...deps.repos, fatigueStore: deps.fatigueStore, notifier: deps.notifier }),
    ...(deps.ubi ? createUbiBaselineActivities(deps.ubi) : {}),
  };
}
export type Activities = ReturnType<typeof createActivities>;
