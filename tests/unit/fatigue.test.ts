import { emptyFatigueState, FATIGUE_VERDICT_REASON, reserveNudges, type FatigueState, type ReserveRequest } from '../../domain/fatigue';

const WINDOW = 60 * 60_000;

function req(over: Partial<ReserveRequest> = {}): ReserveRequest {
  return { decision_id: 'd1', now: 1_000_000, window_ms: WINDOW, max: 3, candidates: [{ key: 'pb-a', cooldown_ms: 0 }], ...over };
}

describe('reserveNudges', () => {
  it('when the state is empty, then a candidate is granted and recorded with its member and cool-down', () => {
    const { state, verdicts } = reserveNudges(emptyFatigueState(), req({ candidates: [{ key: 'pb-a', cooldown_ms: 5000 }] }));
    expect(verdicts).toEqual(['granted']);
    expect(state).toEqual({
      nudges: [{ at: 1_000_000, member: 'd1:0' }],
      cooldowns: { 'pb-a': { until: 1_005_000, decision_id: 'd1' } },
    });
  });

  it('when candidates exceed the remaining slots, then the first ones win and the rest hit the limit', () => {
    const start: FatigueState = { nudges: [{ at: 999_000, member: 'old:0' }], cooldowns: {} };
    const { state, verdicts } = reserveNudges(
      start,
      req({ candidates: ['a', 'b', 'c', 'd'].map((key) => ({ key, cooldown_ms: 0 })) }),
    );
    expect(verdicts).toEqual(['granted', 'granted', 'fatigue_limit', 'fatigue_limit']);
    expect(state.nudges.map((n) => n.member)).toEqual(['old:0', 'd1:0', 'd1:1']);
  });

  it('when max is 0, then nothing is granted and nothing is recorded', () => {
    const { state, verdicts } = reserveNudges(emptyFatigueState(), req({ max: 0, candidates: [{ key: 'pb-a', cooldown_ms: 1000 }] }));
    expect(verdicts).toEqual(['fatigue_limit']);
    expect(state).toEqual({ nudges: [], cooldowns: {} });
  });

  it('when a nudge is exactly window_ms old, then it has left the window; one ms younger, it still counts', () => {
    const start: FatigueState = { nudges: [{ at: 1_000_000 - WINDOW, member: 'old:0' }], cooldowns: {} };
    const atBoundary = reserveNudges(start, req({ max: 1 }));
    expect(atBoundary.verdicts).toEqual(['granted']);
    expect(atBoundary.state.nudges).toEqual([{ at: 1_000_000, member: 'd1:0' }]);

    const justInside = reserveNudges(start, req({ max: 1, now: 1_000_000 - 1 }));
    expect(justInside.verdicts).toEqual(['fatigue_limit']);
    expect(justInside.state.nudges).toEqual([{ at: 1_000_000 - WINDOW, member: 'old:0' }]);
  });

  it('when another decision set a cool-down that has not ended, then the candidate is cooled down without using a slot', () => {
    const first = reserveNudges(emptyFatigueState(), req({ decision_id: 'd1', now: 0, candidates: [{ key: 'pb-a', cooldown_ms: 60_000 }] }));
    const second = reserveNudges(
      first.state,
      req({
        decision_id: 'd2',
        now: 59_999,
        max: 2,
        candidates: [
          { key: 'pb-a', cooldown_ms: 60_000 },
          { key: 'pb-b', cooldown_ms: 60_000 },
        ],
      }),
    );
    expect(second.verdicts).toEqual(['cooldown', 'granted']);
    expect(second.state.cooldowns['pb-a']).toEqual({ until: 60_000, decision_id: 'd1' });
    expect(second.state.nudges.map((n) => n.member)).toEqual(['d1:0', 'd2:1']);
  });

  it('when the cool-down ends exactly now, then the candidate is granted again and the cool-down renewed', () => {
    const first = reserveNudges(emptyFatigueState(), req({ decision_id: 'd1', now: 0, candidates: [{ key: 'pb-a', cooldown_ms: 60_000 }] }));
    const later = reserveNudges(first.state, req({ decision_id: 'd2', now: 60_000, candidates: [{ key: 'pb-a', cooldown_ms: 60_000 }] }));
    expect(later.verdicts).toEqual(['granted']);
    expect(later.state.cooldowns['pb-a']).toEqual({ until: 120_000, decision_id: 'd2' });
  });

  it('when the candidate has no cool-down, then an existing cool-down on its key does not block it and none is set', () => {
    const start: FatigueState = { nudges: [], cooldowns: { 'pb-a': { until: 2_000_000, decision_id: 'd0' } } };
    const { state, verdicts } = reserveNudges(start, req({ candidates: [{ key: 'pb-a', cooldown_ms: 0 }] }));
    expect(verdicts).toEqual(['granted']);
    expect(state.cooldowns['pb-a']).toEqual({ until: 2_000_000, decision_id: 'd0' });
  });

  it('when the same decision retries, then its own cool-down does not block it and its member is not duplicated', () => {
    const candidates = [{ key: 'pb-a', cooldown_ms: 60_000 }];
    const first = reserveNudges(emptyFatigueState(), req({ decision_id: 'd1', now: 0, candidates }));
    const retry = reserveNudges(first.state, req({ decision_id: 'd1', now: 10, candidates }));
    expect(retry.verdicts).toEqual(['granted']);
    expect(retry.state.nudges).toEqual([{ at: 10, member: 'd1:0' }]);
    expect(retry.state.cooldowns['pb-a']).toEqual({ until: 60_010, decision_id: 'd1' });
  });

  it('when two candidates of one decision share a key, then the second is not blocked by the first', () => {
    const { verdicts } = reserveNudges(
      emptyFatigueState(),
      req({
        candidates: [
          { key: 'pb-a', cooldown_ms: 1000 },
          { key: 'pb-a', cooldown_ms: 1000 },
        ],
      }),
    );
    expect(verdicts).toEqual(['granted', 'granted']);
  });

  it('when cool-downs have expired, then they are dropped from the new state', () => {
    const start: FatigueState = {
      nudges: [],
      cooldowns: { old: { until: 1_000_000, decision_id: 'd0' }, live: { until: 1_000_001, decision_id: 'd0' } },
    };
    const { state } = reserveNudges(start, req({ max: 0 }));
    expect(Object.keys(state.cooldowns)).toEqual(['live']);
  });

  it('when reserving, then the input state is left untouched', () => {
    const start: FatigueState = {
      nudges: [{ at: 999_999, member: 'x:0' }],
      cooldowns: { 'pb-a': { until: 1_000_500, decision_id: 'x' } },
    };
    const snapshot = JSON.parse(JSON.stringify(start)) as FatigueState;
    const { state } = reserveNudges(start, req({ candidates: [{ key: 'pb-b', cooldown_ms: 10 }] }));
    expect(start).toEqual(snapshot);
    expect(state).not.toBe(start);
    expect(state.nudges).not.toBe(start.nudges);
    expect(state.cooldowns).not.toBe(start.cooldowns);
  });
});

describe('FATIGUE_VERDICT_REASON', () => {
  it('when a verdict denies a nudge, then it maps to the suppression reason of the same name', () => {
    expect(FATIGUE_VERDICT_REASON).toEqual({ cooldown: 'cooldown', fatigue_limit: 'fatigue_limit' });
  });
});
