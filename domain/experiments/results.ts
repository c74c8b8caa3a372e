/**
 * From stored state and SQL aggregates to what an admin reads (CONTRACT.md "Experiment": `results`), and the check of
 * a definition against the playbook it varies. Pure.
 */
import type { FieldProblem } from '../errors/validation-error';
import type { ArmEffect, ArmResult, ExperimentInput, ExperimentResults } from '../model/experiment';
import type { PlaybookInput } from '../model/playbook';
import { findPrescriptiveLanguage } from '../templates';
import { allocate, emptyCounts, rate, type ArmCounts } from './allocation';
import { welchDifference, type SampleSummary } from './effect';

export interface ArmStateView {
  arm_id: string;
  current_weight: number;
  /** As the last recompute estimated it (thompson). */
  probability_best: number | null;
  paused_reason: string | null;
  paused_at: string | null;
}

/** The arms' state as decisions read it before the first recompute: weights from the definition, nothing paused. */
export function initialArmState(input: ExperimentInput, counts: ArmCounts[] = [], experimentId = 'new') {
  const { weights } = allocate({ experiment_id: experimentId, ...input }, counts, new Set());
  return input.arms.map((a) => ({ arm_id: a.arm_id, current_weight: weights[a.arm_id] ?? 0 }));
}

export function buildResults(args: {
  experimentId: string;
  definition: ExperimentInput;
  arms: ArmStateView[];
  counts: ArmCounts[];
  weightsUpdatedAt: string | null;
  /** Behaviour metric: the per-arm samples (absent for an outcome metric). */
  behaviour?: Map<string, SampleSummary>;
  /** thompson: estimate probability_best from these counts now (one experiment), else show the last recompute's (lists). */
  live?: boolean;
}): ExperimentResults {
  const { definition } = args;
  const byArm = new Map(args.counts.map((c) => [c.arm_id, c]));
  const state = new Map(args.arms.map((a) => [a.arm_id, a]));
  const paused = new Set(args.arms.filter((a) => a.paused_reason).map((a) => a.arm_id));
  // Live: from the same counts and seed the Schedule uses (a GET and the next recompute agree); 4,000 draws per arm
  // are fine for one experiment, not for every experiment of a list.
  const best =
    definition.strategy !== 'thompson'
      ? null
      : args.live
        ? allocate({ experiment_id: args.experimentId, ...definition }, args.counts, paused).probability_best
        : Object.fromEntries(args.arms.map((a) => [a.arm_id, a.probability_best]));
  const arms: ArmResult[] = definition.arms.map((a) => {
    const c = byArm.get(a.arm_id) ?? emptyCounts(a.arm_id);
    const s = state.get(a.arm_id);
    return {
      ...c,
      arm_id: a.arm_id,
      holdout: a.holdout === true,
      acceptance_rate: rate(c.accepted, c.shown),
      dismiss_rate: rate(c.dismissed, c.shown),
      opt_out_rate: rate(c.opted_out, c.actors_shown),
      current_weight: s?.current_weight ?? 0,
      probability_best: best?.[a.arm_id] ?? null,
      paused_reason: s?.paused_reason ?? null,
      paused_at: s?.paused_at ?? null,
    };
  });
  return { arms, effect: behaviourEffect(definition, args.behaviour), weights_updated_at: args.weightsUpdatedAt };
}

function behaviourEffect(definition: ExperimentInput, samples: Map<string, SampleSummary> | undefined): ArmEffect[] | null {
  const metric = definition.metric;
  const holdout = definition.arms.find((a) => a.holdout);
  if (metric.kind !== 'behaviour' || !holdout || !samples) return null;
  const none: SampleSummary = { n: 0, mean: 0, variance: 0 };
  const h = samples.get(holdout.arm_id) ?? none;
  return definition.arms
    .filter((a) => !a.holdout)
    .map((a) => {
      const s = samples.get(a.arm_id) ?? none;
      const w = welchDifference(s, h);
      return {
        arm_id: a.arm_id,
        feature: metric.feature,
        window_days: metric.window_days,
        difference: w.difference,
        interval: w.interval ? { lower: w.interval[0], upper: w.interval[1], level: 0.95 as const } : null,
        arm_mean: s.n ? s.mean : null,
        holdout_mean: h.n ? h.mean : null,
        samples: { arm: s.n, holdout: h.n },
      };
    });
}

/**
 * What the zod schema cannot know: the overrides against the playbook's published actions. An action index that does
 * not exist, and a mirror action's override text that prescribes (the rule mirror templates follow), are named by
 * their field path.
 */
export function overrideProblems(input: ExperimentInput, playbook: PlaybookInput): FieldProblem[] {
  const problems: FieldProblem[] = [];
  input.arms.forEach((arm, i) =>
    (arm.overrides ?? []).forEach((o, j) => {
      const at = `arms.${i}.overrides.${j}`;
      const action = playbook.actions[o.action_index];
      if (!action) {
        problems.push({ field: `${at}.action_index`, message: `the playbook's published version has ${playbook.actions.length} action(s); there is no index ${o.action_index}` });
        return;
      }
      if (action.type !== 'mirror') return;
      for (const key of ['title', 'body'] as const) {
        const value = o[key];
        const words = value === undefined ? [] : findPrescriptiveLanguage(value);
        if (words.length) problems.push({ field: `${at}.${key}`, message: `a mirror reflects and never prescribes; remove: ${words.join(', ')}` });
      }
    }),
  );
  return problems;
}
