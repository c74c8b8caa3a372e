import type { ActorType } from '../model/common';

/** What a feature is about, when it is worrying, who it applies to, and the smallest spread it is scored with. */
export interface FeatureDef {
  name: string;
  dimension: string;
  /** Which deviation is worth a signal: a falling build failure rate is good news, not an anomaly. */
  concern: 'higher' | 'lower';
  actorTypes: readonly ActorType[];
  /**
   * The floor of the robust spread (in the feature's unit): a perfectly steady baseline (MAD 0) must not turn a tiny
   * change into an infinite z-score.
   */
  minSpread: number;
  unit: string;
}

const BOTH: readonly ActorType[] = ['human', 'ai_agent'];

/**
 * The features. There is deliberately no lines-of-code or commit-count feature: UBI compares an actor with their own
 * history, it does not rank people by output.
 */
export const FEATURES: readonly FeatureDef[] = [
  { name: 'build_failure_rate', dimension: 'build_health', concern: 'higher', actorTypes: BOTH, minSpread: 0.05, unit: 'ratio' },
  { name: 'test_flake_rate', dimension: 'test_health', concern: 'higher', actorTypes: BOTH, minSpread: 0.01, unit: 'ratio' },
  { name: 'deploy_failure_rate', dimension: 'delivery', concern: 'higher', actorTypes: BOTH, minSpread: 0.05, unit: 'ratio' },
  { name: 'pr_cycle_time_hours', dimension: 'delivery', concern: 'higher', actorTypes: BOTH, minSpread: 1, unit: 'hours' },
  { name: 'review_turnaround_hours', dimension: 'review', concern: 'higher', actorTypes: BOTH, minSpread: 1, unit: 'hours' },
  { name: 'pr_pickup_time_hours', dimension: 'review', concern: 'higher', actorTypes: BOTH, minSpread: 1, unit: 'hours' },
  { name: 'rework_ratio', dimension: 'review', concern: 'higher', actorTypes: BOTH, minSpread: 0.1, unit: 'ratio' },
  { name: 'changes_requested_ratio', dimension: 'review', concern: 'higher', actorTypes: BOTH, minSpread: 0.1, unit: 'ratio' },
  { name: 'context_switches', dimension: 'focus', concern: 'higher', actorTypes: ['human'], minSpread: 1, unit: 'repos' },
  { name: 'ide_fragmentation', dimension: 'focus', concern: 'higher', actorTypes: ['human'], minSpread: 0.1, unit: 'ratio' },
  { name: 'off_profile_activity', dimension: 'work_pattern', concern: 'higher', actorTypes: ['human'], minSpread: 0.05, unit: 'ratio' },
  { name: 'pr_acceptance_rate', dimension: 'agent_quality', concern: 'lower', actorTypes: ['ai_agent'], minSpread: 0.05, unit: 'ratio' },
  { name: 'ci_retry_bursts', dimension: 'agent_quality', concern: 'higher', actorTypes: ['ai_agent'], minSpread: 1, unit: 'bursts' },
];
export const FEATURE_BY_NAME: ReadonlyMap<string, FeatureDef> = new Map(FEATURES.map((f) => [f.name, f]));
export const DIMENSIONS = [...new Set(FEATURES.map((f) => f.dimension))];

/** The windows features are kept for (ISSUE: 1 h, 1 d, rolling 7 d); baselines use the daily series. */
export const WINDOWS = { '1h': 3_600_000, '1d': 86_400_000, '7d': 7 * 86_400_000 } as const;
export type WindowName = keyof typeof WINDOWS;

export interface FeatureEvent {
  event_type: string;
  occurred_at_ms: number;
  repo_id: string | null;
  properties: Record<string, string | number>;
}

export interface FeatureContext {
  /** When each PR the events refer to was opened (from `pr_opened` events of the tenant). */
  prOpenedAtMs: ReadonlyMap<string, number>;
  /**
   * Reviews of the PRs the events merge (from `pr_review_submitted` events of the tenant): the first review's time
   * (pick-up time) and whether any review requested changes (rework). Absent: no pick-up time or rework ratio.
   */
  prReviews?: ReadonlyMap<string, { firstReviewMs: number; changesRequested: boolean }>;
  /** The actor's hour-of-week profile (168 shares summing to 1), when a baseline has one. */
  hourProfile?: readonly number[] | null;
}

/** Hour-of-week slot 0..167 (Monday 00:00 UTC = 0). Profiles are kept in UTC. */
export function hourOfWeek(ms: number): number {
  const d = new Date(ms);
  return ((d.getUTCDay() + 6) % 7) * 24 + d.getUTCHours();
}

/**
 * A slot is "outside the profile" when its smoothed share of the actor's own activity is below this. Smoothing: half
 * the slot's own share, half the share of that hour of the day across the week (divided by 7), so working on a
 * Saturday at one's usual hours is inside the profile while working at 3 a.m. is not (bench/ubi-quality.ts: the
 * unsmoothed hour-of-week profile flagged most weekend days).
 */
export const OFF_PROFILE_SHARE = 0.002;

/** Which of the 168 slots are inside the profile (see OFF_PROFILE_SHARE). */
export function inProfileSlots(profile: readonly number[]): boolean[] {
  const hourOfDay = new Array<number>(24).fill(0);
  for (let i = 0; i < 168; i++) hourOfDay[i % 24] += profile[i] ?? 0;
  return Array.from({ length: 168 }, (_, i) => 0.5 * (profile[i] ?? 0) + 0.5 * (hourOfDay[i % 24] / 7) >= OFF_PROFILE_SHARE);
}
/** CI retry burst: at least this many builds on one repo within the burst window. */
export const BURST_MIN_BUILDS = 3;
export const BURST_WINDOW_MS = 10 * 60_000;
/** An IDE session shorter than this counts as a fragment. */
export const SHORT_SESSION_MS = 10 * 60_000;

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * A daily rate over very few trials is mostly noise (2 failures in 3 builds says little), so a rate needs at least
 * this many trials in its window, else it is absent. Measured with bench/ubi-quality.ts: without it most false
 * positives were build failure rates of days with 2-3 builds.
 */
export const MIN_TRIALS = 4;

function ratio(num: number, den: number): number | undefined {
  return den >= MIN_TRIALS ? num / den : undefined;
}

function countBursts(events: readonly FeatureEvent[]): number {
  const byRepo = new Map<string, number[]>();
  for (const e of events) {
    if (e.event_type !== 'build_completed') continue;
    const k = e.repo_id ?? '';
    const list = byRepo.get(k) ?? [];
    list.push(e.occurred_at_ms);
    byRepo.set(k, list);
  }
  let bursts = 0;
  for (const times of byRepo.values()) {
    times.sort((a, b) => a - b);
    let i = 0;
    while (i < times.length) {
      let j = i;
      while (j + 1 < times.length && times[j + 1] - times[i] <= BURST_WINDOW_MS) j++;
      if (j - i + 1 >= BURST_MIN_BUILDS) {
        bursts++;
        i = j + 1;
      } else i++;
    }
  }
  return bursts;
}

/**
 * The features of one actor over one window of events. A feature without data in the window (no builds: no build
 * failure rate) is absent, not zero, so a quiet day never looks like a perfect one.
 */
export function computeFeatures(events: readonly FeatureEvent[], ctx: FeatureContext, actorType: ActorType): Record<string, number> {
  let builds = 0, buildFailures = 0, deploys = 0, deployFailures = 0, tests = 0, flaky = 0;
  let opened = 0, merged = 0, reviews = 0, changesRequested = 0, sessions = 0, shortSessions = 0, offProfile = 0;
  let reviewedMerges = 0, reworkedMerges = 0;
  const cycle: number[] = [];
  const pickup: number[] = [];
  const turnaround: number[] = [];
  const repos = new Set<string>();
  const inProfile = ctx.hourProfile ? inProfileSlots(ctx.hourProfile) : null;
  for (const e of events) {
    if (e.repo_id) repos.add(e.repo_id);
    const p = e.properties;
    switch (e.event_type) {
      case 'build_completed':
        builds++;
        if (p.status === 'failure') buildFailures++;
        break;
      case 'deploy_completed':
        deploys++;
        if (p.status === 'failure') deployFailures++;
        break;
      case 'test_run_completed':
        if (typeof p.test_count === 'number') {
          tests += p.test_count;
          flaky += typeof p.flaky_count === 'number' ? p.flaky_count : 0;
        }
        break;
      case 'pr_opened':
        opened++;
        break;
      case 'pr_merged': {
        merged++;
        const at = ctx.prOpenedAtMs.get(String(p.pr_id));
        if (at !== undefined && e.occurred_at_ms >= at) cycle.push((e.occurred_at_ms - at) / 3_600_000);
        const review = ctx.prReviews?.get(String(p.pr_id));
        if (review) {
          reviewedMerges++;
          if (review.changesRequested) reworkedMerges++;
          if (at !== undefined && review.firstReviewMs >= at) pickup.push((review.firstReviewMs - at) / 3_600_000);
        }
        break;
      }
      case 'pr_review_submitted': {
        reviews++;
        if (p.review_state === 'changes_requested') changesRequested++;
        const at = ctx.prOpenedAtMs.get(String(p.pr_id));
        if (at !== undefined && e.occurred_at_ms >= at) turnaround.push((e.occurred_at_ms - at) / 3_600_000);
        break;
      }
      case 'ide_session':
        sessions++;
        if (typeof p.duration_ms === 'number' && p.duration_ms < SHORT_SESSION_MS) shortSessions++;
        break;
    }
    if (inProfile && !inProfile[hourOfWeek(e.occurred_at_ms)]) offProfile++;
  }
  const out: Record<string, number | undefined> = {
    build_failure_rate: ratio(buildFailures, builds),
    test_flake_rate: ratio(flaky, tests),
    deploy_failure_rate: ratio(deployFailures, deploys),
    pr_cycle_time_hours: cycle.length ? median(cycle) : undefined,
    review_turnaround_hours: turnaround.length ? median(turnaround) : undefined,
    pr_pickup_time_hours: pickup.length ? median(pickup) : undefined,
    rework_ratio: ratio(reworkedMerges, reviewedMerges),
    changes_requested_ratio: ratio(changesRequested, reviews),
    context_switches: events.length ? repos.size : undefined,
    ide_fragmentation: ratio(shortSessions, sessions),
    off_profile_activity: inProfile && events.length ? offProfile / events.length : undefined,
    pr_acceptance_rate: opened >= MIN_TRIALS ? Math.min(1, merged / opened) : undefined,
    ci_retry_bursts: builds ? countBursts(events) : undefined,
  };
  const result: Record<string, number> = {};
  for (const def of FEATURES) {
    const v = out[def.name];
    if (v !== undefined && Number.isFinite(v) && def.actorTypes.includes(actorType)) result[def.name] = Math.round(v * 1e6) / 1e6;
  }
  return result;
}

/** UTC calendar day (YYYY-MM-DD) of a timestamp: the unit of the daily feature series. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
