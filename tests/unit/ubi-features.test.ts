import { computeFeatures, hourOfWeek, median, type FeatureEvent } from '../../domain/ubi/features';

const T0 = Date.parse('2026-03-09T09:00:00Z'); // a Monday
const min = 60_000;
const hour = 60 * min;
function ev(event_type: string, at: number, properties: Record<string, string | number> = {}, repo_id: string | null = 'repo-a'): FeatureEvent {
  return { event_type, occurred_at_ms: at, repo_id, properties };
}
const noCtx = { prOpenedAtMs: new Map<string, number>() };

describe('computeFeatures', () => {
  it('when a day has builds, tests and deploys, then the rates are the known ratios', () => {
    const events = [
      ev('build_completed', T0, { status: 'failure' }),
      ev('build_completed', T0 + hour, { status: 'success' }),
      ev('build_completed', T0 + 2 * hour, { status: 'success' }),
      ev('build_completed', T0 + 3 * hour, { status: 'failure' }),
      ev('test_run_completed', T0, { status: 'success', test_count: 200, flaky_count: 3 }),
      ev('test_run_completed', T0, { status: 'failure', test_count: 100, flaky_count: 0 }),
      ev('deploy_completed', T0, { status: 'failure' }, 'repo-b'),
      ev('deploy_completed', T0, { status: 'success' }, 'repo-c'),
      ev('deploy_completed', T0, { status: 'success' }, 'repo-c'),
      ev('deploy_completed', T0, { status: 'success' }, 'repo-c'),
    ];

    const f = computeFeatures(events, noCtx, 'human');

    expect(f).toEqual({ build_failure_rate: 0.5, test_flake_rate: 0.01, deploy_failure_rate: 0.25, context_switches: 3 });
  });

  it('when PRs were opened earlier, then cycle time and review turnaround are the medians of the elapsed hours', () => {
    const opened = new Map([['pr-1', T0], ['pr-2', T0 + hour], ['pr-3', T0 - 10 * hour]]);
    const events = [
      ev('pr_merged', T0 + 4 * hour, { pr_id: 'pr-1' }),
      ev('pr_merged', T0 + 3 * hour, { pr_id: 'pr-2' }),
      ev('pr_merged', T0 + 20 * hour, { pr_id: 'pr-unknown' }),
      ev('pr_review_submitted', T0 + 2 * hour, { pr_id: 'pr-3', review_state: 'changes_requested' }),
      ev('pr_review_submitted', T0 + 30 * min, { pr_id: 'pr-1', review_state: 'approved' }),
      ev('pr_review_submitted', T0 + hour, { pr_id: 'pr-1', review_state: 'approved' }),
      ev('pr_review_submitted', T0 + 2 * hour, { pr_id: 'pr-2', review_state: 'approved' }),
    ];

    const f = computeFeatures(events, { prOpenedAtMs: opened }, 'human');

    expect(f.pr_cycle_time_hours).toBe(3); // median of 4 h and 2 h
    expect(f.review_turnaround_hours).toBe(1); // median of 12 h, 0.5 h, 1 h and 1 h
    expect(f.changes_requested_ratio).toBe(0.25);
  });

  it('when merged PRs were reviewed, then pick-up time is the median wait for the first review and rework the share that needed changes', () => {
    const opened = new Map([['p1', T0], ['p2', T0], ['p3', T0], ['p4', T0], ['p5', T0]]);
    const reviews = new Map([
      ['p1', { firstReviewMs: T0 + 2 * hour, changesRequested: true }],
      ['p2', { firstReviewMs: T0 + 4 * hour, changesRequested: false }],
      ['p3', { firstReviewMs: T0 + 6 * hour, changesRequested: false }],
      ['p4', { firstReviewMs: T0 + 8 * hour, changesRequested: true }],
    ]);
    const events = ['p1', 'p2', 'p3', 'p4', 'p5'].map((id) => ev('pr_merged', T0 + 24 * hour, { pr_id: id }));

    const f = computeFeatures(events, { prOpenedAtMs: opened, prReviews: reviews }, 'human');

    expect(f.pr_pickup_time_hours).toBe(5); // median of 2, 4, 6, 8
    expect(f.rework_ratio).toBe(0.5); // 2 of the 4 reviewed merges needed changes
    expect(f.pr_cycle_time_hours).toBe(24);
  });

  it('when an AI agent opens PRs and retries CI in bursts, then acceptance rate and bursts are computed, and human-only features are absent', () => {
    const events = [
      ev('pr_opened', T0, { pr_id: 'a' }), ev('pr_opened', T0, { pr_id: 'b' }), ev('pr_opened', T0, { pr_id: 'c' }), ev('pr_opened', T0, { pr_id: 'd' }),
      ev('pr_merged', T0 + hour, { pr_id: 'a' }),
      // burst 1: three builds within 10 minutes on repo-a; then a lone build; burst 2 on repo-b
      ev('build_completed', T0, { status: 'failure' }), ev('build_completed', T0 + 2 * min, { status: 'failure' }), ev('build_completed', T0 + 9 * min, { status: 'success' }),
      ev('build_completed', T0 + 3 * hour, { status: 'success' }),
      ev('build_completed', T0, { status: 'failure' }, 'repo-b'), ev('build_completed', T0 + min, { status: 'failure' }, 'repo-b'), ev('build_completed', T0 + 2 * min, { status: 'failure' }, 'repo-b'),
      ev('ide_session', T0, { duration_ms: 1000 }),
      ev('ide_session', T0, { duration_ms: 3_600_000 }), ev('ide_session', T0, { duration_ms: 3_600_000 }), ev('ide_session', T0, { duration_ms: 3_600_000 }),
    ];

    const agent = computeFeatures(events, noCtx, 'ai_agent');
    const human = computeFeatures(events, noCtx, 'human');

    expect(agent.pr_acceptance_rate).toBe(0.25);
    expect(agent.ci_retry_bursts).toBe(2);
    expect(agent.ide_fragmentation).toBeUndefined();
    expect(agent.context_switches).toBeUndefined();
    expect(human.pr_acceptance_rate).toBeUndefined();
    expect(human.ide_fragmentation).toBe(0.25);
    expect(agent.build_failure_rate).toBe(human.build_failure_rate);
  });

  it('when the actor has an hour-of-week profile, then the share of events in slots they are never active in is off_profile_activity', () => {
    const profile = new Array<number>(168).fill(0);
    profile[hourOfWeek(T0)] = 1; // only ever active Monday 09:00-10:00 UTC
    const events = [ev('commit_pushed', T0), ev('commit_pushed', T0 + 10 * min), ev('commit_pushed', T0 + 14 * hour), ev('commit_pushed', T0 + 15 * hour)];

    expect(computeFeatures(events, { ...noCtx, hourProfile: profile }, 'human').off_profile_activity).toBe(0.5);
    expect(computeFeatures(events, noCtx, 'human').off_profile_activity).toBeUndefined();
  });

  it('when a window has no builds or fewer than 4, then there is no build failure rate (absent, not zero) and nothing counts commits or lines', () => {
    const f = computeFeatures([ev('commit_pushed', T0), ev('commit_pushed', T0)], noCtx, 'human');
    const few = computeFeatures([ev('build_completed', T0, { status: 'failure' }), ev('build_completed', T0, { status: 'failure' }), ev('build_completed', T0, { status: 'success' })], noCtx, 'human');

    expect(f).toEqual({ context_switches: 1 });
    expect(few.build_failure_rate).toBeUndefined();
  });

  it('when the profile knows weekday office hours only, then a Saturday at those hours is inside it and 3 a.m. is outside', () => {
    const profile = new Array<number>(168).fill(0);
    for (let d = 0; d < 5; d++) for (let h = 9; h < 17; h++) profile[d * 24 + h] = 1 / 40;
    const saturday10 = Date.parse('2026-03-14T10:00:00Z');
    const monday3 = Date.parse('2026-03-09T03:00:00Z');

    expect(computeFeatures([ev('commit_pushed', saturday10)], { ...noCtx, hourProfile: profile }, 'human').off_profile_activity).toBe(0);
    expect(computeFeatures([ev('commit_pushed', monday3)], { ...noCtx, hourProfile: profile }, 'human').off_profile_activity).toBe(1);
  });

  it('when hours of the week and medians are computed, then Monday 00:00 UTC is slot 0 and even-length medians average the middle two', () => {
    expect(hourOfWeek(Date.parse('2026-03-09T00:30:00Z'))).toBe(0);
    expect(hourOfWeek(Date.parse('2026-03-15T23:59:00Z'))).toBe(167);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
  });
});
