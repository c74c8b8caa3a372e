import { QueryTypes, type Sequelize } from 'sequelize';
import type { Cell } from '../../domain/k-anonymity';
import { latencyBucketSql } from '../../domain/latency-histogram';

/** The raw cells of one tenant's window: every count with the number of distinct actors it covers. */
export interface MetricsCells {
  decisionTotal: Cell;
  byOutcome: Record<string, Cell>;
  bySurface: Record<string, Cell>;
  actionTotal: Cell;
  byActionType: Record<string, Cell>;
  bySuppressionReason: Record<string, Cell>;
  byOutcomeRecorded: Record<string, Cell>;
  notUseful: Cell;
  byApprovalStatus: Record<string, Cell>;
  /** Decision latency histogram: bucket lower bound (ms) -> count. */
  latencyBuckets: Array<{ lower: number; count: number }>;
}

/**
 * Up to this many distinct actors are kept per day and cell. The union of those samples over a window reaches a
 * minimum group size k <= SAMPLE exactly when the cell's real distinct actors do: a day with more actors than the
 * sample holds at least SAMPLE >= k on its own, and a day with fewer is complete. Above it, the raw rows are read.
 */
export const ACTOR_SAMPLE = 100;
/** A UTC day is rolled up once it has been over this long: decisions are stored within seconds of created_at. */
const SETTLE_MS = 15 * 60_000;
const DAY_MS = 86_400_000;

interface Row {
  dim: string;
  key: string;
  n: string;
  actors: string;
}

/**
 * Every cell a decision or an outcome counts in, one row per (day, cell, actor), from the decisions and outcomes the
 * `dw` and `ow` CTEs select: a decision counts in total, its outcome and surface, once per shown action (by type and
 * in the actions total) and once per suppression reason; an outcome by its kind and, for "not useful", once more.
 */
const CELLS = `
  SELECT (d.created_at AT TIME ZONE 'UTC')::date AS day, c.dim, c.key, d.actor_id
    FROM dw AS d CROSS JOIN LATERAL (
      SELECT 'total', '' UNION ALL SELECT 'outcome', d.outcome UNION ALL SELECT 'surface', d.surface
      UNION ALL SELECT 'action_type', t FROM jsonb_array_elements_text(d.action_types) AS t
      UNION ALL SELECT 'action_total', '' FROM jsonb_array_elements_text(d.action_types) AS t
      UNION ALL SELECT 'suppressed', t FROM jsonb_array_elements_text(d.suppressed_reasons) AS t
    ) AS c(dim, key)
  UNION ALL
  SELECT (o.recorded_at AT TIME ZONE 'UTC')::date, c.dim, c.key, o.actor_id
    FROM ow AS o CROSS JOIN LATERAL (
      SELECT 'outcome_recorded', o.outcome UNION ALL SELECT 'not_useful', '' WHERE o.reason = 'not_useful'
    ) AS c(dim, key)`;
const LATENCY = `SELECT (created_at AT TIME ZONE 'UTC')::date AS day, ${latencyBucketSql('latency_ms')} AS bucket FROM dw`;

/** Decisions and outcomes of the given `range` predicate (over the time column named `t`), one tenant. */
function sources(range: (t: string) => string): string {
  return `dw AS (SELECT actor_id, outcome, surface, latency_ms, action_types, suppressed_reasons, created_at FROM decisions WHERE tenant_id = :tenantId AND ${range('created_at')}),
  ow AS (SELECT actor_id, outcome, reason, recorded_at FROM decision_outcomes WHERE tenant_id = :tenantId AND ${range('recorded_at')})`;
}

const ROLL_UP = `
WITH ${sources((t) => `${t} >= :from AND ${t} < :to AND (${t} AT TIME ZONE 'UTC')::date = ANY(CAST(:days AS date[]))`)}
INSERT INTO tenant_metrics_daily (tenant_id, day, dim, key, n, actors)
SELECT :tenantId, day, dim, key, sum(n), (array_agg(actor_id))[1:${ACTOR_SAMPLE}]
  FROM (SELECT day, dim, key, actor_id, count(*) AS n FROM (${CELLS}) AS c GROUP BY day, dim, key, actor_id) AS per_actor GROUP BY day, dim, key
UNION ALL
SELECT :tenantId, day, 'latency', bucket::text, count(*), NULL FROM (${LATENCY}) AS l GROUP BY day, bucket
ON CONFLICT DO NOTHING`;

/**
 * The window: its rolled-up whole days plus the raw rows of the parts before and after them (today, and the part of
 * the first day the window starts in). Actors are counted over the union of the samples and the raw actors.
 */
const READ = `
WITH ${sources((t) => `((${t} >= :since AND ${t} < :headEnd) OR (${t} >= :tailStart AND ${t} < :until))`)},
raw AS (SELECT dim, key, actor_id, count(*) AS n FROM (${CELLS}) AS c GROUP BY dim, key, actor_id),
parts AS MATERIALIZED (
  SELECT dim, key, n, actors[1:CAST(:sample AS int)] AS actors FROM tenant_metrics_daily WHERE tenant_id = :tenantId AND day >= :fullFrom AND day < :fullTo
  UNION ALL
  SELECT dim, key, sum(n), (array_agg(actor_id))[1:CAST(:sample AS int)] FROM raw GROUP BY dim, key
  UNION ALL
  SELECT 'latency', bucket::text, count(*), NULL FROM (${LATENCY}) AS l GROUP BY bucket
),
counts AS (SELECT dim, key, sum(n) AS n FROM parts GROUP BY dim, key),
actors AS (SELECT dim, key, count(*) AS actors FROM (SELECT DISTINCT dim, key, a FROM parts CROSS JOIN LATERAL unnest(parts.actors) AS a) AS u GROUP BY dim, key)
SELECT counts.dim, counts.key, counts.n, coalesce(actors.actors, 0) AS actors FROM counts LEFT JOIN actors USING (dim, key)`;

/** Approvals opened in the window, by the status they are in now (it changes, so approvals are never rolled up). */
const APPROVAL_CELLS = `
SELECT 'status' AS dim, status AS key, count(*) AS n, count(DISTINCT actor_id) AS actors
  FROM action_approvals WHERE tenant_id = :tenantId AND created_at >= :since AND created_at < :until GROUP BY status`;

function cellsOf(rows: Row[], dim: string): Record<string, Cell> {
  const out: Record<string, Cell> = {};
  for (const r of rows) if (r.dim === dim) out[r.key] = { count: Number(r.n), actors: Number(r.actors) };
  return out;
}

const startOfDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Tenant metrics are SQL aggregates: no decision row is ever loaded into Node (FR-13). Whole UTC days are rolled up
 * the first time a read covers them once they are closed, so a read then touches one row per day and cell plus the
 * raw rows of at most two partial days (ADR 0016).
 */
export function createTenantMetricsRepository(sequelize: Sequelize) {
  const select = <T extends object>(sql: string, replacements: Record<string, unknown>) => sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });

  /** Rolls up the closed whole days of [fromMs, toMs) that are not yet, under a per-tenant lock (one roller at a time). */
  async function rollUp(tenantId: string, fromMs: number, toMs: number): Promise<void> {
    const wanted: string[] = [];
    for (let d = fromMs; d < toMs; d += DAY_MS) wanted.push(isoDay(d));
    if (wanted.length === 0) return;
    const missing = async (transaction?: import('sequelize').Transaction) =>
      (await sequelize.query<{ day: string }>(
        `SELECT to_char(w, 'YYYY-MM-DD') AS day FROM unnest(CAST(:wanted AS date[])) AS w
          WHERE NOT EXISTS (SELECT 1 FROM tenant_metrics_days m WHERE m.tenant_id = :tenantId AND m.day = w)`,
        { replacements: { tenantId, wanted: `{${wanted.join(',')}}` }, type: QueryTypes.SELECT, transaction },
      )).map((r) => r.day).sort();
    if ((await missing()).length === 0) return;
    await sequelize.transaction(async (transaction) => {
      await sequelize.query("SELECT pg_advisory_xact_lock(hashtext('tenant_metrics:' || :tenantId))", { replacements: { tenantId }, transaction });
      const days = await missing(transaction);
      if (days.length === 0) return;
      const span = { from: new Date(Date.parse(days[0])), to: new Date(Date.parse(days[days.length - 1]) + DAY_MS) };
      const replacements = { tenantId, ...span, days: `{${days.join(',')}}` };
      await sequelize.query(ROLL_UP, { replacements, transaction });
      await sequelize.query('INSERT INTO tenant_metrics_days (tenant_id, day) SELECT :tenantId, unnest(CAST(:days AS date[])) ON CONFLICT DO NOTHING', { replacements, transaction });
    });
  }

  return {
    /** `minGroupSize` above the actor sample is answered from the raw rows alone (exact, slower). */
    async cells(tenantId: string, since: Date, until: Date, opts: { now?: Date; minGroupSize?: number } = {}): Promise<MetricsCells> {
      const now = (opts.now ?? new Date()).getTime();
      const useRollups = (opts.minGroupSize ?? 0) <= ACTOR_SAMPLE;
      const fullFrom = Math.ceil(since.getTime() / DAY_MS) * DAY_MS;
      const fullTo = Math.min(startOfDay(until.getTime()), startOfDay(now - SETTLE_MS));
      const whole = useRollups && fullTo > fullFrom;
      if (whole) await rollUp(tenantId, fullFrom, fullTo);
      // Without whole days the raw part is the whole window (head ends and tail starts at `until`).
      const r = {
        tenantId, since, until,
        fullFrom: isoDay(whole ? fullFrom : 0), fullTo: isoDay(whole ? fullTo : 0),
        headEnd: whole ? new Date(fullFrom) : until, tailStart: whole ? new Date(fullTo) : until,
        // k distinct actors per part tell as well as all of them whether the union reaches k (see ACTOR_SAMPLE).
        sample: Math.max(1, opts.minGroupSize ?? ACTOR_SAMPLE),
      };
      const [rows, approvals] = await Promise.all([select<Row>(READ, r), select<Row>(APPROVAL_CELLS, r)]);
      const latency = cellsOf(rows, 'latency');
      return {
        decisionTotal: cellsOf(rows, 'total')[''] ?? { count: 0, actors: 0 },
        byOutcome: cellsOf(rows, 'outcome'),
        bySurface: cellsOf(rows, 'surface'),
        actionTotal: cellsOf(rows, 'action_total')[''] ?? { count: 0, actors: 0 },
        byActionType: cellsOf(rows, 'action_type'),
        bySuppressionReason: cellsOf(rows, 'suppressed'),
        byOutcomeRecorded: cellsOf(rows, 'outcome_recorded'),
        notUseful: cellsOf(rows, 'not_useful')[''] ?? { count: 0, actors: 0 },
        byApprovalStatus: cellsOf(approvals, 'status'),
        latencyBuckets: Object.entries(latency).map(([lower, c]) => ({ lower: Number(lower), count: c.count })),
      };
    },
  };
}
export type TenantMetricsRepository = ReturnType<typeof createTenantMetricsRepository>;
