import { median } from './features';

/** ISSUE: robust baselines over 28 daily values; cold start below 7 active days, warming until 28. */
export const BASELINE_DAYS = 28;
export const MIN_ACTIVE_DAYS = 7;

export type ColdStartState = 'insufficient' | 'warming' | 'ready';

export interface RobustBaseline {
  median: number;
  /** Median absolute deviation (unscaled). */
  mad: number;
  /** Mean absolute deviation around the median: the fallback spread when more than half the days are identical. */
  mean_abs_dev: number;
  samples: number;
}

export function coldStartState(activeDays: number): ColdStartState {
  if (activeDays < MIN_ACTIVE_DAYS) return 'insufficient';
  if (activeDays < BASELINE_DAYS) return 'warming';
  return 'ready';
}

/** Median and MAD of (at most) the last 28 daily values, oldest first. Null when there is no value at all. */
export function robustBaseline(dailyValues: readonly number[]): RobustBaseline | null {
  return pooledBaseline(dailyValues.slice(-BASELINE_DAYS));
}

/** Median and MAD of every value given (team baselines pool all members' days). */
export function pooledBaseline(pooled: readonly number[]): RobustBaseline | null {
  const values = pooled.filter((v) => Number.isFinite(v));
  if (values.length === 0) return null;
  const m = median(values);
  const deviations = values.map((v) => Math.abs(v - m));
  return {
    median: m,
    mad: median(deviations),
    mean_abs_dev: deviations.reduce((a, b) => a + b, 0) / deviations.length,
    samples: values.length,
  };
}

/** 168 shares (hour-of-week slots, UTC) of an actor's events; all zeros when there are none. */
export function hourOfWeekProfile(slotCounts: readonly number[]): number[] {
  const total = slotCounts.reduce((a, b) => a + b, 0);
  return Array.from({ length: 168 }, (_, i) => (total > 0 ? Math.round(((slotCounts[i] ?? 0) / total) * 1e6) / 1e6 : 0));
}

export interface ActorBaselineResult {
  state: ColdStartState;
  active_days: number;
  hour_profile: number[];
  features: Array<{ feature: string } & RobustBaseline>;
}

/** Everything recomputed for one actor: cold-start state, hour-of-week profile, a robust baseline per feature. */
export function computeActorBaselines(series: ReadonlyArray<{ feature: string; values: readonly number[] }>, activeDays: number, slotCounts: readonly number[]): ActorBaselineResult {
  const features: ActorBaselineResult['features'] = [];
  for (const s of series) {
    const b = robustBaseline(s.values);
    if (b) features.push({ feature: s.feature, ...b });
  }
  return { state: coldStartState(activeDays), active_days: activeDays, hour_profile: hourOfWeekProfile(slotCounts), features };
}
