import { coversEnough, publishBreakdown, publishCount, rate, type Cell } from '../domain/k-anonymity';
import { histogramPercentile } from '../domain/latency-histogram';
import { METRICS_DEFAULT_WINDOW_DAYS, type TenantMetrics } from '../domain/model/tenant-metrics';
import type { TenantMetricsRepository } from '../db/repositories/tenant-metrics-repository';

export interface TenantMetricsDeps {
  metrics: TenantMetricsRepository;
  /** The tenant's UBI config holds its minimum group size. */
  configs: { get(tenantId: string): Promise<{ min_group_size: number }> };
  /** Per experiment and arm, the window's shown decisions, their acceptances and the distinct actors they cover. */
  experiments: { windowArms(tenantId: string, since: Date, until: Date): Promise<Array<{ experiment_id: string; status: 'draft' | 'active' | 'paused' | 'completed'; arms: Array<{ arm_id: string; shown: number; accepted: number; actors: number }> }>> };
}

/**
 * The tenant metrics use case (FR-13): SQL aggregates of the window, each cell held to the tenant's minimum group
 * size. The window defaults to the last 30 days; outcomes are those recorded in it, approvals those opened in it.
 */
export async function tenantMetrics(deps: TenantMetricsDeps, tenantId: string, window: { since?: string; until?: string }, now = new Date()): Promise<TenantMetrics> {
  const until = window.until ? new Date(window.until) : now;
  const since = window.since ? new Date(window.since) : new Date(until.getTime() - METRICS_DEFAULT_WINDOW_DAYS * 86_400_000);
  const k = (await deps.configs.get(tenantId)).min_group_size;
  const [cells, experimentArms] = await Promise.all([deps.metrics.cells(tenantId, since, until, { now, minGroupSize: k }), deps.experiments.windowArms(tenantId, since, until)]);
  let suppressedCells = 0;
  const one = (cell: Cell | undefined) => {
    const p = publishCount(cell, k);
    suppressedCells += p.suppressed;
    return p.value;
  };
  const many = (breakdown: Record<string, Cell>, total?: number | null) => {
    const p = publishBreakdown(breakdown, k, total === undefined ? undefined : { published: total !== null });
    suppressedCells += p.suppressed;
    return p.counts;
  };

  const total = one(cells.decisionTotal);
  const shown = one(cells.actionTotal);
  // Latency describes the engine, yet over too few actors it would still describe them: it follows the total.
  const latencyShown = cells.decisionTotal.count === 0 || coversEnough(cells.decisionTotal, k);
  if (!latencyShown) suppressedCells++;
  const accepted = one(cells.byOutcomeRecorded.accepted);
  return {
    tenant_id: tenantId,
    since: since.toISOString(),
    until: until.toISOString(),
    min_group_size: k,
    decisions: { total, by_outcome: many(cells.byOutcome, total), by_surface: many(cells.bySurface, total) },
    actions: { shown, by_type: many(cells.byActionType, shown) },
    suppressed: many(cells.bySuppressionReason),
    outcomes: {
      accepted,
      dismissed: one(cells.byOutcomeRecorded.dismissed),
      ignored: one(cells.byOutcomeRecorded.ignored),
      snoozed: one(cells.byOutcomeRecorded.snoozed),
      not_useful: one(cells.notUseful),
      acceptance_rate: rate(accepted, shown),
    },
    approvals: many(cells.byApprovalStatus),
    latency_ms: latencyShown ? { p50: histogramPercentile(cells.latencyBuckets, 0.5), p95: histogramPercentile(cells.latencyBuckets, 0.95) } : { p50: null, p95: null },
    // Each arm is a cell of its own: shown to fewer than k actors, its count (and so its rate) is left out.
    experiments: experimentArms.map((e) => ({
      experiment_id: e.experiment_id,
      status: e.status,
      arms: e.arms.map((a) => {
        const armShown = one({ count: a.shown, actors: a.actors });
        return { arm_id: a.arm_id, shown: armShown, acceptance_rate: armShown === null ? null : rate(a.accepted, armShown) };
      }),
    })),
    suppressed_cells: suppressedCells,
  };
}
