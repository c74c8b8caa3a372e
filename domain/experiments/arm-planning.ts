/**
 * Experiments inside a decision (FR-9, ADR 0017): which arm each matched playbook's active experiment gives the actor,
 * the arm's overrides laid over the playbook's actions, and the tags on the candidates the experiment touched. Runs in
 * the workflow after matching; policy, preferences and quiet hours (planActions) and fatigue (the commit) still apply
 * to whatever an arm makes of the playbook, so an experiment never shows what they forbid.
 */
import type { ActionPlan, CandidateAction } from '../action-planning';
import type { ArmOverride, ExperimentStrategy } from '../model/experiment';
import type { MatchedPlaybook } from '../playbook-matching';
import { fixedArm, pickByWeight } from './allocation';
import type { Uniform } from '../random';

/** An active experiment as the decision context loads it: its arms with their current weights. */
export interface ActiveExperiment {
  experiment_id: string;
  playbook_id: string;
  strategy: ExperimentStrategy;
  arms: Array<{ arm_id: string; weight: number; holdout: boolean; overrides: ArmOverride[] }>;
}

export interface ArmAssignment {
  experiment_id: string;
  arm_id: string;
  holdout: boolean;
  overrides: ArmOverride[];
}

/**
 * The arm of each matched playbook that has an active experiment, in the order of `matched` (so the uniform draws of a
 * batch come in a fixed order). fixed: by hash of (experiment, actor), no draw. thompson: one draw per decision and
 * experiment from the current weights. An experiment whose arms all weigh 0 (all paused) assigns nothing.
 */
export function assignArms(matched: MatchedPlaybook[], experiments: ActiveExperiment[], actorId: string, uniform: Uniform): Map<string, ArmAssignment> {
  const out = new Map<string, ArmAssignment>();
  if (experiments.length === 0) return out;
  const byPlaybook = new Map(experiments.map((e) => [e.playbook_id, e]));
  for (const m of matched) {
    const e = byPlaybook.get(m.playbook_id);
    if (!e) continue;
    const armId = e.strategy === 'fixed' ? fixedArm(e.experiment_id, actorId, e.arms) : pickByWeight(e.arms, uniform());
    const arm = e.arms.find((a) => a.arm_id === armId);
    if (arm) out.set(m.playbook_id, { experiment_id: e.experiment_id, arm_id: arm.arm_id, holdout: arm.holdout, overrides: arm.overrides });
  }
  return out;
}

/** The playbook as the arm shows it: each override replaces its action's title, body, surfaces or priority. */
export function withArm(m: MatchedPlaybook, arm: ArmAssignment | undefined): MatchedPlaybook {
  if (!arm || arm.holdout || arm.overrides.length === 0) return m;
  const actions = m.definition.actions.map((action, i) => {
    const o = arm.overrides.find((x) => x.action_index === i);
    if (!o) return action;
    return {
      ...action,
      ...(o.title !== undefined ? { title: o.title } : {}),
      ...(o.body !== undefined ? { body: o.body } : {}),
      ...(o.surfaces !== undefined ? { surfaces: o.surfaces } : {}),
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
    };
  });
  return { ...m, definition: { ...m.definition, actions } };
}

/**
 * Tags the candidates of playbooks in an experiment with `experiment` (action and receipt), and a holdout's as
 * `holdout`: they still go through fatigue like any other, and one that fatigue grants is withheld and recorded as
 * suppressed `experiment_holdout` (domain/decision-assembly.ts). Holding the reservation keeps the holdout's fatigue
 * state the same as the treated arms' (ADR 0017): the freed slot does not go to another nudge that would blur the effect.
 */
export function tagExperimentCandidates(plan: ActionPlan, arms: Map<string, ArmAssignment>): ActionPlan {
  if (arms.size === 0) return plan;
  const candidates = plan.candidates.map((c): CandidateAction => {
    const arm = arms.get(c.action.playbook_id);
    if (!arm) return c;
    const experiment = { experiment_id: arm.experiment_id, arm_id: arm.arm_id };
    return { ...c, action: { ...c.action, experiment, payload: { ...c.action.payload, why: { ...c.action.payload.why!, experiment } } }, ...(arm.holdout ? { holdout: true } : {}) };
  });
  return { ...plan, candidates };
}
