import { QueryTypes, type Sequelize } from 'sequelize';
import type { Cell } from '../../domain/k-anonymity';

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
  latency: { p50: number | null; p95: number | null };
}

interface Row {
  dim: string;
  key: string;
  n: string;
  actors: string;
}

/**
 * Decisions of the window, reduced per actor first (one pass over the covering index of migration 010), then per
 * cell: a cell's distinct actors are then counted over a few thousand rows instead of every decision.
 */
const DECISION_CELLS = `
WITH d AS MATERIALIZED (
  SELECT actor_id, outcome, surface, action_types, suppressed_reasons
    FROM decisions WHERE tenant_id = :tenantId AND created_at >= :since AND created_at < :until
),
per_actor AS (SELECT actor_id, outcome, surface, count(*) AS n FROM d GROUP BY actor_id, outcome, surface),
actions AS (
  SELECT d.actor_id, t.v, count(*) AS n FROM d CROSS JOIN LATERAL jsonb_array_elements_text(d.action_types) AS t(v)
   WHERE d.action_types <> '[]' GROUP BY d.actor_id, t.v
),
reasons AS (
  SELECT d.actor_id, t.v, count(*) AS n FROM d CROSS JOIN LATERAL jsonb_array_elements_text(d.suppressed_reasons) AS t(v)
   WHERE d.suppressed_reasons <> '[]' GROUP BY d.actor_id, t.v
)
SELECT 'total' AS dim, '' AS key, coalesce(sum(n), 0) AS n, count(DISTINCT actor_id) AS actors FROM per_actor
UNION ALL SELECT 'outcome', outcome, sum(n), count(DISTINCT actor_id) FROM per_actor GROUP BY outcome
UNION ALL SELECT 'surface', surface, sum(n), count(DISTINCT actor_id) FROM per_actor GROUP BY surface
UNION ALL SELECT 'action_total', '', coalesce(sum(n), 0), count(DISTINCT actor_id) FROM actions
UNION ALL SELECT 'action_type', v, sum(n), count(*) FROM actions GROUP BY v
UNION ALL SELECT 'suppressed', v, sum(n), count(*) FROM reasons GROUP BY v`;

const LATENCY = `
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
  FROM decisions WHERE tenant_id = :tenantId AND created_at >= :since AND created_at < :until`;

/** Outcomes recorded in the window (whatever the age of their decision), with the decision's actor. */
const OUTCOME_CELLS = `
SELECT 'outcome' AS dim, outcome AS key, count(*) AS n, count(DISTINCT actor_id) AS actors
  FROM decision_outcomes WHERE tenant_id = :tenantId AND recorded_at >= :since AND recorded_at < :until GROUP BY outcome
UNION ALL
SELECT 'reason', reason, count(*), count(DISTINCT actor_id)
  FROM decision_outcomes WHERE tenant_id = :tenantId AND recorded_at >= :since AND recorded_at < :until AND reason IS NOT NULL GROUP BY reason`;

/** Approvals opened in the window, by the status they are in now (final once their workflow has ended). */
const APPROVAL_CELLS = `
SELECT 'status' AS dim, status AS key, count(*) AS n, count(DISTINCT actor_id) AS actors
  FROM action_approvals WHERE tenant_id = :tenantId AND created_at >= :since AND created_at < :until GROUP BY status`;

function cellsOf(rows: Row[], dim: string): Record<string, Cell> {
  const out: Record<string, Cell> = {};
  for (const r of rows) if (r.dim === dim) out[r.key] = { count: Number(r.n), actors: Number(r.actors) };
  return out;
}

const numberOrNull = (v: unknown) => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);

/** Tenant metrics are SQL aggregates: no decision row is ever loaded into Node (FR-13). */
export function createTenantMetricsRepository(sequelize: Sequelize) {
  const select = <T extends object>(sql: string, replacements: Record<string, unknown>) => sequelize.query<T>(sql, { replacements, type: QueryTypes.SELECT });
  return {
    async cells(tenantId: string, since: Date, until: Date): Promise<MetricsCells> {
      const r = { tenantId, since, until };
      // Four independent reads on four pool connections: PostgreSQL runs them side by side.
      const [decisions, latency, outcomes, approvals] = await Promise.all([
        select<Row>(DECISION_CELLS, r),
        select<{ p50: unknown; p95: unknown }>(LATENCY, r),
        select<Row>(OUTCOME_CELLS, r),
        select<Row>(APPROVAL_CELLS, r),
      ]);
      return {
        decisionTotal: cellsOf(decisions, 'total')[''] ?? { count: 0, actors: 0 },
        byOutcome: cellsOf(decisions, 'outcome'),
        bySurface: cellsOf(decisions, 'surface'),
        actionTotal: cellsOf(decisions, 'action_total')[''] ?? { count: 0, actors: 0 },
        byActionType: cellsOf(decisions, 'action_type'),
        bySuppressionReason: cellsOf(decisions, 'suppressed'),
        byOutcomeRecorded: cellsOf(outcomes, 'outcome'),
        notUseful: cellsOf(outcomes, 'reason').not_useful ?? { count: 0, actors: 0 },
        byApprovalStatus: cellsOf(approvals, 'status'),
        latency: { p50: numberOrNull(latency[0]?.p50), p95: numberOrNull(latency[0]?.p95) },
      };
    },
  };
}
export type TenantMetricsRepository = ReturnType<typeof createTenantMetricsRepository>;
