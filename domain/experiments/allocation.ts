/**
 * How an experiment splits its playbook's decisions between arms (FR-9, ADR 0017): fixed assignment by hash, the
 * Thompson bandit's weights from aggregate counts, the min_share floor and burn-in, guardrails, and probability_best.
 * Pure: the uniform source is passed in (the workflow's deterministic Math.random, or a seeded generator).
 */
import type { Arm, ExperimentStrategy, Guardrails } from '../model/experiment';
import { hashToUnit, sampleBeta, seededUniform, type Uniform } from '../random';

/** What the schedule and the results read per arm: SQL aggregates over the tenant's exposures and outcomes. */
export interface ArmCounts {
  arm_id: string;
  assigned: number;
  shown: number;
  accepted: number;
  dismissed: number;
  ignored: number;
  snoozed: number;
  /** Distinct actors the arm was shown to, and those of them who now opt out of the playbook's category. */
  actors_shown: number;
  opted_out: number;
}

export const emptyCounts = (armId: string): ArmCounts => ({ arm_id: armId, assigned: 0, shown: 0, accepted: 0, dismissed: 0, ignored: 0, snoozed: 0, actors_shown: 0, opted_out: 0 });

export interface AllocationSpec {
  experiment_id: string;
  arms: Array<Pick<Arm, 'arm_id' | 'weight' | 'holdout'>>;
  strategy: ExperimentStrategy;
  min_share: number;
  burn_in: number;
}

/** Monte Carlo draws behind probability_best: its standard error is at most 0.5/√4000 ≈ 0.008. */
export const PROBABILITY_BEST_DRAWS = 4000;

/** The seed of an experiment's Monte Carlo estimates, so the same counts give the same figures on every replica. */
export const seedOf = (experimentId: string): number => Math.floor(hashToUnit(`seed:${experimentId}`) * 2 ** 32);

/**
 * The probability that each arm's true rate is the highest, from Beta(1 + successes, 1 + failures) posteriors, by
 * Monte Carlo with a seeded generator. Ties (equal draws) go to the first arm, which has measure zero.
 */
export function probabilityBest(posteriors: Array<{ successes: number; trials: number }>, uniform: Uniform, draws = PROBABILITY_BEST_DRAWS): number[] {
  const wins = posteriors.map(() => 0);
  if (posteriors.length === 0) return wins;
  for (let d = 0; d < draws; d++) {
    let best = 0;
    let bestValue = -1;
    posteriors.forEach((p, i) => {
      const x = sampleBeta(1 + p.successes, 1 + Math.max(0, p.trials - p.successes), uniform);
      if (x > bestValue) {
        bestValue = x;
        best = i;
      }
    });
    wins[best]++;
  }
  return wins.map((w) => w / draws);
}

/** Every arm's configured share, over the arms still running (a paused arm gets 0). */
function configuredShares(spec: AllocationSpec, paused: ReadonlySet<string>): Map<string, number> {
  const running = spec.arms.filter((a) => !paused.has(a.arm_id));
  const total = running.reduce((s, a) => s + a.weight, 0);
  return new Map(spec.arms.map((a) => [a.arm_id, paused.has(a.arm_id) || total <= 0 ? 0 : a.weight / total]));
}

export interface Allocation {
  /** Share of the decisions each arm gets next; sums to 1 over the running arms (0 when every arm is paused). */
  weights: Record<string, number>;
  /** Thompson: the estimate from the posteriors (null for fixed, and for holdout and paused arms). */
  probability_best: Record<string, number | null>;
  /** Whether every running bandit arm has had `burn_in` shown decisions, so the weights follow the posteriors. */
  burned_in: boolean;
}

/**
 * The weights an experiment's decisions use until the next recompute.
 * - fixed: the configured weights, over the running arms.
 * - thompson: the holdout keeps its configured share (it is the control, not a contender); the bandit arms share the
 *   rest. Until each has `burn_in` shown decisions they split it by their configured weights; afterwards by
 *   probability_best (batched Thompson sampling: the chance a Thompson draw would pick the arm). Either way each bandit
 *   arm keeps at least `min_share` of all traffic: w = min_share + (rest − k·min_share)·p.
 */
export function allocate(spec: AllocationSpec, counts: ArmCounts[], paused: ReadonlySet<string>, uniform: Uniform = seededUniform(seedOf(spec.experiment_id))): Allocation {
  const configured = configuredShares(spec, paused);
  const probability_best: Record<string, number | null> = Object.fromEntries(spec.arms.map((a) => [a.arm_id, null]));
  if (spec.strategy === 'fixed') return { weights: Object.fromEntries(configured), probability_best, burned_in: true };

  const byArm = new Map(counts.map((c) => [c.arm_id, c]));
  const bandit = spec.arms.filter((a) => !a.holdout && !paused.has(a.arm_id));
  const weights: Record<string, number> = Object.fromEntries(spec.arms.map((a) => [a.arm_id, a.holdout ? configured.get(a.arm_id) ?? 0 : 0]));
  if (bandit.length === 0) return { weights, probability_best, burned_in: true };
  const holdout = spec.arms.filter((a) => a.holdout).reduce((s, a) => s + (configured.get(a.arm_id) ?? 0), 0);
  const rest = 1 - holdout;
  const floor = Math.min(spec.min_share, rest / bandit.length);
  const stats = bandit.map((a) => byArm.get(a.arm_id) ?? emptyCounts(a.arm_id));
  const best = probabilityBest(stats.map((c) => ({ successes: c.accepted, trials: c.shown })), uniform);
  bandit.forEach((a, i) => (probability_best[a.arm_id] = best[i]));
  const burned_in = stats.every((c) => c.shown >= spec.burn_in);
  const banditConfigured = bandit.reduce((s, a) => s + a.weight, 0);
  bandit.forEach((a, i) => {
    // During burn-in the configured split; arms all weighted 0 split evenly.
    const p = burned_in ? best[i] : banditConfigured > 0 ? a.weight / banditConfigured : 1 / bandit.length;
    weights[a.arm_id] = floor + (rest - bandit.length * floor) * p;
  });
  return { weights, probability_best, burned_in };
}

/** The arm of a cumulative split that a uniform draw u in [0, 1) lands in; arms with weight 0 are never picked. */
export function pickByWeight(arms: Array<{ arm_id: string; weight: number }>, u: number): string | null {
  const total = arms.reduce((s, a) => s + Math.max(0, a.weight), 0);
  if (!(total > 0)) return null;
  let acc = 0;
  const target = u * total;
  let last: string | null = null;
  for (const a of arms) {
    if (!(a.weight > 0)) continue;
    acc += a.weight;
    last = a.arm_id;
    if (target < acc) return a.arm_id;
  }
  return last;
}

/**
 * fixed: weighted rendezvous hashing over (experiment id, actor id, arm id). Each arm scores −ln(h)/w and the lowest
 * wins, which gives arm i the share w_i / Σw, lets every replica, retry and replay agree without state, and keeps an
 * actor's arm when another arm is paused (only the paused arm's actors move).
 */
export function fixedArm(experimentId: string, actorId: string, arms: Array<{ arm_id: string; weight: number }>): string | null {
  let best: string | null = null;
  let bestScore = Infinity;
  for (const a of arms) {
    if (!(a.weight > 0)) continue;
    const h = hashToUnit(`${experimentId}\u0001${actorId}\u0001${a.arm_id}`);
    const score = -Math.log(h > 0 ? h : Number.MIN_VALUE) / a.weight;
    if (score < bestScore) {
      bestScore = score;
      best = a.arm_id;
    }
  }
  return best;
}

export const rate = (n: number, d: number): number | null => (d > 0 ? n / d : null);

/**
 * Why an arm is paused by its guardrails, or null. A rate "passes" its threshold when it is above it, and is judged
 * only once the arm has `min_samples` (shown decisions for the dismiss rate, distinct actors for the opt-out rate).
 */
export function guardrailBreach(counts: ArmCounts, guardrails: Guardrails | null | undefined): string | null {
  if (!guardrails) return null;
  const fmt = (x: number) => x.toFixed(3).replace(/0+$/, '').replace(/\.$/, '');
  if (guardrails.max_dismiss_rate !== undefined && counts.shown >= guardrails.min_samples) {
    const r = counts.dismissed / counts.shown;
    if (r > guardrails.max_dismiss_rate)
      return `dismiss rate ${fmt(r)} is above max_dismiss_rate ${fmt(guardrails.max_dismiss_rate)} after ${counts.shown} shown decisions`;
  }
  if (guardrails.max_opt_out_rate !== undefined && counts.actors_shown >= guardrails.min_samples) {
    const r = counts.opted_out / counts.actors_shown;
    if (r > guardrails.max_opt_out_rate)
      return `opt-out rate ${fmt(r)} is above max_opt_out_rate ${fmt(guardrails.max_opt_out_rate)}: ${counts.opted_out} of ${counts.actors_shown} actors shown this arm opted out of the category`;
  }
  return null;
}
