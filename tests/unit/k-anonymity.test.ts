import { coversEnough, publishBreakdown, publishCount, rate } from '../../domain/k-anonymity';

describe('the minimum group size', () => {
  it('when a cell covers exactly the minimum group size, then it is shown; one actor fewer, then it is not', () => {
    expect(coversEnough({ count: 40, actors: 5 }, 5)).toBe(true);
    expect(coversEnough({ count: 40, actors: 4 }, 5)).toBe(false);
  });

  it('when a breakdown has cells below the minimum, then they are left out and counted, and no key of them remains', () => {
    const out = publishBreakdown({ ide: { count: 100, actors: 9 }, pr: { count: 7, actors: 2 }, ci: { count: 60, actors: 6 }, alert: { count: 3, actors: 1 } }, 5);

    expect(out).toEqual({ counts: { ci: 60, ide: 100 }, suppressed: 2 });
  });

  it('when a breakdown adds up to a published total and exactly one cell is left out, then the smallest other cell is left out too', () => {
    const cells = { shown: { count: 500, actors: 20 }, suppressed: { count: 80, actors: 12 }, no_match: { count: 4, actors: 3 } };

    const out = publishBreakdown(cells, 5, { published: true });

    // Without the second cell, total - shown - suppressed would give no_match back.
    expect(out).toEqual({ counts: { shown: 500 }, suppressed: 2 });
    expect(publishBreakdown(cells, 5)).toEqual({ counts: { shown: 500, suppressed: 80 }, suppressed: 1 });
  });

  it('when the total is itself left out, then no complementary cell is needed', () => {
    const out = publishBreakdown({ a: { count: 10, actors: 3 }, b: { count: 9, actors: 8 } }, 5, { published: false });

    expect(out).toEqual({ counts: { b: 9 }, suppressed: 1 });
  });

  it('when a count is zero, then it is shown as zero (it is about nobody) and never counted as suppressed', () => {
    expect(publishCount(undefined, 5)).toEqual({ value: 0, suppressed: 0 });
    expect(publishCount({ count: 0, actors: 0 }, 5)).toEqual({ value: 0, suppressed: 0 });
    expect(publishBreakdown({ x: { count: 0, actors: 0 } }, 5)).toEqual({ counts: {}, suppressed: 0 });
  });

  it('when a single count covers too few actors, then it is null and counted once', () => {
    expect(publishCount({ count: 12, actors: 4 }, 5)).toEqual({ value: null, suppressed: 1 });
    expect(publishCount({ count: 12, actors: 5 }, 5)).toEqual({ value: 12, suppressed: 0 });
  });

  it('when a rate has a suppressed side or nothing to divide by, then it is null; else rounded to four places', () => {
    expect(rate(null, 10)).toBeNull();
    expect(rate(3, null)).toBeNull();
    expect(rate(3, 0)).toBeNull();
    expect(rate(1, 3)).toBe(0.3333);
  });
});
