import { QueryTypes, type Sequelize } from 'sequelize';
import type { UbiEvent } from '../../domain/model/ubi-event';
import { MARK_DIRTY_ON_CONFLICT } from './ubi-feature-repository';

/**
 * Event writes. One statement per batch: the events (unnest of column arrays, ON CONFLICT DO NOTHING so a repeated
 * (tenant_id, event_id) is stored once), the dirty (actor, day) pairs the micro-batcher drains (a pair a batch has
 * claimed is marked again, so it is computed again after that batch, without waiting for it), and the actor roster; rows are locked in key
 * order, so concurrent batches cannot deadlock.
 * One statement is one transaction: the batch is acknowledged only after all three are committed.
 */
export function createUbiEventRepository(sequelize: Sequelize) {
  return {
    async insertBatch(tenantId: string, events: UbiEvent[]): Promise<{ insertedIds: Set<string> }> {
      if (events.length === 0) return { insertedIds: new Set() };
      const cols = {
        ids: [] as string[], actors: [] as string[], types: [] as string[], eventTypes: [] as string[], at: [] as string[],
        sources: [] as string[], teams: [] as Array<string | null>, repos: [] as Array<string | null>, props: [] as string[],
      };
      for (const e of events) {
        cols.ids.push(e.event_id);
        cols.actors.push(e.actor_id);
        cols.types.push(e.actor_type);
        cols.eventTypes.push(e.event_type);
        cols.at.push(e.occurred_at.toISOString());
        cols.sources.push(e.source);
        cols.teams.push(e.team_id);
        cols.repos.push(e.repo_id);
        cols.props.push(JSON.stringify(e.properties));
      }
      const rows = await sequelize.query<{ event_id: string }>(
        `WITH input AS (
           SELECT DISTINCT ON (event_id) * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::jsonb[])
             AS i(event_id, actor_id, actor_type, event_type, occurred_at, source, team_id, repo_id, properties)
         ), ins AS (
           INSERT INTO ubi_events (tenant_id, event_id, actor_id, actor_type, event_type, occurred_at, source, team_id, repo_id, properties)
           SELECT $1, event_id, actor_id, actor_type, event_type, occurred_at, source, team_id, repo_id, properties FROM input
           ON CONFLICT (tenant_id, event_id) DO NOTHING
           RETURNING event_id, actor_id, actor_type, team_id, occurred_at
         ), dirty AS (
           INSERT INTO ubi_dirty (tenant_id, actor_id, day)
           SELECT DISTINCT $1, actor_id, (occurred_at AT TIME ZONE 'UTC')::date FROM ins ORDER BY 2, 3
           ${MARK_DIRTY_ON_CONFLICT}
         ), actors AS (
           INSERT INTO ubi_actors (tenant_id, actor_id, actor_type, team_id, first_seen, last_seen)
           SELECT $1, actor_id, min(actor_type), max(team_id), min(occurred_at), max(occurred_at) FROM ins GROUP BY actor_id ORDER BY actor_id
           ON CONFLICT (tenant_id, actor_id) DO UPDATE SET
             first_seen = LEAST(ubi_actors.first_seen, EXCLUDED.first_seen),
             last_seen = GREATEST(ubi_actors.last_seen, EXCLUDED.last_seen),
             team_id = COALESCE(EXCLUDED.team_id, ubi_actors.team_id)
         )
         SELECT event_id FROM ins`,
        {
          bind: [tenantId, cols.ids, cols.actors, cols.types, cols.eventTypes, cols.at, cols.sources, cols.teams, cols.repos, cols.props],
          type: QueryTypes.SELECT,
        },
      );
      return { insertedIds: new Set(rows.map((r) => r.event_id)) };
    },

    /** The micro-batcher's backlog: pending (actor, day) pairs and the age of the oldest, for readiness and metrics. */
    async backlog(): Promise<{ pending: number; oldestAgeSeconds: number; byTenant: Array<{ tenant_id: string; pending: number }>; lastReceivedAt: string | null }> {
      const byTenant = await sequelize.query<{ tenant_id: string; pending: string; oldest: string | null; last: Date }>(
        `SELECT tenant_id, count(*) AS pending, extract(epoch FROM clock_timestamp() - min(marked_at)) AS oldest, max(marked_at) AS last FROM ubi_dirty GROUP BY tenant_id`,
        { type: QueryTypes.SELECT },
      );
      const lastMs = byTenant.reduce<number | null>((a, r) => Math.max(a ?? -Infinity, new Date(r.last).getTime()), null);
      return {
        pending: byTenant.reduce((a, r) => a + Number(r.pending), 0),
        oldestAgeSeconds: byTenant.reduce((a, r) => Math.max(a, Number(r.oldest ?? 0)), 0),
        byTenant: byTenant.map((r) => ({ tenant_id: r.tenant_id, pending: Number(r.pending) })),
        lastReceivedAt: lastMs === null ? null : new Date(lastMs).toISOString(),
      };
    },

    async knownTenants(): Promise<string[]> {
      const rows = await sequelize.query<{ tenant_id: string }>(
        `SELECT DISTINCT tenant_id FROM ubi_actors UNION SELECT DISTINCT tenant_id FROM ubi_tenant_config`,
        { type: QueryTypes.SELECT },
      );
      return rows.map((r) => r.tenant_id);
    },
  };
}
export type UbiEventRepository = ReturnType<typeof createUbiEventRepository>;
