/**
 * UBI explanations in words people read: "91% of builds failed (typically 0–28%)" rather than "build failure rate was
 * 0.909091 ratio". Pure; the signal keeps the raw numbers beside the text (signal-builder.ts).
 */
import type { BaselineSource } from './scoring';
import { SHORT_SESSION_MS, type FeatureDef } from './features';

/** Counts are whole things: the noun of each count unit, singular and plural. */
const COUNT_NOUNS: Readonly<Record<string, { one: string; many: string }>> = {
  repos: { one: 'repository', many: 'repositories' },
  bursts: { one: 'burst', many: 'bursts' },
};

/**
 * What each feature's value says, with `{value}` where the formatted value goes. A feature missing here falls back
 * to its name (a unit test keeps every feature in the table).
 */
export const FEATURE_PHRASES: Readonly<Record<string, string>> = {
  build_failure_rate: '{value} of builds failed',
  test_flake_rate: '{value} of tests were flaky',
  deploy_failure_rate: '{value} of deploys failed',
  pr_cycle_time_hours: 'pull requests took {value} from opening to merge',
  review_turnaround_hours: 'reviews came {value} after the pull request was opened',
  pr_pickup_time_hours: 'pull requests waited {value} for a first review',
  rework_ratio: '{value} of reviewed pull requests had changes requested before merging',
  changes_requested_ratio: '{value} of reviews requested changes',
  context_switches: 'work was spread over {value}',
  ide_fragmentation: `{value} of IDE sessions were shorter than ${SHORT_SESSION_MS / 60_000} minutes`,
  off_profile_activity: '{value} of activity fell outside the usual working hours',
  pr_acceptance_rate: '{value} of opened pull requests were merged',
  ci_retry_bursts: '{value} of CI retries',
};

/** Up to `digits` decimals, without trailing zeros: 3.20 -> "3.2", 3.0 -> "3". */
function trim(n: number, digits: number): string {
  const f = 10 ** digits;
  const r = Math.round(n * f) / f;
  return String(Object.is(r, -0) ? 0 : r);
}

/** A share as a percentage: whole percent from 10 % on, one decimal below (a 0.4 % flake rate is not "0%"). */
function percent(ratio: number): string {
  const p = ratio * 100;
  return Math.abs(p) >= 10 ? trim(p, 0) : trim(p, 1);
}

/** A duration in hours as people say it: minutes below an hour, else hours with one decimal. */
function duration(hours: number): { n: string; unit: 'min' | 'h' } {
  const minutes = Math.round(hours * 60);
  return minutes < 60 ? { n: String(minutes), unit: 'min' } : { n: trim(hours, 1), unit: 'h' };
}

/** One value in its unit, for people: "91%", "3.2 h", "45 min", "6 repositories"; an unknown unit keeps its name. */
export function formatMeasure(unit: string, value: number): string {
  if (unit === 'ratio') return `${percent(value)}%`;
  if (unit === 'hours') {
    const d = duration(value);
    return `${d.n} ${d.unit}`;
  }
  const noun = COUNT_NOUNS[unit];
  if (noun) {
    const n = Math.round(value);
    return `${n} ${n === 1 ? noun.one : noun.many}`;
  }
  return `${trim(value, 2)} ${unit}`;
}

/**
 * A typical range in its unit: "0–28%", "20–45 min", "20 min–4.5 h", "1–3". A share is kept within 0–100 %; a count
 * range holds the whole numbers inside it (2.7 allows at most 2), or the nearest one when it holds none.
 */
export function formatRange(unit: string, range: readonly [number, number]): string {
  const [lo, hi] = range;
  if (unit === 'ratio') return `${percent(Math.max(0, lo))}–${percent(Math.min(1, hi))}%`;
  if (unit === 'hours') {
    const a = duration(Math.max(0, lo));
    const b = duration(hi);
    // "0–4.5 h", not "0 min–4.5 h": zero needs no unit of its own.
    return a.unit === b.unit || a.n === '0' ? `${a.n}–${b.n} ${b.unit}` : `${a.n} ${a.unit}–${b.n} ${b.unit}`;
  }
  if (COUNT_NOUNS[unit]) {
    const a = Math.max(0, Math.ceil(lo - 1e-9));
    const b = Math.floor(hi + 1e-9);
    if (a > b) return `about ${Math.round((lo + hi) / 2)}`;
    return a === b ? String(a) : `${a}–${b}`;
  }
  return `${trim(lo, 2)}–${trim(hi, 2)} ${unit}`;
}

export interface ExplanationText {
  /** The whole sentence: "91% of builds failed (typically 0–28%; personal baseline over 28 days)". */
  summary: string;
  actual_text: string;
  typical_range_text: string;
}

/** The words of one signal's explanation; the numbers they come from stay in the explanation beside them. */
export function explanationText(i: { def: Pick<FeatureDef, 'name' | 'unit'>; value: number; typical_range: readonly [number, number]; source: BaselineSource; samples: number }): ExplanationText {
  const actual = formatMeasure(i.def.unit, i.value);
  const range = formatRange(i.def.unit, i.typical_range);
  const phrase = FEATURE_PHRASES[i.def.name] ?? `${i.def.name.replace(/_/g, ' ')} was {value}`;
  // A team baseline pools its members' days, so its samples are member-days.
  const over = `${i.source} baseline over ${i.samples} ${i.source === 'team' ? 'member-days' : i.samples === 1 ? 'day' : 'days'}`;
  return { summary: `${phrase.replace('{value}', actual)} (typically ${range}; ${over})`, actual_text: actual, typical_range_text: range };
}
