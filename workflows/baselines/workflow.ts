import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { UbiBaselineActivities } from '../../activities/ubi/baseline-activities';
import type { RecomputeBaselinesInput, RecomputeBaselinesResult } from './contract';

/** Long batch work: generous start-to-close, a heartbeat timeout that notices a dead worker within a minute. */
const batch = proxyActivities<UbiBaselineActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

const DEFAULT_BATCH = 500;
/**
 * Pages per run before continuing as new: each page adds 6 events to history, so 200 pages (100,000 actors at the
 * default batch) stay far below the history limits; Temporal's own suggestion ends a run earlier when it asks.
 */
const PAGES_PER_RUN = 200;

/**
 * Recomputes a tenant's baselines: personal baselines and hour-of-week profiles page by page (a cursor over actor
 * ids), then team baselines. Started by the tenant's nightly Schedule or on demand; continues as new with its cursor
 * so a tenant with 100,000 actors keeps a short history.
 */
export async function recomputeBaselinesWorkflow(input: RecomputeBaselinesInput & { runs?: number }): Promise<RecomputeBaselinesResult> {
  const asOf = input.as_of ?? new Date().toISOString().slice(0, 10);
  const limit = input.batch_size ?? DEFAULT_BATCH;
  let after = input.after_actor_id ?? null;
  let processed = input.processed ?? 0;
  const runs = (input.runs ?? 0) + 1;

  const pages = input.pages_per_run ?? PAGES_PER_RUN;
  for (let page = 0; page < pages; page++) {
    const r = await batch.recomputeActorBaselines({ tenant_id: input.tenant_id, as_of: asOf, after_actor_id: after, limit });
    processed += r.processed;
    after = r.last_actor_id;
    if (r.done) {
      const team = await batch.recomputeTeamBaselines({ tenant_id: input.tenant_id, as_of: asOf });
      return { tenant_id: input.tenant_id, as_of: asOf, actors: processed, team_baselines: team.baselines, runs };
    }
    if (workflowInfo().continueAsNewSuggested) break;
  }
  return continueAsNew<typeof recomputeBaselinesWorkflow>({ ...input, as_of: asOf, after_actor_id: after, processed, runs });
}
