import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { ActorType } from '../../domain/model/common';
import type { ColdStartState, RobustBaseline } from '../../domain/ubi/baselines';
import type { FeatureEvent } from '../../domain/ubi/features';

export interface DirtyPair {
  tenant_id: string;
  actor_id: string;
  day: string;
  marked_at: Date;
}

export interface StoredBaseline extends RobustBaseline {
  feature: string;
  state: ColdStartState;
  active_days: number;
  members: number;
}

/** What `prTimes` finds for the PRs of one tenant. */
export interface PrTimes {
  openedAtMs: Map<string, number>;
  reviews: Map<string, { firstReviewMs: number; changesRequested: boolean }>;
}

/**
 * How a write marks (actor, day) pairs pending (ingestion and `markAndClaim`): a new pair is inserted; one a batch has
 * claimed is only stamped as marked again, so the batch is not waited for and its release leaves the pair pending.
 * Append to `INSERT INTO ubi_dirty (tenant_id, actor_id, day) SELECT … ORDER BY <the key>`.
 */
export const MARK_DIRTY_ON_CONFLICT = `ON CONFLICT (tenant_id, actor_id, day) DO UPDATE SET remarked_at = clock_timestamp()
  WHERE ubi_dirty.claim_id IS NOT NULL AND ubi_dirty.remarked_at IS NULL`;

/** A dirty row `u` free to claim: unclaimed, or its claim older than the timeout in `$2` (ms). */
const CLAIMABLE = `(u.claim_id IS NULL OR u.claimed_at < clock_timestamp() - make_interval(secs => $2 / 1000.0))`;

const key = (t: string, a: string) => `${t}\u0000${a}`;
export { key as actorKey };

/** Key of one subject's baselines in the map `baselines()` returns. */
export const baselineKey = (tenantId: string, scope: 'personal' | 'team', subjectId: string, actorType: string) =>
  `${tenantId}\u0000${scope}\u0000${subjectId}\u0000${actorType}`;

/** What the feature micro-batcher claims (each claim commits on its own), reads and writes (in one transaction a batch). */
export function createUbiFeatureRepository(sequelize: Sequelize) {
  const q = <T extends object>(sql: string, bind: unknown[], transaction?: Transaction) =>
    sequelize.query<T>(sql, { bind, type: QueryTypes.SELECT, transaction });

  /** Stamps the rows `pick` selects (locked, SKIP LOCKED) with claim `$1`: one short statement, committed alone unless in `tx`. */
  const claim = (pick: string, bind: unknown[], tx?: Transaction) =>
    q<DirtyPair>(
      `UPDATE ubi_dirty d SET claim_id = $1, claimed_at = clock_timestamp(), remarked_at = NULL FROM (${pick}) c
        WHERE d.tenant_id = c.tenant_id AND d.actor_id = c.actor_id AND d.day = c.day
        RETURNING d.tenant_id, d.actor_id, to_char(d.day, 'YYYY-MM-DD') AS day, d.marked_at`,
      bind,
      tx,
    );

  return {
    transaction: <T>(fn: (tx: Transaction) => Promise<T>) => sequelize.transaction(fn),

    /**
     * Claims up to `limit` pending pairs, oldest first, for one batch: a short committed UPDATE that stamps them with
     * `claimId` (SKIP LOCKED, so several workers drain side by side). No lock is held afterwards, so ingestion of the
     * same pairs meanwhile does not wait for the batch: it marks the pair again, and the batch's release leaves it
     * pending. A pair is in one live claim at a time; one older than `claimTimeoutMs` is taken again (its batch's
     * process died).
     */
    claimDirty: (claimId: string, limit: number, claimTimeoutMs: number) =>
      claim(`SELECT u.tenant_id, u.actor_id, u.day FROM ubi_dirty u WHERE ${CLAIMABLE} ORDER BY u.marked_at LIMIT $3 FOR UPDATE SKIP LOCKED`, [claimId, claimTimeoutMs, limit]),

    /**
     * Marks the given pairs pending, as ingestion does, and claims them for `claimId`, in one transaction (the baseline
     * recompute scores its open days so). The mark locks every pair until the commit, a conflicting row too even where
     * it is not updated, so another process's claim (SKIP LOCKED) cannot take one in between: the pairs returned are
     * exactly those this batch scores. One another live batch holds is marked again and not claimed (that batch
     * finishes with what it read and leaves it pending; whichever batch claims it next reads the new baselines).
     * Sorted, so two markers take their row locks in the same order.
     */
    markAndClaim: (claimId: string, pairs: Array<{ tenant_id: string; actor_id: string; day: string }>, claimTimeoutMs: number) => {
      if (pairs.length === 0) return Promise.resolve([] as DirtyPair[]);
      const keys = [pairs.map((p) => p.tenant_id), pairs.map((p) => p.actor_id), pairs.map((p) => p.day)];
      return sequelize.transaction(async (tx) => {
        await sequelize.query(
          `INSERT INTO ubi_dirty (tenant_id, actor_id, day)
           SELECT * FROM unnest($1::text[], $2::text[], $3::date[]) ORDER BY 1, 2, 3
           ${MARK_DIRTY_ON_CONFLICT}`,
          { bind: keys, transaction: tx },
        );
        return claim(
          `SELECT u.tenant_id, u.actor_id, u.day FROM ubi_dirty u
             JOIN unnest($3::text[], $4::text[], $5::date[]) AS k(tenant_id, actor_id, day)
               ON u.tenant_id = k.tenant_id AND u.actor_id = k.actor_id AND u.day = k.day
            WHERE ${CLAIMABLE} FOR UPDATE OF u SKIP LOCKED`,
          [claimId, claimTimeoutMs, ...keys],
          tx,
        );
      });
    },

    /**
     * The batch's last write: its pairs are done, except those ingestion or a recompute marked again meanwhile, which
     * become pending (from when they were marked again). Locks in key order, as ingestion does, so the two cannot
     * deadlock.
     */
    async release(tx: Transaction, claimId: string): Promise<void> {
      await sequelize.query(
        `WITH held AS (
           SELECT tenant_id, actor_id, day, remarked_at FROM ubi_dirty WHERE claim_id = $1 ORDER BY 1, 2, 3 FOR UPDATE
         ), done AS (
           DELETE FROM ubi_dirty d USING held h
            WHERE d.tenant_id = h.tenant_id AND d.actor_id = h.actor_id AND d.day = h.day AND h.remarked_at IS NULL
         )
         UPDATE ubi_dirty d SET claim_id = NULL, claimed_at = NULL, marked_at = h.remarked_at, remarked_at = NULL
           FROM held h
          WHERE d.tenant_id = h.tenant_id AND d.actor_id = h.actor_id AND d.day = h.day AND h.remarked_at IS NOT NULL`,
        { bind: [claimId], transaction: tx },
      );
    },

    /** A batch that failed gives its pairs back at once (else they wait out the claim timeout). */
    async unclaim(claimId: string): Promise<void> {
      await sequelize.query('UPDATE ubi_dirty SET claim_id = NULL, claimed_at = NULL, remarked_at = NULL WHERE claim_id = $1', { bind: [claimId] });
    },

    /**
     * The days from `since` on that have daily features, of one page of the tenant's actors (by id, after the
     * cursor): the open days a recompute scores against its new baselines.
     */
    async openDays(tenantId: string, since: string, afterActorId: string | null, limit: number): Promise<{ actors: string[]; pairs: Array<{ tenant_id: string; actor_id: string; day: string }> }> {
      const rows = await q<{ actor_id: string; day: string }>(
        `WITH page AS (
           SELECT DISTINCT actor_id FROM ubi_feature_daily WHERE tenant_id = $1 AND day >= $2::date AND actor_id > $3 ORDER BY actor_id LIMIT $4
         )
         SELECT DISTINCT f.actor_id, to_char(f.day, 'YYYY-MM-DD') AS day
           FROM ubi_feature_daily f JOIN page p ON p.actor_id = f.actor_id
          WHERE f.tenant_id = $1 AND f.day >= $2::date
          ORDER BY 1, 2`,
        [tenantId, since, afterActorId ?? '', limit],
      );
      return { actors: [...new Set(rows.map((r) => r.actor_id))], pairs: rows.map((r) => ({ tenant_id: tenantId, actor_id: r.actor_id, day: r.day })) };
    },

    async events(tx: Transaction, ranges: Array<{ tenant_id: string; actor_id: string; from: Date; to: Date }>): Promise<Map<string, FeatureEvent[]>> {
      const rows = await q<{ tenant_id: string; actor_id: string; event_type: string; occurred_at: Date; repo_id: string | null; properties: Record<string, string | number> }>(
        `SELECT e.tenant_id, e.actor_id, e.event_type, e.occurred_at, e.repo_id, e.properties
           FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) AS r(tenant_id, actor_id, lo, hi)
           JOIN ubi_events e ON e.tenant_id = r.tenant_id AND e.actor_id = r.actor_id AND e.occurred_at >= r.lo AND e.occurred_at < r.hi`,
        [ranges.map((r) => r.tenant_id), ranges.map((r) => r.actor_id), ranges.map((r) => r.from.toISOString()), ranges.map((r) => r.to.toISOString())],
        tx,
      );
      const out = new Map<string, FeatureEvent[]>();
      for (const r of rows) {
        const k = key(r.tenant_id, r.actor_id);
        const list = out.get(k) ?? [];
        list.push({ event_type: r.event_type, occurred_at_ms: new Date(r.occurred_at).getTime(), repo_id: r.repo_id, properties: r.properties });
        out.set(k, list);
      }
      return out;
    },

    /**
     * Per (tenant, PR): when it was first opened, its first review and whether a review requested changes (PR cycle
     * time, review turnaround, pick-up time and rework of merged PRs). A PR without a pr_opened event has no opened
     * time, one without a review no review entry.
     */
    async prTimes(tx: Transaction, prs: Array<{ tenant_id: string; pr_id: string }>): Promise<Map<string, PrTimes>> {
      const out = new Map<string, PrTimes>();
      if (prs.length === 0) return out;
      // One lateral subquery per event type, so each uses its partial index.
      const rows = await q<{ tenant_id: string; pr_id: string; opened: Date | null; first: Date | null; changes: boolean }>(
        `SELECT k.tenant_id, k.pr_id, o.at AS opened, r.first, r.changes
           FROM unnest($1::text[], $2::text[]) AS k(tenant_id, pr_id)
           CROSS JOIN LATERAL (SELECT min(occurred_at) AS at FROM ubi_events
                                WHERE tenant_id = k.tenant_id AND event_type = 'pr_opened' AND properties->>'pr_id' = k.pr_id) o
           CROSS JOIN LATERAL (SELECT min(occurred_at) AS first, bool_or(properties->>'review_state' = 'changes_requested') AS changes FROM ubi_events
                                WHERE tenant_id = k.tenant_id AND event_type = 'pr_review_submitted' AND properties->>'pr_id' = k.pr_id) r`,
        [prs.map((p) => p.tenant_id), prs.map((p) => p.pr_id)], tx,
      );
      for (const r of rows) {
        const t = out.get(r.tenant_id) ?? { openedAtMs: new Map(), reviews: new Map() };
        if (r.opened !== null) t.openedAtMs.set(r.pr_id, new Date(r.opened).getTime());
        if (r.first !== null) t.reviews.set(r.pr_id, { firstReviewMs: new Date(r.first).getTime(), changesRequested: r.changes });
        out.set(r.tenant_id, t);
      }
      return out;
    },

    /**
     * The claimed actors, each under a shared advisory lock until the batch commits: an erasure (eraseActor in
     * ubi-baseline-repository.ts) takes the same lock exclusively, so it waits for a batch in flight, and a batch that
     * finds an erasure in progress leaves that actor alone. A try-lock, never a wait: row locks here deadlocked with
     * concurrent ingestion.
     */
    async actors(tx: Transaction, tenantIds: string[], actorIds: string[]) {
      const rows = await q<{ tenant_id: string; actor_id: string; actor_type: ActorType; team_id: string | null; state: ColdStartState | null; active_days: number | null; hour_profile: number[] | null; locked: boolean }>(
        `SELECT a.tenant_id, a.actor_id, a.actor_type, a.team_id, p.state, p.active_days, p.hour_profile,
                pg_try_advisory_xact_lock_shared(hashtextextended(a.tenant_id || '/' || a.actor_id, 0)) AS locked
           FROM unnest($1::text[], $2::text[]) AS k(tenant_id, actor_id)
           JOIN ubi_actors a ON a.tenant_id = k.tenant_id AND a.actor_id = k.actor_id
           LEFT JOIN ubi_actor_profiles p ON p.tenant_id = a.tenant_id AND p.actor_id = a.actor_id`,
        [tenantIds, actorIds], tx,
      );
      return new Map(rows.filter((r) => r.locked).map((r) => [key(r.tenant_id, r.actor_id), r]));
    },

    /** Personal baselines of the actors, and team baselines of their (team, actor type), keyed by subject. */
    async baselines(tx: Transaction, subjects: Array<{ tenant_id: string; scope: 'personal' | 'team'; subject_id: string; actor_type: string }>): Promise<Map<string, StoredBaseline[]>> {
      if (subjects.length === 0) return new Map();
      const rows = await q<StoredBaseline & { tenant_id: string; scope: 'personal' | 'team'; subject_id: string; actor_type: string }>(
        `SELECT b.tenant_id, b.scope, b.subject_id, b.actor_type, b.feature, b.median, b.mad, b.mean_abs_dev, b.samples, b.active_days, b.state, b.members
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS k(tenant_id, scope, subject_id, actor_type)
           JOIN ubi_baselines b ON b.tenant_id = k.tenant_id AND b.scope = k.scope AND b.subject_id = k.subject_id AND b.actor_type = k.actor_type`,
        [subjects.map((s) => s.tenant_id), subjects.map((s) => s.scope), subjects.map((s) => s.subject_id), subjects.map((s) => s.actor_type)],
        tx,
      );
      const out = new Map<string, StoredBaseline[]>();
      for (const r of rows) {
        const k = baselineKey(r.tenant_id, r.scope, r.subject_id, r.actor_type);
        const list = out.get(k) ?? [];
        list.push(r);
        out.set(k, list);
      }
      return out;
    },

    /**
     * Replaces the daily features of the given pairs: every value upserted (an unchanged key is updated in place, HOT
     * where the page has room), then the pair's rows this transaction did not write (a feature gone since) deleted.
     * `computed_at` is the transaction's start for every row it writes, so "not written here" is `computed_at < now()`.
     */
    async replaceDaily(tx: Transaction, pairs: Array<{ tenant_id: string; actor_id: string; day: string }>, rows: Array<{ tenant_id: string; actor_id: string; actor_type: string; feature: string; day: string; value: number }>) {
      if (rows.length > 0)
        await sequelize.query(
          `INSERT INTO ubi_feature_daily (tenant_id, actor_id, actor_type, feature, day, value, computed_at)
           SELECT k.*, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::float8[]) AS k ORDER BY 1, 2, 4, 5
           ON CONFLICT (tenant_id, actor_id, feature, day) DO UPDATE SET actor_type = EXCLUDED.actor_type, value = EXCLUDED.value, computed_at = EXCLUDED.computed_at`,
          { bind: [rows.map((r) => r.tenant_id), rows.map((r) => r.actor_id), rows.map((r) => r.actor_type), rows.map((r) => r.feature), rows.map((r) => r.day), rows.map((r) => r.value)], transaction: tx },
        );
      await sequelize.query(
        `DELETE FROM ubi_feature_daily f USING unnest($1::text[], $2::text[], $3::date[]) AS k(tenant_id, actor_id, day)
          WHERE f.tenant_id = k.tenant_id AND f.actor_id = k.actor_id AND f.day = k.day AND f.computed_at < now()`,
        { bind: [pairs.map((p) => p.tenant_id), pairs.map((p) => p.actor_id), pairs.map((p) => p.day)], transaction: tx },
      );
    },

    /** Replaces the current window features (1h, 1d, 7d ending now) of the given actors, as `replaceDaily` does. */
    async replaceWindows(tx: Transaction, actors: Array<{ tenant_id: string; actor_id: string }>, rows: Array<{ tenant_id: string; actor_id: string; window: string; feature: string; value: number; start: Date; end: Date }>) {
      if (rows.length > 0)
        await sequelize.query(
          `INSERT INTO ubi_features (tenant_id, actor_id, time_window, feature, value, window_start, window_end, computed_at)
           SELECT k.*, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::timestamptz[], $7::timestamptz[]) AS k ORDER BY 1, 2, 3, 4
           ON CONFLICT (tenant_id, actor_id, time_window, feature) DO UPDATE SET value = EXCLUDED.value, window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end, computed_at = EXCLUDED.computed_at`,
          {
            bind: [rows.map((r) => r.tenant_id), rows.map((r) => r.actor_id), rows.map((r) => r.window), rows.map((r) => r.feature), rows.map((r) => r.value), rows.map((r) => r.start.toISOString()), rows.map((r) => r.end.toISOString())],
            transaction: tx,
          },
        );
      await sequelize.query(
        `DELETE FROM ubi_features f USING unnest($1::text[], $2::text[]) AS k(tenant_id, actor_id)
          WHERE f.tenant_id = k.tenant_id AND f.actor_id = k.actor_id AND f.computed_at < now()`,
        { bind: [actors.map((a) => a.tenant_id), actors.map((a) => a.actor_id)], transaction: tx },
      );
    },
  };
}
export type UbiFeatureRepository = ReturnType<typeof createUbiFeatureRepository>;
