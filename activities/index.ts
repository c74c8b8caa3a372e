import { createAlertActivities, type AlertActivityDeps } from './alerts/alert-activities';
import { createApprovalActivities, type ApprovalDeps } from './approval/approval-activities';
import { createContextActivities, type ContextDeps, type ContextServices } from './context/context-activities';
import { createDecideBatchActivity } from './decisions/decide-batch-activity';
import { createDecisionActivities, type DecisionStoreDeps } from './decisions/decision-activities';
import type { DecisionNotifier } from '../lib/decision-notifier';
import { createErisActivities, type ErisActivityDeps } from './eris/eris-activities';
import { createPingActivities } from './ping/ping-activities';
import type { FatigueStore } from './fatigue/fatigue-store';
import type { PrivacyGuard } from './governance/privacy-guard';
import { createMentorActivities, type MentorDeps } from './mentor/mentor-activities';
import { createUbiBaselineActivities, type UbiBaselineActivityDeps } from './ubi/baseline-activities';
import { createRetentionActivities, type RetentionActivityDeps } from './retention/retention-activities';
import { createExperimentActivities, type ExperimentActivityDeps } from './experiments/experiment-activities';

export interface ActivityDeps {
  repos: ContextDeps & DecisionStoreDeps;
  fatigueStore: FatigueStore;
  notifier?: DecisionNotifier;
  /** Services we call (CONTRACT.md); each absent one leaves its embedded default in place. */
  external?: { context?: ContextServices; privacy?: PrivacyGuard; eris?: ErisActivityDeps };
  /** UBI baseline recompute and retention (absent in decision-only test workers). */
  ubi?: UbiBaselineActivityDeps;
  /** Mentor enrichment (LLM gateway) and multiplier approval and delegation (edge agent, CI, outbox). */
  actions?: MentorDeps & ApprovalDeps;
  /** Delivery of alert-surface decisions to the alerting service, or the outbox (absent in decision-only test workers). */
  alerts?: AlertActivityDeps;
  /** The MMM engine's retention (absent in decision-only test workers); data governance comes from `external.privacy`. */
  retention?: Omit<RetentionActivityDeps, 'privacy'>;
  /** The experiment Schedule's recompute (absent in decision-only test workers). */
  experiments?: ExperimentActivityDeps;
}

/** Every activity the decision worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  const context = createContextActivities(deps.repos, deps.external?.context);
  const decisions = createDecisionActivities({ ...deps.repos, fatigueStore: deps.fatigueStore, notifier: deps.notifier, privacy: deps.external?.privacy });
  const mentor = createMentorActivities(deps.actions ?? {});
  return {
    ...context,
    ...decisions,
    // A shard batch's context, planning and commit in one local activity (ADR 0012).
    ...createDecideBatchActivity({ loadDecisionContexts: context.loadDecisionContexts, commitDecisions: decisions.commitDecisions, mentorGatewayStatus: mentor.mentorGatewayStatus }),
    ...createPingActivities(),
    ...createErisActivities(deps.external?.eris),
    ...(deps.ubi ? createUbiBaselineActivities(deps.ubi) : {}),
    ...mentor,
    ...createApprovalActivities(deps.actions ?? {}),
    ...createAlertActivities(deps.alerts),
    ...(deps.retention ? createRetentionActivities({ ...deps.retention, privacy: deps.external?.privacy }) : {}),
    ...(deps.experiments ? createExperimentActivities(deps.experiments) : {}),
  };
}
export type Activities = ReturnType<typeof createActivities>;
