/**
 * The bandit, simulated (issue 9): two arms with true acceptance 0.2 and 0.4, 2,000 decisions, seeded. Each decision
 * draws its arm from the current weights with a uniform draw (as the shard workflow does with its deterministic
 * Math.random), and the weights are recomputed from the aggregate counts every 50 decisions with `allocate`, the same
 * function the per-tenant schedule runs. Nothing here is fitted to the outcome: change the seed and it still holds.
 */
import { allocate, emptyCounts, pickByWeight, type AllocationSpec, type ArmCounts } from '../../domain/experiments/allocation';
import { seededUniform } from '../../domain/random';

const TRUE_RATE: Record<string, number> = { worse: 0.2, better: 0.4 };
const MIN_SHARE = 0.05;

function simulate(seed: number) {
  const spec: AllocationSpec = {
    experiment_id: `sim-${seed}`,
    arms: [{ arm_id: 'worse', weight: 1 }, { arm_id: 'better', weight: 1 }],
    strategy: 'thompson',
    min_share: MIN_SHARE,
    burn_in: 50,
  };
  const draw = seededUniform(seed);
  const world = seededUniform(seed + 1_000_003);
  const counts: Record<string, ArmCounts> = { worse: emptyCounts('worse'), better: emptyCounts('better') };
  let weights = allocate(spec, Object.values(counts), new Set()).weights;
  const lowest = { worse: 1, better: 1 } as Record<string, number>;
  const assigned: string[] = [];
  for (let i = 0; i < 2000; i++) {
    if (i > 0 && i % 50 === 0) weights = allocate(spec, Object.values(counts), new Set()).weights;
    for (const arm of Object.keys(lowest)) lowest[arm] = Math.min(lowest[arm], weights[arm]);
    const arm = pickByWeight(spec.arms.map((a) => ({ arm_id: a.arm_id, weight: weights[a.arm_id] })), draw())!;
    assigned.push(arm);
    const c = counts[arm];
    c.assigned++;
    c.shown++;
    if (world() < TRUE_RATE[arm]) c.accepted++;
    else c.ignored++;
  }
  const finalWeights = allocate(spec, Object.values(counts), new Set()).weights;
  const share = (xs: string[]) => xs.filter((a) => a === 'better').length / xs.length;
  return { overall: share(assigned), lastQuarter: share(assigned.slice(1500)), finalWeights, lowest, counts };
}

describe('Thompson bandit simulation', () => {
  it('when arms with true acceptance 0.2 and 0.4 run 2,000 decisions, then the better one gets at least 80% of the traffic and the floor holds', () => {
    const run = simulate(20261202);

    expect(run.overall).toBeGreaterThanOrEqual(0.8);
    expect(run.lastQuarter).toBeGreaterThanOrEqual(0.9);
    expect(run.finalWeights.better).toBeGreaterThanOrEqual(0.8);
    // The floor: the worse arm never fell under min_share, and keeps being tried.
    expect(run.lowest.worse).toBeGreaterThanOrEqual(MIN_SHARE - 1e-12);
    expect(run.counts.worse.shown).toBeGreaterThanOrEqual(50);
  });

  it('when the same seed runs twice, then every figure is the same (deterministic)', () => {
    expect(simulate(7)).toEqual(simulate(7));
  });

  it.each([1, 2, 3, 4, 5])('when another seed (%i) runs, then the better arm still gets at least 80%% of the traffic', (seed) => {
    const run = simulate(seed);
    expect(run.overall).toBeGreaterThanOrEqual(0.8);
    expect(run.lowest.worse).toBeGreaterThanOrEqual(MIN_SHARE - 1e-12);
  });
});
