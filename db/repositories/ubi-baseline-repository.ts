import crypto from 'node:crypto';
import { QueryTypes, type Sequelize } from 'sequelize';
import type { ActorType } from '../../domain/model/common';
import { retryTransient } from '../transient';
import { sha256Hex } from '../../lib/receipt-crypto';
import { BASELINE_DAYS, type ColdStartState } from '../../domain/ubi/baselines';
import type { AuditLog } from './audit-log';
import type { ReceiptLedger } from './receipt-ledger';

/** The BASELINE_DAYS days before `asOf` ($3; the day count is $4). */
const RANGE = `occurred_at >= ($3::date - $4::int)::timestamp AT TIME ZONE 'UTC' AND occurred_at < ($3::date)::timestamp AT TIME ZONE 'UTC'`;

export interface BaselineRow {
  scope: 'personal' | 'team';
  subject_id: string;
  actor_type: string;
  feature: string;
  median: number;
  mad: number;
  mean_abs_dev: number;
  samples: number;
  active_days: number;
  state: ColdStartState;
  members: number;
}

/** Baseline recomputation, retention, profile reads, team aggregates and erasure. */
export function createUbiBaselineRepository(sequelize: Sequelize, ledger: ReceiptLedger, audit: AuditLog) {
  const q = <T extends object>(sql: string, bind: unknown[]) => sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT });

  return {
    /** One page of actors (by id), with their daily series and their activity in the BASELINE_DAYS days before `asOf`. */
    async loadActorPage(tenantId: string, asOf: string, afterActorId: string | null, limit: number) {
      const actors = await q<{ actor_id: string; actor_type: ActorType }>(
        `SELECT actor_id, actor_type FROM ubi_actors WHERE tenant_id = $1 AND actor_id > $2 ORDER BY actor_id LIMIT $3`,
        [tenantId, afterActorId ?? '', limit],
      );
      if (actors.length === 0) return { actors, series: [], activeDays: new Map<string, number>(), slots: [] };
      const ids = actors.map((a) => a.actor_id);
      const [series, days, slots] = await Promise.all([
        q<{ actor_id: string; feature: string; vals: number[] }>(
          `SELECT actor_id, feature, array_agg(value ORDER BY day) AS vals FROM ubi_feature_daily
            WHERE tenant_id = $1 AND actor_id = ANY($2::text[]) AND day >= $3::date - $4::int AND day < $3::date GROUP BY 1, 2`,
          [tenantId, ids, asOf, BASELINE_DAYS],
        ),
        q<{ actor_id: string; days: number }>(
          `SELECT actor_id, count(DISTINCT (occurred_at AT TIME ZONE 'UTC')::date)::int AS days FROM ubi_events
            WHERE tenant_id = $1 AND actor_id = ANY($2::text[]) AND ${RANGE} GROUP BY 1`,
          [tenantId, ids, asOf, BASELINE_DAYS],
        ),
        q<{ actor_id: string; slot: number; n: number }>(
          `SELECT actor_id, ((extract(isodow FROM occurred_at AT TIME ZONE 'UTC')::int - 1) * 24 + extract(hour FROM occurred_at AT TIME ZONE 'UTC')::int) AS slot, count(*)::int AS n
             FROM ubi_events WHERE tenant_id = $1 AND actor_id = ANY($2::text[]) AND ${RANGE} GROUP BY 1, 2`,
          [tenantId, ids, asOf, BASELINE_DAYS],
        ),
      ]);
      return { actors, series, activeDays: new Map(days.map((d) => [d.actor_id, d.days])), slots };
    },

    /** Pooled daily values per (team, actor type, feature): humans and agents are never pooled together. */
    loadTeamSeries: (tenantId: string, asOf: string) =>
      q<{ team_id: string; actor_type: string; feature: string; vals: number[]; members: number }>(
        `SELECT a.team_id, a.actor_type, f.feature, array_agg(f.value) AS vals, count(DISTINCT f.actor_id)::int AS members
           FROM ubi_feature_daily f JOIN ubi_actors a ON a.tenant_id = f.tenant_id AND a.actor_id = f.actor_id
          WHERE f.tenant_id = $1 AND a.team_id IS NOT NULL AND f.day >= $2::date - $3::int AND f.day < $2::date
          GROUP BY 1, 2, 3`,
        [tenantId, asOf, BASELINE_DAYS],
      ),

    /** Replaces the baselines of `replaceScope`: of the given subjects, or of the whole scope when `subjects` is null. */
    async saveBaselines(tenantId: string, asOf: string, rows: BaselineRow[], replaceScope: { scope: 'personal' | 'team'; subjects: string[] | null }) {
      await sequelize.transaction(async (transaction) => {
        await sequelize.query(`DELETE FROM ubi_baselines WHERE tenant_id = $1 AND scope = $2 AND ($3::text[] IS NULL OR subject_id = ANY($3::text[]))`, {
          bind: [tenantId, replaceScope.scope, replaceScope.subjects], transaction,
        });
        if (rows.length === 0) return;
        const c = <K extends keyof BaselineRow>(k: K) => rows.map((r) => r[k]);
        await sequelize.query(
          `INSERT INTO ubi_baselines (tenant_id, scope, subject_id, actor_type, feature, median, mad, mean_abs_dev, samples, active_days, state, members, as_of)
           SELECT $1, *, $13::date FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::float8[], $8::float8[], $9::int[], $10::int[], $11::text[], $12::int[])`,
          { bind: [tenantId, c('scope'), c('subject_id'), c('actor_type'), c('feature'), c('median'), c('mad'), c('mean_abs_dev'), c('samples'), c('active_days'), c('state'), c('members'), asOf], transaction },
        );
      });
    },

    async saveProfiles(tenantId: string, asOf: string, rows: Array<{ actor_id: string; actor_type: string; active_days: number; state: ColdStartState; hour_profile: number[] }>) {
      if (rows.length === 0) return;
      await sequelize.query(
        `INSERT INTO ubi_actor_profiles (tenant_id, actor_id, actor_type, active_days, state, hour_profile, as_of)
         SELECT $1, *, $7::date FROM unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::jsonb[])
         ON CONFLICT (tenant_id, actor_id) DO UPDATE SET actor_type = EXCLUDED.actor_type, active_days = EXCLUDED.active_days, state = EXCLUDED.state,
           hour_profile = EXCLUDED.hour_profile, as_of = EXCLUDED.as_of, computed_at = now()`,
        { bind: [tenantId, rows.map((r) => r.actor_id), rows.map((r) => r.actor_type), rows.map((r) => r.active_days), rows.map((r) => r.state), rows.map((r) => JSON.stringify(r.hour_profile)), asOf] },
      );
    },

    /** Deletes one slice of what is older than `cutoff`; returns how many rows went, so callers loop (and heartbeat). */
    async deleteExpiredSlice(tenantId: string, cutoff: Date, limit: number): Promise<number> {
      const at = cutoff.toISOString();
      const day = at.slice(0, 10);
      const counts = await q<{ n: number }>(
        `WITH e AS (DELETE FROM ubi_events WHERE ctid IN (SELECT ctid FROM ubi_events WHERE tenant_id = $1 AND occurred_at < $2 LIMIT $4) RETURNING 1),
              f AS (DELETE FROM ubi_feature_daily WHERE ctid IN (SELECT ctid FROM ubi_feature_daily WHERE tenant_id = $1 AND day < $3::date LIMIT $4) RETURNING 1),
              s AS (DELETE FROM ubi_signals WHERE ctid IN (SELECT ctid FROM ubi_signals WHERE tenant_id = $1 AND created_at < $2 LIMIT $4) RETURNING 1),
              w AS (DELETE FROM ubi_features WHERE tenant_id = $1 AND window_end < $2 RETURNING 1)
         SELECT ((SELECT count(*) FROM e) + (SELECT count(*) FROM f) + (SELECT count(*) FROM s) + (SELECT count(*) FROM w))::int AS n`,
        [tenantId, at, day, limit],
      );
      return counts[0]?.n ?? 0;
    },

    /** Actors not seen since the cutoff leave the roster with their baselines and profile. */
    async deleteStaleActors(tenantId: string, cutoff: Date): Promise<number> {
      const rows = await q<{ n: number }>(
        `WITH a AS (DELETE FROM ubi_actors WHERE tenant_id = $1 AND last_seen < $2 RETURNING actor_id),
              b AS (DELETE FROM ubi_baselines WHERE tenant_id = $1 AND scope = 'personal' AND subject_id IN (SELECT actor_id FROM a)),
              p AS (DELETE FROM ubi_actor_profiles WHERE tenant_id = $1 AND actor_id IN (SELECT actor_id FROM a))
         SELECT count(*)::int AS n FROM a`,
        [tenantId, cutoff.toISOString()],
      );
      return rows[0]?.n ?? 0;
    },

    async profile(tenantId: string, actorId: string) {
      const [actor] = await q<{ actor_id: string; actor_type: ActorType; team_id: string | null; first_seen: Date; last_seen: Date; state: ColdStartState | null; active_days: number | null; hour_profile: number[] | null; as_of: string | null }>(
        `SELECT a.actor_id, a.actor_type, a.team_id, a.first_seen, a.last_seen, p.state, p.active_days, p.hour_profile, to_char(p.as_of, 'YYYY-MM-DD') AS as_of
           FROM ubi_actors a LEFT JOIN ubi_actor_profiles p ON p.tenant_id = a.tenant_id AND p.actor_id = a.actor_id
          WHERE a.tenant_id = $1 AND a.actor_id = $2`,
        [tenantId, actorId],
      );
      if (!actor) return null;
      const [features, baselines] = await Promise.all([
        q<{ time_window: string; feature: string; value: number; window_start: Date; window_end: Date; computed_at: Date }>(
          `SELECT time_window, feature, value, window_start, window_end, computed_at FROM ubi_features WHERE tenant_id = $1 AND actor_id = $2 ORDER BY time_window, feature`,
          [tenantId, actorId],
        ),
        q<BaselineRow & { as_of: string }>(
          `SELECT scope, subject_id, actor_type, feature, median, mad, mean_abs_dev, samples, active_days, state, members, to_char(as_of, 'YYYY-MM-DD') AS as_of
             FROM ubi_baselines WHERE tenant_id = $1 AND scope = 'personal' AND subject_id = $2 ORDER BY feature`,
          [tenantId, actorId],
        ),
      ]);
      return { actor, features, baselines };
    },

    /** Team aggregates per actor type: member counts, feature quartiles of the last 7 days, signal counts by severity. */
    async teamAggregates(tenantId: string, teamId: string) {
      const [members, features, signals] = await Promise.all([
        q<{ actor_type: string; members: number }>(
          `SELECT actor_type, count(*)::int AS members FROM ubi_actors WHERE tenant_id = $1 AND team_id = $2 GROUP BY 1`,
          [tenantId, teamId],
        ),
        q<{ actor_type: string; feature: string; p25: number; median: number; p75: number; actors: number }>(
          `SELECT a.actor_type, f.feature,
                  percentile_cont(0.25) WITHIN GROUP (ORDER BY f.value) AS p25, percentile_cont(0.5) WITHIN GROUP (ORDER BY f.value) AS median,
                  percentile_cont(0.75) WITHIN GROUP (ORDER BY f.value) AS p75, count(DISTINCT f.actor_id)::int AS actors
             FROM ubi_feature_daily f JOIN ubi_actors a ON a.tenant_id = f.tenant_id AND a.actor_id = f.actor_id
            WHERE f.tenant_id = $1 AND a.team_id = $2 AND f.day >= (now() AT TIME ZONE 'UTC')::date - 7
            GROUP BY 1, 2 ORDER BY 1, 2`,
          [tenantId, teamId],
        ),
        q<{ actor_type: string; severity: string; n: number }>(
          `SELECT s.actor_type, s.severity, count(*)::int AS n FROM ubi_signals s JOIN ubi_actors a ON a.tenant_id = s.tenant_id AND a.actor_id = s.actor_id
            WHERE s.tenant_id = $1 AND a.team_id = $2 AND s.created_at >= now() - interval '7 days' GROUP BY 1, 2`,
          [tenantId, teamId],
        ),
      ]);
      return { members, features, signals };
    },

    /**
     * Erasure: every event, feature, baseline, profile, pending change and signal of the actor, and a receipt, in one
     * transaction (all or nothing). The receipt names the actor only by a tenant-scoped hash.
     */
    async eraseActor(tenantId: string, actorId: string, requestedBy: string) {
      // Its deletes lock the actor's rows in several tables, as a concurrent recompute's do in another order.
      return retryTransient(() => sequelize.transaction(async (transaction) => {
        // Waits for a feature micro-batch working on this actor (it holds the same lock shared) so it cannot write after us.
        await sequelize.query(`SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))`, { bind: [tenantId, actorId], transaction });
        const [counts] = await sequelize.query<{ events: number; daily: number; windows: number; baselines: number; profiles: number; signals: number; actors: number }>(
          `WITH e AS (DELETE FROM ubi_events WHERE tenant_id = $1 AND actor_id = $2 RETURNING 1),
                d AS (DELETE FROM ubi_feature_daily WHERE tenant_id = $1 AND actor_id = $2 RETURNING 1),
                w AS (DELETE FROM ubi_features WHERE tenant_id = $1 AND actor_id = $2 RETURNING 1),
                b AS (DELETE FROM ubi_baselines WHERE tenant_id = $1 AND scope = 'personal' AND subject_id = $2 RETURNING 1),
                p AS (DELETE FROM ubi_actor_profiles WHERE tenant_id = $1 AND actor_id = $2 RETURNING 1),
                s AS (DELETE FROM ubi_signals WHERE tenant_id = $1 AND actor_id = $2 RETURNING 1),
                q AS (DELETE FROM ubi_dirty WHERE tenant_id = $1 AND actor_id = $2 RETURNING 1),
                a AS (DELETE FROM ubi_actors WHERE tenant_id = $1 AND actor_id = $2 RETURNING 1)
           SELECT (SELECT count(*) FROM e)::int AS events, (SELECT count(*) FROM d)::int AS daily, (SELECT count(*) FROM w)::int AS windows,
                  (SELECT count(*) FROM b)::int AS baselines, (SELECT count(*) FROM p)::int AS profiles, (SELECT count(*) FROM s)::int AS signals,
                  (SELECT count(*) FROM a)::int AS actors`,
          { bind: [tenantId, actorId], type: QueryTypes.SELECT, transaction },
        );
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        if (total === 0) return null;
        const erased = { events: counts.events, features: counts.daily + counts.windows, baselines: counts.baselines + counts.profiles, signals: counts.signals };
        const actorRef = sha256Hex(`${tenantId}\u0000${actorId}`);
        const receipt = await ledger.append(
          { tenantId, decisionId: `ubi_erasure_${crypto.randomUUID()}`, kind: 'ubi_erasure', payload: { actor_ref_sha256: actorRef, erased, requested_by: requestedBy }, createdAt: new Date() },
          transaction,
        );
        // The audit entry names the actor as the receipt does, by digest: an erasure must not keep the id it erased.
        await audit.record(
          { tenantId, actorSub: requestedBy, action: 'ubi.erase_actor', resourceType: 'ubi_erasure', resourceId: actorRef, before: null, after: { actor_ref_sha256: actorRef, erased, receipt_id: receipt.receipt_id } },
          transaction,
        );
        return { erased, receipt_id: receipt.receipt_id };
      }));
    },
  };
}
export type UbiBaselineRepository = ReturnType<typeof createUbiBaselineRepository>;
