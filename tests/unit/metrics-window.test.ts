import { DAY_MS, HOUR_MS, periodStarts, planWindow, SETTLE_MS } from '../../domain/metrics-window';

const at = (iso: string) => Date.parse(iso);

describe('how a metrics window is read', () => {
  it('when the window is the last 30 days, then the whole days come from day rollups, the hours at both ends from hour rollups, and under an hour at each end raw', () => {
    const now = at('2026-12-02T15:40:00Z');
    const plan = planWindow(now - 30 * DAY_MS, now, now);

    expect(plan.days).toEqual({ from: at('2026-11-03T00:00:00Z'), to: at('2026-12-02T00:00:00Z') });
    expect(plan.hours).toEqual([
      { from: at('2026-11-02T16:00:00Z'), to: at('2026-11-03T00:00:00Z') },
      // 15:00-16:00 has not settled (it ends after now - 15 min): read raw.
      { from: at('2026-12-02T00:00:00Z'), to: at('2026-12-02T15:00:00Z') },
    ]);
    expect(plan.raw).toEqual([
      { from: at('2026-11-02T15:40:00Z'), to: at('2026-11-02T16:00:00Z') },
      { from: at('2026-12-02T15:00:00Z'), to: now },
    ]);
  });

  it('when the window is shorter than an hour or has not settled, then it is read raw as a whole', () => {
    const now = at('2026-12-02T15:10:00Z');

    expect(planWindow(now - 20 * 60_000, now, now)).toEqual({ days: null, hours: [], raw: [{ from: now - 20 * 60_000, to: now }] });
    expect(planWindow(at('2026-12-02T14:00:00Z'), now, now).hours).toEqual([]);
  });

  it('when the window covers hours but no whole day, then it is hour rollups and raw', () => {
    const plan = planWindow(at('2026-12-01T09:30:00Z'), at('2026-12-01T18:00:00Z'), at('2026-12-02T00:00:00Z'));

    expect(plan).toEqual({
      days: null,
      hours: [{ from: at('2026-12-01T10:00:00Z'), to: at('2026-12-01T18:00:00Z') }],
      raw: [{ from: at('2026-12-01T09:30:00Z'), to: at('2026-12-01T10:00:00Z') }],
    });
  });

  it('when the window lies on day boundaries in the past, then it is day rollups alone', () => {
    expect(planWindow(at('2026-11-01T00:00:00Z'), at('2026-11-04T00:00:00Z'), at('2026-12-02T00:00:00Z'))).toEqual({
      days: { from: at('2026-11-01T00:00:00Z'), to: at('2026-11-04T00:00:00Z') },
      hours: [],
      raw: [],
    });
  });

  it('when periods are listed, then each starts one unit after the last', () => {
    expect(periodStarts({ from: 0, to: 3 * HOUR_MS }, HOUR_MS)).toEqual([0, HOUR_MS, 2 * HOUR_MS]);
    expect(SETTLE_MS).toBe(15 * 60_000);
  });
});
