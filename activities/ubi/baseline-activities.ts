import { Context } from '@temporalio/activity';
import { computeActorBaselines, pooledBaseline } from '../../domain/ubi/baselines';
import type { UbiBaselineRepository, BaselineRow } from '../../db/repositories/ubi-baseline-repository';
import type { UbiConfigRepository } from '../../db/repositories/ubi-config-repository';
import type { UbiFeatureRepository } from '../../db/repositories/ubi-feature-repository';
import type { UbiMetrics } from '../../observability/metrics';
import { openDaysSince, type FeatureBatcher } from './feature-batcher';

export interface UbiBaselineActivityDeps {
  baselines: Pick<UbiBaselineRepository, 'loadActorPage' | 'saveBaselines' | 'saveProfiles' | 'loadTeamSeries' | 'deleteExpiredSlice' | 'deleteStaleActors'>;
  configs: Pick<UbiConfigRepository, 'get'>;
  /** Which actors have open days, for scoring them after a recompute. */
  features: Pick<UbiFeatureRepository, 'openDays'>;
  /** The feature micro-batcher: the recompute scores open days through its batches, so one code path scores and publishes. */
  scorer: Pick<FeatureBatcher, 'rescore'>;
  metrics: UbiMetrics;
}

export interface RecomputePageInput {
  tenant_id: string;
  as_of: string;
  after_actor_id: string | null;
  limit: number;
}

export interface RecomputePageResult {
  processed: number;
  last_actor_id: string | null;
  done: boolean;
}

export interface ScoreOpenDaysInput {
  tenant_id: string;
  after_actor_id: string | null;
  limit: number;
}

export interface ScoreOpenDaysResult {
  actors: number;
  /** Pairs scored here (a pair another batch held is scored by that batch). */
  pairs: number;
  signals: number;
  last_actor_id: string | null;
  done: boolean;
}

/** (actor, day) pairs per scoring batch: the micro-batcher's default batch, so each transaction stays as short as one of its batches. */
const SCORE_CHUNK = 500;

/** Retention deletes in slices this big, heartbeating between them, so no statement holds locks for long. */
const RETENTION_SLICE = 5000;

/** Baseline recomputation and retention: the long batch work the recompute and retention workflows drive. */
export function createUbiBaselineActivities(deps: UbiBaselineActivityDeps) {
  return {
    /** Recomputes the personal baselines and profiles of one page of actors (ordered by id, after the cursor). */
    async recomputeActorBaselines(input: RecomputePageInput): Promise<RecomputePageResult> {
      const end = deps.metrics.baselineRecompute.startTimer({ tenant_id: input.tenant_id, actor_scope: 'personal' });
      const page = await deps.baselines.loadActorPage(input.tenant_id, input.as_of, input.after_actor_id, input.limit);
      Context.current().heartbeat({ loaded: page.actors.length });
      const seriesByActor = new Map<string, Array<{ feature: string; values: number[] }>>();
      for (const s of page.series) {
        const list = seriesByActor.get(s.actor_id) ?? [];
        list.push({ feature: s.feature, values: s.vals.map(Number) });
        seriesByActor.set(s.actor_id, list);
      }
      const slotsByActor = new Map<string, number[]>();
      for (const s of page.slots) {
        const arr = slotsByActor.get(s.actor_id) ?? new Array<number>(168).fill(0);
        arr[s.slot] = s.n;
        slotsByActor.set(s.actor_id, arr);
      }
      const rows: BaselineRow[] = [];
      const profiles: Parameters<UbiBaselineActivityDeps['baselines']['saveProfiles']>[2] = [];
      for (const a of page.actors) {
        const r = computeActorBaselines(seriesByActor.get(a.actor_id) ?? [], page.activeDays.get(a.actor_id) ?? 0, slotsByActor.get(a.actor_id) ?? []);
        profiles.push({ actor_id: a.actor_id, actor_type: a.actor_type, active_days: r.active_days, state: r.state, hour_profile: r.hour_profile });
        for (const f of r.features)
          rows.push({ scope: 'personal', subject_id: a.actor_id, actor_type: a.actor_type, feature: f.feature, median: f.median, mad: f.mad, mean_abs_dev: f.mean_abs_dev, samples: f.samples, active_days: r.active_days, state: r.state, members: 1 });
      }
      await deps.baselines.saveBaselines(input.tenant_id, input.as_of, rows, { scope: 'personal', subjects: page.actors.map((a) => a.actor_id) });
      await deps.baselines.saveProfiles(input.tenant_id, input.as_of, profiles);
      end();
      const last = page.actors.at(-1)?.actor_id ?? input.after_actor_id;
      return { processed: page.actors.length, last_actor_id: last, done: page.actors.length < input.limit };
    },

    /** Team baselines per (team, actor type, feature), pooled over members' daily values; small teams are kept but flagged by `members`. */
    async recomputeTeamBaselines(input: { tenant_id: string; as_of: string }): Promise<{ baselines: number }> {
      const end = deps.metrics.baselineRecompute.startTimer({ tenant_id: input.tenant_id, actor_scope: 'team' });
      const series = await deps.baselines.loadTeamSeries(input.tenant_id, input.as_of);
      const rows: BaselineRow[] = [];
      for (const s of series) {
        // Pooled values: every member's days, so the 28-value cap of personal baselines does not apply.
        const b = pooledBaseline(s.vals.map(Number));
        if (b) rows.push({ scope: 'team', subject_id: s.team_id, actor_type: s.actor_type, feature: s.feature, ...b, samples: s.vals.length, active_days: 0, state: 'ready', members: s.members });
      }
      await deps.baselines.saveBaselines(input.tenant_id, input.as_of, rows, { scope: 'team', subjects: null });
      end();
      return { baselines: rows.length };
    },

    /**
     * Scores the open days (today and yesterday) of one page of actors (by id, after the cursor) against the baselines
     * just recomputed, as the micro-batcher scores them when events arrive: the same batch stores and publishes the
     * signals. Signal ids are per (actor, feature, direction, day), so a day already signalled is not signalled again.
     */
    async scoreOpenDays(input: ScoreOpenDaysInput): Promise<ScoreOpenDaysResult> {
      const page = await deps.features.openDays(input.tenant_id, openDaysSince(Date.now()), input.after_actor_id, input.limit);
      let pairs = 0;
      let signals = 0;
      for (let i = 0; i < page.pairs.length; i += SCORE_CHUNK) {
        const r = await deps.scorer.rescore(page.pairs.slice(i, i + SCORE_CHUNK));
        pairs += r.pairs;
        signals += r.signals.length;
        Context.current().heartbeat({ pairs, signals });
      }
      return { actors: page.actors.length, pairs, signals, last_actor_id: page.actors.at(-1) ?? input.after_actor_id, done: page.actors.length < input.limit };
    },

    async loadUbiRetention(input: { tenant_id: string }): Promise<{ retention_days: number }> {
      return { retention_days: (await deps.configs.get(input.tenant_id)).retention_days };
    },

    /** Deletes what is older than the cutoff, slice by slice with a heartbeat each. */
    async deleteExpiredUbiData(input: { tenant_id: string; cutoff: string }): Promise<{ deleted: number; actors: number }> {
      const cutoff = new Date(input.cutoff);
      let deleted = 0;
      for (;;) {
        const n = await deps.baselines.deleteExpiredSlice(input.tenant_id, cutoff, RETENTION_SLICE);
        deleted += n;
        Context.current().heartbeat({ deleted });
        if (n === 0) break;
      }
      const actors = await deps.baselines.deleteStaleActors(input.tenant_id, cutoff);
      return { deleted, actors };
    },
  };
}
export type UbiBaselineActivities = ReturnType<typeof createUbiBaselineActivities>;
