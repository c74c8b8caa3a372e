/**
 * The quality harness (bench/ubi-quality.ts) on three fixed seeds: realistic activity with injected anomalies, scored
 * by the production rules. Thresholds sit just under what was measured (precision 0.81-0.85, recall 0.67-0.78, about
 * 1.2-1.5 false positives per 100 actor-days), so a change that makes detection worse fails here.
 */
import { runQualityHarness } from '../../bench/ubi-quality';

describe('UBI detection quality', () => {
  it.each([1, 2, 3])('when anomalies are injected into generated activity (seed %i), then precision >= 0.75 and recall >= 0.6', (seed) => {
    const r = runQualityHarness({ seed });

    expect(r.injected_anomalies).toBeGreaterThan(150);
    expect(r.precision).toBeGreaterThanOrEqual(0.75);
    expect(r.recall).toBeGreaterThanOrEqual(0.6);
    expect(r.false_positives_per_100_actor_days).toBeLessThanOrEqual(2);
  });

  it('when the anomaly is unmistakable (work at 3 a.m., a dozen repositories, CI retry storms), then nearly all are caught', () => {
    const r = runQualityHarness({ seed: 7 });

    for (const kind of ['night_work', 'context_switching', 'ci_retry_storm']) expect(r.recall_by_kind[kind].recall).toBeGreaterThanOrEqual(0.9);
  });

  it('when nothing is injected, then signals are rare (false positives only)', () => {
    const r = runQualityHarness({ seed: 11, anomalyRate: 0 });

    expect(r.injected_anomalies).toBe(0);
    expect(r.signals / r.evaluated_actor_days).toBeLessThan(0.02);
  });
});
