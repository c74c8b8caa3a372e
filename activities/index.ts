import { createApprovalActivities, type ApprovalDeps } from './approval/approval-activities';
import { createContextActivities, type ContextDeps } from './context/context-activities';
import { createDecisionActivities, type DecisionStoreDeps } from './decisions/decision-activities';
import type { DecisionNotifier } from './decisions/decision-notifier';
import type { FatigueStore } from './fatigue/fatigue-store';
import { createMentorActivities, type MentorDeps } from './mentor/mentor-activities';

export interface ActivityDeps {
  repos: ContextDeps & DecisionStoreDeps;
  fatigueStore: FatigueStore;
  notifier?: DecisionNotifier;
  /** Mentor enrichment (LLM gateway) and multiplier approval and delegation (edge agent, CI, outbox). */
  actions?: MentorDeps & ApprovalDeps;
}

/** Every activity the decision worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createContextActivities(deps.repos),
    ...createDecisionActivities({ ...deps.repos, fatigueStore: deps.fatigueStore, notifier: deps.notifier }),
    ...createMentorActivities(deps.actions ?? {}),
    ...createApprovalActivities(deps.actions ?? {}),
  };
}
export type Activities = ReturnType<typeof createActivities>;
