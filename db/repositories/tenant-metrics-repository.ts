import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { Cell } from '../../domain/k-anonymity';
import { latencyBucketSql } from '../../domain/latency-histogram';
import { DAY_MS, HOUR_MS, periodStarts, planWindow, type Range } from '../../domain/metrics-window';

/** The cells of one tenant's window: every count with the distinct actors it covers (counted as far as k needs). */
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
 * Up to this many distinct actors are kept per period and cell. Whether the union over a window's parts reaches a
 * minimum group size k <= ACTOR_SAMPLE is then exact: a part with more actors than its sample keeps at least k on its
 * own, a part with fewer is complete. So each part is read with its first k actors only; above ACTOR_SAMPLE, the
 * window is read raw.
 */
export const ACTOR_SAMPLE = 100;

type Unit = 'day' | 'hour';
const UNIT_MS: Record<Unit, number> = { day: DAY_MS, hour: HOUR_MS };

interface Row {
  dim: string;
  key: string;
  n: string;
  actors: string;
}

/**
 * Every cell a decision or an outcome counts in, one row per (period, cell, actor), from the decisions and outcomes
 * the `dw` and `ow` CTEs select: a decision counts in total, its outcome and surface, once per shown action (by type
 * and in the actions total) and once per suppression reason; an outcome by its kind and, for "not useful", once more.
 */
const CELLS = `
  SELECT date_trunc(:unit, d.created_at, 'UTC') AS period, c.dim, c.key, d.actor_id
    FROM dw AS d CROSS JOIN LATERAL (
      SELECT 'total', '' UNION ALL SELECT 'outcome', d.outcome UNION ALL SELECT 'surface', d.surface
      UNION ALL SELECT 'action_type', t FROM jsonb_array_elements_text(d.action_types) AS t
      UNION ALL SELECT 'action_total', '' FROM jsonb_array_elements_text(d.action_types) AS t
      UNION ALL SELECT 'suppressed', t FROM jsonb_array_elements_text(d.suppressed_reasons) AS t
    ) AS c(dim, key)
  UNION ALL
  SELECT date_trunc(:unit, o.recorded_at, 'UTC'), c.dim, c.key, o.actor_id
    FROM ow AS o CROSS JOIN LATERAL (
      SELECT 'outcome_recorded', o.outcome UNION ALL SELECT 'not_useful', '' WHERE o.reason = 'not_useful'
    ) AS c(dim, key)`;
const LATENCY = `SELECT date_trunc(:unit, created_at, 'UTC') AS period, ${latencyBucketSql('latency_ms')} AS bucket FROM dw`;

/** Decisions and outcomes of one tenant whose time (the column named `t`) passes `range`. */
function sources(range: (t: string) => string): string {
  return `dw AS (SELECT actor_id, outcome, surface, latency_ms, action_types, suppressed_reasons, created_at FROM decisions WHERE tenant_id = :tenantId AND ${range('created_at')}),
  ow AS (SELECT actor_id, outcome, reason, recorded_at FROM decision_outcomes WHERE tenant_id = :tenantId AND ${range('recorded_at')})`;
}

const ROLL_UP = `
WITH ${sources((t) => `${t} >= :from AND ${t} < :to AND date_trunc(:unit, ${t}, 'UTC') = ANY(CAST(:periods AS timestamptz[]))`)}
INSERT INTO tenant_metrics_rollups (tenant_id, unit, period_start, dim, key, cell_count, actors)
SELECT :tenantId, :unit, period, dim, key, sum(n), (array_agg(actor_id))[1:${ACTOR_SAMPLE}]
  FROM (SELECT period, dim, key, actor_id, count(*) AS n FROM (${CELLS}) AS c GROUP BY period, dim, key, actor_id) AS per_actor GROUP BY period, dim, key
UNION ALL
SELECT :tenantId, :unit, period, 'latency', bucket::text, count(*), NULL FROM (${LATENCY}) AS l GROUP BY period, bucket
ON CONFLICT DO NOTHING`;

/**
 * The window: its rolled-up days and hours, plus the raw rows of what is left at either end. Actors are counted over
 * the union of each part's first k actors.
 */
const READ = `
WITH ${sources((t) => `((${t} >= :rawHeadFrom AND ${t} < :rawHeadTo) OR (${t} >= :rawTailFrom AND ${t} < :rawTailTo))`)},
raw AS (SELECT dim, key, actor_id, count(*) AS n FROM (${CELLS}) AS c GROUP BY dim, key, actor_id),
parts AS MATERIALIZED (
  SELECT dim, key, cell_count AS n, actors[1:CAST(:sample AS int)] AS actors FROM tenant_metrics_rollups
   WHERE tenant_id = :tenantId AND (
         (unit = 'day' AND period_start >= :dayFrom AND period_start < :dayTo)
      OR (unit = 'hour' AND ((period_start >= :hourAFrom AND period_start < :hourATo) OR (period_start >= :hourBFrom AND period_start < :hourBTo))))
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

const MISSING = `
SELECT to_char(p AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS period FROM unnest(CAST(:periods AS timestamptz[])) AS p
 WHERE NOT EXISTS (SELECT 1 FROM tenant_metrics_periods m WHERE m.tenant_id = :tenantId AND m.unit = :unit AND m.period_start = p)
 ORDER BY p`;

function cellsOf(rows: Row[], dim: string): Record<string, Cell> {
  const out: Record<string, Cell> = {};
  for (const r of rows) if (r.dim === dim) out[r.key] = { count: Number(r.n), actors: Number(r.actors) };
  return out;
}

const pgArray = (isoTimes: string[]) => `{${isoTimes.join(',')}}`;
const iso = (ms: number) => new Date(ms).toISOString();
const EMPTY: Range = { from: 0, to: 0 };

/** Sorted period starts split where one does not follow the last by exactly `unitMs`. */
function consecutiveRuns(periods: string[], unitMs: number): string[][] {
  const runs: string[][] = [];
  for (const p of periods) {
    const last = runs[runs.length - 1];
    if (last && Date.parse(p) - Date.parse(last[last.length - 1]) === unitMs) last.push(p);
    else runs.push([p]);
  }
  return runs;
}

/**
 * Tenant metrics are SQL aggregates: no decision row is ever loaded into Node (FR-13). Closed UTC days and hours are
 * rolled up the first time a read covers them (domain/metrics-window.ts says which), so a read touches one row per
 * period and cell plus the raw rows of under an hour at either end (ADR 0016).
 */
export function createTenantMetricsRepository(sequelize: Sequelize) {
  const select = <T extends object>(sql: string, replacements: Record<string, unknown>, transaction?: Transaction) =>
    sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT, transaction });

  const missing = async (tenantId: string, unit: Unit, periods: string[], transaction?: Transaction) =>
    (await select<{ period: string }>(MISSING, { tenantId, unit, periods: pgArray(periods) }, transaction)).map((r) => r.period);

  /** Rolls up the periods not rolled up yet, under a per-tenant lock (one roller at a time; the others then find them done). */
  async function rollUp(tenantId: string, wanted: Array<{ unit: Unit; periods: string[] }>): Promise<void> {
    const todo = (await Promise.all(wanted.filter((w) => w.periods.length).map(async (w) => ({ ...w, periods: await missing(tenantId, w.unit, w.periods) })))).filter((w) => w.periods.length);
    if (todo.length === 0) return;
    await sequelize.transaction(async (transaction) => {
      await sequelize.query("SELECT pg_advisory_xact_lock(hashtext('tenant_metrics:' || :tenantId))", { replacements: { tenantId }, transaction });
      for (const w of todo) {
        // Each run of consecutive periods is one scan of its own time range (the hours at a window's two ends are a month apart).
        for (const periods of consecutiveRuns(await missing(tenantId, w.unit, w.periods, transaction), UNIT_MS[w.unit])) {
          const replacements = { tenantId, unit: w.unit, periods: pgArray(periods), from: periods[0], to: iso(Date.parse(periods[periods.length - 1]) + UNIT_MS[w.unit]) };
          await sequelize.query(ROLL_UP, { replacements, transaction });
          await sequelize.query('INSERT INTO tenant_metrics_periods (tenant_id, unit, period_start) SELECT :tenantId, :unit, unnest(CAST(:periods AS timestamptz[])) ON CONFLICT DO NOTHING', { replacements, transaction });
        }
      }
    });
  }

  return {
    /** `minGroupSize` above the actor sample is answered from the raw rows alone (exact, slower). */
    async cells(tenantId: string, since: Date, until: Date, opts: { now?: Date; minGroupSize?: number } = {}): Promise<MetricsCells> {
      const k = opts.minGroupSize ?? ACTOR_SAMPLE;
      const plan = k <= ACTOR_SAMPLE
        ? planWindow(since.getTime(), until.getTime(), (opts.now ?? new Date()).getTime())
        : { days: null, hours: [], raw: [{ from: since.getTime(), to: until.getTime() }] };
      await rollUp(tenantId, [
        { unit: 'day', periods: plan.days ? periodStarts(plan.days, DAY_MS).map(iso) : [] },
        { unit: 'hour', periods: plan.hours.flatMap((h) => periodStarts(h, HOUR_MS)).map(iso) },
      ]);
      const [rawHead = EMPTY, rawTail = EMPTY] = plan.raw;
      const [hourA = EMPTY, hourB = EMPTY] = plan.hours;
      const days = plan.days ?? EMPTY;
      const r = {
        tenantId, since, until, unit: 'hour', sample: Math.max(1, k),
        rawHeadFrom: iso(rawHead.from), rawHeadTo: iso(rawHead.to), rawTailFrom: iso(rawTail.from), rawTailTo: iso(rawTail.to),
        dayFrom: iso(days.from), dayTo: iso(days.to),
        hourAFrom: iso(hourA.from), hourATo: iso(hourA.to), hourBFrom: iso(hourB.from), hourBTo: iso(hourB.to),
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
