/**
 * How a metrics window is read (ADR 0016): whole closed UTC days from day rollups, whole closed hours at either end
 * from hour rollups, and only what is left (under an hour at each end, plus the last minutes not yet settled) from
 * the raw rows. Pure, so the split is unit-tested on its own.
 */
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** A period is rolled up once it ended this long ago: decisions and outcomes are stored within seconds of their time. */
export const SETTLE_MS = 15 * 60_000;

export interface Range {
  from: number;
  to: number;
}

export interface WindowPlan {
  days: Range | null;
  /** Whole hours before the first day and after the last (or all of them when there is no whole day). */
  hours: Range[];
  raw: Range[];
}

const floorTo = (ms: number, unit: number) => Math.floor(ms / unit) * unit;
const ceilTo = (ms: number, unit: number) => Math.ceil(ms / unit) * unit;
const nonEmpty = (ranges: Range[]) => ranges.filter((r) => r.to > r.from);

export function planWindow(since: number, until: number, now: number): WindowPlan {
  const hFrom = ceilTo(since, HOUR_MS);
  const hTo = floorTo(Math.min(until, now - SETTLE_MS), HOUR_MS);
  if (hTo <= hFrom) return { days: null, hours: [], raw: nonEmpty([{ from: since, to: until }]) };
  const raw = nonEmpty([{ from: since, to: hFrom }, { from: hTo, to: until }]);
  const dFrom = ceilTo(hFrom, DAY_MS);
  const dTo = floorTo(hTo, DAY_MS);
  if (dTo <= dFrom) return { days: null, hours: [{ from: hFrom, to: hTo }], raw };
  return { days: { from: dFrom, to: dTo }, hours: nonEmpty([{ from: hFrom, to: dFrom }, { from: dTo, to: hTo }]), raw };
}

/** The starts of the periods of `unit` in a range. */
export function periodStarts(range: Range, unit: number): number[] {
  const out: number[] = [];
  for (let t = range.from; t < range.to; t += unit) out.push(t);
  return out;
}
