import { allocate, emptyCounts, fixedArm, guardrailBreach, pickByWeight, probabilityBest, type AllocationSpec, type ArmCounts } from '../../domain/experiments/allocation';
import { studentTCdf, studentTQuantile, summarise, welchDifference } from '../../domain/experiments/effect';
import { hashToUnit, sampleBeta, sampleGamma, seededUniform } from '../../domain/random';
import { experimentInputSchema } from '../../domain/model/experiment';

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const variance = (xs: number[]) => {
  const m = mean(xs);
  return xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
};

describe('random draws', () => {
  it('when a seeded source draws twice from the same seed, then the draws are identical, and another seed differs', () => {
    const a = Array.from({ length: 5 }, seededUniform(7));
    const b = Array.from({ length: 5 }, seededUniform(7));
    const c = Array.from({ length: 5 }, seededUniform(8));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    for (const x of a) expect(x >= 0 && x < 1).toBe(true);
  });

  it.each([[0.5], [1], [3.5], [20]])('when Gamma(%p) is drawn 20,000 times, then its mean and variance are the shape (within 5%)', (shape) => {
    const u = seededUniform(11);
    const xs = Array.from({ length: 20_000 }, () => sampleGamma(shape, u));
    expect(Math.abs(mean(xs) - shape) / shape).toBeLessThan(0.05);
    expect(Math.abs(variance(xs) - shape) / shape).toBeLessThan(0.08);
  });

  it('when Beta(3, 7) is drawn 20,000 times, then its mean is 0.3 and its variance ab/((a+b)²(a+b+1))', () => {
    const u = seededUniform(12);
    const xs = Array.from({ length: 20_000 }, () => sampleBeta(3, 7, u));
    expect(mean(xs)).toBeCloseTo(0.3, 2);
    expect(variance(xs)).toBeCloseTo((3 * 7) / (100 * 11), 3);
  });

  it('when strings are hashed, then the value is stable, in [0, 1), and spread evenly', () => {
    expect(hashToUnit('exp-1|alice')).toBe(hashToUnit('exp-1|alice'));
    const xs = Array.from({ length: 10_000 }, (_, i) => hashToUnit(`actor-${i}`));
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
    const deciles = Array.from({ length: 10 }, (_, d) => xs.filter((x) => Math.floor(x * 10) === d).length);
    for (const n of deciles) expect(Math.abs(n - 1000)).toBeLessThan(100);
  });
});

describe('fixed assignment', () => {
  const arms = [{ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 3 }];

  it('when the same actor is assigned again, then it keeps its arm; over many actors the split follows the weights', () => {
    expect(fixedArm('exp-1', 'alice', arms)).toBe(fixedArm('exp-1', 'alice', arms));
    const picks = Array.from({ length: 8000 }, (_, i) => fixedArm('exp-1', `actor-${i}`, arms));
    expect(picks.filter((p) => p === 'b').length / picks.length).toBeCloseTo(0.75, 1);
  });

  it('when one arm is paused (weight 0), then only its actors move and no actor lands on it', () => {
    const three = [{ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1 }, { arm_id: 'c', weight: 1 }];
    const pausedC = [{ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1 }, { arm_id: 'c', weight: 0 }];
    for (let i = 0; i < 2000; i++) {
      const before = fixedArm('exp-2', `actor-${i}`, three);
      const after = fixedArm('exp-2', `actor-${i}`, pausedC);
      expect(after).not.toBe('c');
      if (before !== 'c') expect(after).toBe(before);
    }
  });

  it('when every weight is 0, then no arm is picked', () => {
    expect(fixedArm('e', 'x', [{ arm_id: 'a', weight: 0 }])).toBeNull();
    expect(pickByWeight([{ arm_id: 'a', weight: 0 }], 0.3)).toBeNull();
  });

  it('when a uniform draw is placed on cumulative weights, then it lands in the arm whose interval holds it', () => {
    const w = [{ arm_id: 'a', weight: 0.25 }, { arm_id: 'z', weight: 0 }, { arm_id: 'b', weight: 0.75 }];
    expect(pickByWeight(w, 0)).toBe('a');
    expect(pickByWeight(w, 0.2499)).toBe('a');
    expect(pickByWeight(w, 0.25)).toBe('b');
    expect(pickByWeight(w, 0.9999)).toBe('b');
  });
});

const counts = (armId: string, shown: number, accepted: number, over: Partial<ArmCounts> = {}): ArmCounts => ({ ...emptyCounts(armId), assigned: shown, shown, accepted, actors_shown: shown, ...over });

describe('thompson weights', () => {
  const spec: AllocationSpec = { experiment_id: 'exp-t', arms: [{ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1 }], strategy: 'thompson', min_share: 0.05, burn_in: 50 };

  it('when an arm has fewer than burn_in shown decisions, then the weights stay the configured split', () => {
    const alloc = allocate(spec, [counts('a', 49, 5), counts('b', 200, 150)], new Set());
    expect(alloc.burned_in).toBe(false);
    expect(alloc.weights).toEqual({ a: 0.5, b: 0.5 });
  });

  it('when both are burned in and one is clearly better, then it gets the weight and the other keeps min_share', () => {
    const alloc = allocate(spec, [counts('a', 400, 80), counts('b', 400, 160)], new Set());
    expect(alloc.burned_in).toBe(true);
    expect(alloc.probability_best.b).toBeGreaterThan(0.99);
    expect(alloc.weights.a).toBeGreaterThanOrEqual(0.05);
    expect(alloc.weights.a).toBeLessThan(0.06);
    expect(alloc.weights.a + alloc.weights.b).toBeCloseTo(1, 10);
  });

  it('when the arms are equal, then probability_best is about a half each', () => {
    const best = probabilityBest([{ successes: 30, trials: 100 }, { successes: 30, trials: 100 }], seededUniform(3));
    expect(best[0]).toBeCloseTo(0.5, 1);
    expect(best[0] + best[1]).toBeCloseTo(1, 10);
  });

  it('when there is a holdout, then it keeps its configured share and the bandit arms share the rest with the floor', () => {
    const withHoldout: AllocationSpec = { ...spec, arms: [{ arm_id: 'h', weight: 1, holdout: true }, { arm_id: 'a', weight: 2 }, { arm_id: 'b', weight: 2 }] };
    const alloc = allocate(withHoldout, [counts('h', 500, 0), counts('a', 500, 50), counts('b', 500, 250)], new Set());
    expect(alloc.weights.h).toBeCloseTo(0.2, 10);
    expect(alloc.weights.a).toBeGreaterThanOrEqual(0.05);
    expect(alloc.weights.b).toBeGreaterThan(0.7);
    expect(alloc.probability_best.h).toBeNull();
  });

  it('when an arm is paused, then it gets no weight and the others share everything', () => {
    const alloc = allocate(spec, [counts('a', 400, 80), counts('b', 400, 160)], new Set(['b']));
    expect(alloc.weights).toEqual({ a: 1, b: 0 });
  });

  it('when fixed, then the weights are the configured ones over the running arms', () => {
    const fixed: AllocationSpec = { ...spec, strategy: 'fixed', arms: [{ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 3 }] };
    expect(allocate(fixed, [], new Set()).weights).toEqual({ a: 0.25, b: 0.75 });
    expect(allocate(fixed, [], new Set(['a'])).weights).toEqual({ a: 0, b: 1 });
  });
});

describe('guardrails', () => {
  const g = { max_dismiss_rate: 0.5, max_opt_out_rate: 0.1, min_samples: 20 };

  it('when the dismiss rate is above its threshold after min_samples, then the arm is paused and the reason says why', () => {
    expect(guardrailBreach(counts('a', 20, 0, { dismissed: 11 }), g)).toBe('dismiss rate 0.55 is above max_dismiss_rate 0.5 after 20 shown decisions');
  });

  it('when the rate is above the threshold but there are fewer than min_samples, or it is exactly at it, then nothing is paused', () => {
    expect(guardrailBreach(counts('a', 19, 0, { dismissed: 19 }), g)).toBeNull();
    expect(guardrailBreach(counts('a', 20, 0, { dismissed: 10 }), g)).toBeNull();
    expect(guardrailBreach(counts('a', 100, 0, { dismissed: 100 }), undefined)).toBeNull();
  });

  it('when the share of actors who opted out after seeing the arm passes its threshold, then the arm is paused', () => {
    expect(guardrailBreach(counts('a', 40, 0, { actors_shown: 20, opted_out: 3 }), g)).toMatch(/^opt-out rate 0.15 is above max_opt_out_rate 0.1: 3 of 20 actors/);
    expect(guardrailBreach(counts('a', 40, 0, { actors_shown: 19, opted_out: 19 }), g)).toBeNull();
  });
});

describe('effect with Welch interval', () => {
  it('when the t distribution is read, then its quantiles are the tabled ones', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706, 2);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.228, 3);
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.96, 2);
    expect(studentTCdf(0, 5)).toBeCloseTo(0.5, 12);
  });

  it('when two samples are compared, then the difference and interval match a hand computation', () => {
    const a = [12, 15, 11, 14, 13, 16];
    const b = [10, 9, 11, 12, 8];
    const w = welchDifference(summarise(a), summarise(b));
    const va = variance(a) / a.length;
    const vb = variance(b) / b.length;
    const df = (va + vb) ** 2 / (va ** 2 / 5 + vb ** 2 / 4);
    const half = studentTQuantile(0.975, df) * Math.sqrt(va + vb);
    expect(w.difference).toBeCloseTo(mean(a) - mean(b), 12);
    expect(w.df).toBeCloseTo(df, 10);
    expect(w.interval![0]).toBeCloseTo(mean(a) - mean(b) - half, 10);
    expect(w.interval![1]).toBeCloseTo(mean(a) - mean(b) + half, 10);
    // df ≈ 8.99 here: the t quantile is about 2.26, wider than 1.96.
    expect(half / Math.sqrt(va + vb)).toBeGreaterThan(2.2);
  });

  it('when a side has no sample or one sample, then the difference or interval is null rather than invented', () => {
    expect(welchDifference(summarise([]), summarise([1, 2]))).toEqual({ difference: null, interval: null, df: null });
    expect(welchDifference(summarise([3]), summarise([1, 2])).interval).toBeNull();
  });
});

describe('experiment input rules', () => {
  const base = { name: 'Wording', playbook_id: 'pb_1', arms: [{ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1 }] };
  const paths = (input: unknown) => {
    const r = experimentInputSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
  };

  it('when the input is minimal, then the defaults are filled in', () => {
    expect(experimentInputSchema.parse(base)).toEqual({ ...base, strategy: 'fixed', min_share: 0.01, metric: { kind: 'outcome', outcome: 'accepted' }, burn_in: 50 });
  });

  it.each([
    ['one arm', { arms: [{ arm_id: 'a', weight: 1 }] }, 'arms'],
    ['eleven arms', { arms: Array.from({ length: 11 }, (_, i) => ({ arm_id: `a${i}`, weight: 1 })) }, 'arms'],
    ['a negative weight', { arms: [{ arm_id: 'a', weight: -1 }, { arm_id: 'b', weight: 1 }] }, 'arms.0.weight'],
    ['all weights 0', { arms: [{ arm_id: 'a', weight: 0 }, { arm_id: 'b', weight: 0 }] }, 'arms'],
    ['a repeated arm id', { arms: [{ arm_id: 'a', weight: 1 }, { arm_id: 'a', weight: 1 }] }, 'arms.1.arm_id'],
    ['two holdouts', { arms: [{ arm_id: 'a', weight: 1, holdout: true }, { arm_id: 'b', weight: 1, holdout: true }, { arm_id: 'c', weight: 1 }] }, 'arms'],
    ['a holdout with overrides', { arms: [{ arm_id: 'a', weight: 1, holdout: true, overrides: [{ action_index: 0, title: 'x' }] }, { arm_id: 'b', weight: 1 }] }, 'arms.0.overrides'],
    ['an unknown strategy', { strategy: 'epsilon' }, 'strategy'],
    ['an unknown metric kind', { metric: { kind: 'revenue' } }, 'metric.kind'],
    ['an unknown UBI feature', { metric: { kind: 'behaviour', feature: 'lines_of_code', window_days: 7 }, arms: [{ arm_id: 'h', weight: 1, holdout: true }, { arm_id: 'b', weight: 1 }] }, 'metric.feature'],
    ['a behaviour metric without a holdout', { metric: { kind: 'behaviour', feature: 'build_failure_rate', window_days: 7 } }, 'metric'],
    ['thompson on a behaviour metric', { strategy: 'thompson', metric: { kind: 'behaviour', feature: 'build_failure_rate', window_days: 7 }, arms: [{ arm_id: 'h', weight: 1, holdout: true }, { arm_id: 'b', weight: 1 }] }, 'metric'],
    ['a floor the arms cannot all have', { strategy: 'thompson', min_share: 0.5, arms: [{ arm_id: 'h', weight: 1, holdout: true }, { arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1 }] }, 'min_share'],
    ['an override with an unknown placeholder', { arms: [{ arm_id: 'a', weight: 1, overrides: [{ action_index: 0, title: 'Hi {{password}}' }] }, { arm_id: 'b', weight: 1 }] }, 'arms.0.overrides.0.title'],
    ['an action overridden twice', { arms: [{ arm_id: 'a', weight: 1, overrides: [{ action_index: 0, priority: 1 }, { action_index: 0, priority: 2 }] }, { arm_id: 'b', weight: 1 }] }, 'arms.0.overrides.1.action_index'],
  ])('when the input has %s, then it is refused naming the field it breaks', (_what, over, field) => {
    expect(paths({ ...base, ...over })).toContain(field);
  });
});
