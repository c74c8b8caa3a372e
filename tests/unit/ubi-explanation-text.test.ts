import { explanationText, FEATURE_PHRASES, formatMeasure, formatRange } from '../../domain/ubi/explanation-text';
import { FEATURE_BY_NAME, FEATURES } from '../../domain/ubi/features';

const def = (name: string) => FEATURE_BY_NAME.get(name)!;

describe('formatMeasure', () => {
  it('when the unit is a ratio, then it reads as a percentage: whole from 10 % on, one decimal below', () => {
    expect([0.909091, 0.275, 0.1, 1, 0].map((v) => formatMeasure('ratio', v))).toEqual(['91%', '28%', '10%', '100%', '0%']);
    expect([0.004, 0.0125, 0.05].map((v) => formatMeasure('ratio', v))).toEqual(['0.4%', '1.3%', '5%']);
  });

  it('when the unit is hours, then below an hour it reads in whole minutes, else in hours with one decimal', () => {
    expect([0.75, 0.5, 0.01, 0].map((v) => formatMeasure('hours', v))).toEqual(['45 min', '30 min', '1 min', '0 min']);
    expect([3.2, 3.24, 1, 0.999, 26].map((v) => formatMeasure('hours', v))).toEqual(['3.2 h', '3.2 h', '1 h', '1 h', '26 h']);
  });

  it('when the unit counts things, then it is a whole number with its noun, singular for one', () => {
    expect([6, 1, 0].map((v) => formatMeasure('repos', v))).toEqual(['6 repositories', '1 repository', '0 repositories']);
    expect([3, 1].map((v) => formatMeasure('bursts', v))).toEqual(['3 bursts', '1 burst']);
  });

  it('when the unit is unknown, then the number keeps two decimals at most and the unit its name', () => {
    expect(formatMeasure('widgets', 2.34567)).toBe('2.35 widgets');
  });
});

describe('formatRange', () => {
  it('when the unit is a ratio, then the range is in percent and kept within 0–100 %', () => {
    expect(formatRange('ratio', [0, 0.275])).toBe('0–28%');
    expect(formatRange('ratio', [0.6, 1.2])).toBe('60–100%');
    expect(formatRange('ratio', [-0.1, 0.004])).toBe('0–0.4%');
  });

  it('when the unit is hours, then both ends share a unit when they can, and zero takes the other end\'s', () => {
    expect(formatRange('hours', [1, 5.24])).toBe('1–5.2 h');
    expect(formatRange('hours', [0.25, 0.75])).toBe('15–45 min');
    expect(formatRange('hours', [0, 4.5])).toBe('0–4.5 h');
    expect(formatRange('hours', [0.33, 4.5])).toBe('20 min–4.5 h');
  });

  it('when the unit counts things, then the range holds the whole numbers inside it', () => {
    expect(formatRange('repos', [0, 2.7])).toBe('0–2');
    expect(formatRange('repos', [1.2, 3.9])).toBe('2–3');
    expect(formatRange('bursts', [0, 1])).toBe('0–1');
    expect(formatRange('bursts', [0.1, 0.9])).toBe('about 1');
    expect(formatRange('bursts', [0.6, 1.4])).toBe('1');
  });
});

describe('explanationText', () => {
  it('when the build failure rate of the issue is explained, then it reads "91% of builds failed (typically 0–28%)"', () => {
    const t = explanationText({ def: def('build_failure_rate'), value: 0.909091, typical_range: [0, 0.275], source: 'personal', samples: 28 });

    expect(t).toEqual({ summary: '91% of builds failed (typically 0–28%; personal baseline over 28 days)', actual_text: '91%', typical_range_text: '0–28%' });
  });

  it('when each kind of feature is explained, then its sentence names what was measured in its unit', () => {
    const say = (name: string, value: number, range: [number, number]) => explanationText({ def: def(name), value, typical_range: range, source: 'personal', samples: 28 }).summary.split(' (')[0];

    expect(say('test_flake_rate', 0.034, [0, 0.01])).toBe('3.4% of tests were flaky');
    expect(say('deploy_failure_rate', 0.5, [0, 0.1])).toBe('50% of deploys failed');
    expect(say('pr_cycle_time_hours', 30.25, [2, 12])).toBe('pull requests took 30.3 h from opening to merge');
    expect(say('review_turnaround_hours', 0.75, [0, 0.4])).toBe('reviews came 45 min after the pull request was opened');
    expect(say('pr_pickup_time_hours', 3.2, [0, 1])).toBe('pull requests waited 3.2 h for a first review');
    expect(say('rework_ratio', 0.4, [0, 0.2])).toBe('40% of reviewed pull requests had changes requested before merging');
    expect(say('changes_requested_ratio', 0.6, [0, 0.3])).toBe('60% of reviews requested changes');
    expect(say('context_switches', 6, [1, 3.4])).toBe('work was spread over 6 repositories');
    expect(say('ide_fragmentation', 0.7, [0, 0.3])).toBe('70% of IDE sessions were shorter than 10 minutes');
    expect(say('off_profile_activity', 0.3, [0, 0.05])).toBe('30% of activity fell outside the usual working hours');
    expect(say('pr_acceptance_rate', 0.2, [0.6, 1.1])).toBe('20% of opened pull requests were merged');
    expect(say('ci_retry_bursts', 3, [0, 1.2])).toBe('3 bursts of CI retries');
  });

  it('when the baseline is a team one, then its samples are member-days', () => {
    const t = explanationText({ def: def('context_switches'), value: 6, typical_range: [1, 3.4], source: 'team', samples: 141 });

    expect(t.summary).toBe('work was spread over 6 repositories (typically 1–3; team baseline over 141 member-days)');
  });

  it('when a feature has no phrase, then its name carries the sentence', () => {
    const t = explanationText({ def: { name: 'tea_breaks', unit: 'ratio' }, value: 0.5, typical_range: [0, 0.2], source: 'personal', samples: 1 });

    expect(t.summary).toBe('tea breaks was 50% (typically 0–20%; personal baseline over 1 day)');
  });

  it('when the features are listed, then every one has a phrase and every phrase a feature', () => {
    expect(Object.keys(FEATURE_PHRASES).sort()).toEqual(FEATURES.map((f) => f.name).sort());
  });
});
