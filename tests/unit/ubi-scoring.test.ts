import { coldStartState, computeActorBaselines, pooledBaseline, robustBaseline } from '../../domain/ubi/baselines';
import { detectAnomalies, type DetectionInput } from '../../domain/ubi/detection';
import { FEATURE_BY_NAME } from '../../domain/ubi/features';
import { assess, modifiedZ, robustSigma, scoreFromZ, severityFromScore } from '../../domain/ubi/scoring';
import { behaviouralSignalSchema } from '../../domain/model/behavioural-signal';

const cfg = { z_threshold: 3.5, warming_multiplier: 1.5 };
const rate = FEATURE_BY_NAME.get('build_failure_rate')!;
const acceptance = FEATURE_BY_NAME.get('pr_acceptance_rate')!;

describe('robust baselines', () => {
  it('when 28 daily values are known, then median, MAD and mean absolute deviation are the textbook values', () => {
    // 1..28: median 14.5; |x - 14.5| = 0.5, 0.5, 1.5, 1.5, ... 13.5, 13.5 -> MAD 7, mean 7
    const b = robustBaseline(Array.from({ length: 28 }, (_, i) => i + 1));

    expect(b).toEqual({ median: 14.5, mad: 7, mean_abs_dev: 7, samples: 28 });
  });

  it('when more than 28 values are given, then only the last 28 count; a team pools all of them', () => {
    const values = [...new Array(10).fill(100), ...new Array(28).fill(1)];

    expect(robustBaseline(values)).toMatchObject({ median: 1, mad: 0, samples: 28 });
    expect(pooledBaseline(values)?.samples).toBe(38);
    expect(robustBaseline([])).toBeNull();
  });

  it('when active days are counted, then < 7 is insufficient, 7-27 warming and 28 ready', () => {
    expect([0, 6, 7, 27, 28].map(coldStartState)).toEqual(['insufficient', 'insufficient', 'warming', 'warming', 'ready']);
  });

  it('when an actor is recomputed, then each feature gets its baseline and the hour profile sums to 1', () => {
    const slots = new Array<number>(168).fill(0);
    slots[9] = 3;
    slots[10] = 1;
    const r = computeActorBaselines([{ feature: 'build_failure_rate', values: [0.1, 0.2, 0.3] }], 10, slots);

    expect(r.state).toBe('warming');
    expect(r.features).toEqual([{ feature: 'build_failure_rate', median: 0.2, mad: expect.closeTo(0.1, 9), mean_abs_dev: expect.closeTo(0.0667, 3), samples: 3 }]);
    expect(r.hour_profile[9]).toBe(0.75);
    expect(r.hour_profile.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });
});

describe('modified z-score and severity', () => {
  it('when MAD is positive, then z = 0.6745 (x - median) / MAD', () => {
    const b = { median: 10, mad: 2, mean_abs_dev: 3, samples: 28 };

    expect(modifiedZ(16, b, 0.01)).toBeCloseTo((0.6745 * 6) / 2, 3);
  });

  it('when MAD is zero, then the mean absolute deviation is used, and when both are zero the feature floor: never a division by zero', () => {
    const mostlySame = { median: 0, mad: 0, mean_abs_dev: 0.02, samples: 28 };
    const allSame = { median: 0, mad: 0, mean_abs_dev: 0, samples: 28 };

    expect(robustSigma(mostlySame, 0.001)).toBeCloseTo(0.02 * 1.253314, 6);
    expect(robustSigma(allSame, 0.05)).toBe(0.05);
    expect(modifiedZ(1, allSame, 0.05)).toBe(20);
    expect(Number.isFinite(modifiedZ(1, allSame, rate.minSpread))).toBe(true);
  });

  it('when |z| is a multiple of the threshold, then the score is 25 per multiple up to 100 and severity follows the score', () => {
    expect([0, 3.5, 7, 10.5, 14, 50].map((z) => scoreFromZ(z, 3.5))).toEqual([0, 25, 50, 75, 100, 100]);
    expect([0, 24.9, 25, 37.5, 50, 75, 100].map(severityFromScore)).toEqual(['info', 'info', 'low', 'medium', 'high', 'critical', 'critical']);
  });

  it('when a value improves (a lower failure rate, a higher acceptance rate), then it is not an anomaly however far it moves', () => {
    const b = { median: 0.5, mad: 0.05, mean_abs_dev: 0.05, samples: 28 };

    expect(assess(0, b, rate, 'ready', 'personal', cfg).anomalous).toBe(false);
    expect(assess(1, b, acceptance, 'ready', 'personal', cfg).anomalous).toBe(false);
    expect(assess(0, b, acceptance, 'ready', 'personal', cfg)).toMatchObject({ anomalous: true, direction: 'below' });
  });

  it('when the actor is warming, then the threshold is 1.5x stricter and severity is capped at medium', () => {
    const b = { median: 0.1, mad: 0.05, mean_abs_dev: 0.05, samples: 10 };
    const sigma = 0.05 * 1.4826;
    const justOver = 0.1 + 4 * sigma; // z = 4: over 3.5, under 5.25

    expect(assess(justOver, b, rate, 'ready', 'personal', cfg).anomalous).toBe(true);
    expect(assess(justOver, b, rate, 'warming', 'personal', cfg).anomalous).toBe(false);
    const far = assess(1, b, rate, 'warming', 'personal', cfg);
    expect(far).toMatchObject({ anomalous: true, threshold: 5.25, severity: 'medium', severity_cap: 'medium' });
    expect(assess(1, b, rate, 'ready', 'personal', cfg).severity).toBe('critical');
  });
});

describe('detectAnomalies', () => {
  const personal = new Map([['build_failure_rate', { median: 0.1, mad: 0.05, mean_abs_dev: 0.05, samples: 28 }]]);
  function input(over: Partial<DetectionInput> = {}): DetectionInput {
    return {
      tenant_id: 't1', actor_id: 'a1', actor_type: 'human', team_id: 'team-1', day: '2026-03-10',
      features: { build_failure_rate: 0.9, context_switches: 2 }, state: 'ready', personal, team: new Map(),
      config: { ...cfg, enabled_dimensions: ['build_health', 'focus'], min_group_size: 5, version: 3 },
      now: '2026-03-10T12:00:00.000Z',
      signalId: (p) => `sig-${p.feature}-${p.day}`,
      ...over,
    };
  }

  it('when a ready actor has an extreme value, then one signal carries the whole explanation and parses as a bus message', () => {
    const [s, ...rest] = detectAnomalies(input());

    expect(rest).toEqual([]);
    expect(behaviouralSignalSchema.parse(s)).toEqual(s);
    expect(s).toMatchObject({
      signal_id: 'sig-build_failure_rate-2026-03-10', signal_type: 'build_failure_rate_high', dimension: 'build_health', severity: 'critical',
      value: 0.9, score: 77.1, config_version: 3, window_start: '2026-03-10T00:00:00.000Z', window_end: '2026-03-11T00:00:00.000Z',
      baseline: { mean: 0.1, spread: 0.0741, samples: 28, source: 'personal' },
    });
    expect(s.explanation).toMatchObject({ actual: 0.9, typical_range: [0, 0.3595], direction: 'above', cold_start: 'ready', config_version: 3, modified_z: 10.792 });
    // In words beside the numbers: 0.3595 is 36 %.
    expect(s.explanation).toMatchObject({ summary: '90% of builds failed (typically 0–36%; personal baseline over 28 days)', unit: 'ratio', actual_text: '90%', typical_range_text: '0–36%' });
  });

  it('when the actor is insufficient, then only a team baseline of at least min_group_size actors is used, capped at medium', () => {
    const team = new Map([['build_failure_rate', { median: 0.1, mad: 0.05, mean_abs_dev: 0.05, samples: 140, members: 5 }]]);
    const smallTeam = new Map([['build_failure_rate', { median: 0.1, mad: 0.05, mean_abs_dev: 0.05, samples: 80, members: 4 }]]);

    expect(detectAnomalies(input({ state: 'insufficient' }))).toEqual([]);
    expect(detectAnomalies(input({ state: 'insufficient', team: smallTeam }))).toEqual([]);
    const [s] = detectAnomalies(input({ state: 'insufficient', team }));
    expect(s).toMatchObject({ severity: 'medium', baseline: { source: 'team', samples: 140 } });
    expect(s.explanation.cold_start).toBe('insufficient');
  });

  it('when a dimension is disabled, then its anomalies are not signalled', () => {
    expect(detectAnomalies(input({ config: { ...cfg, enabled_dimensions: ['focus'], min_group_size: 5, version: 4 } }))).toEqual([]);
  });

  it('when a human and an AI agent have the same values and baselines, then they get the same signal (actor parity)', () => {
    const human = detectAnomalies(input({ actor_type: 'human' }));
    const agent = detectAnomalies(input({ actor_type: 'ai_agent' }));

    expect(agent.map(({ actor_type: _a, ...s }) => s)).toEqual(human.map(({ actor_type: _a, ...s }) => s));
    expect(agent[0].actor_type).toBe('ai_agent');
  });
});
