import { continueAsNew, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
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
/** The patch of the step that scores the open days after the baselines: runs recorded before it skip that step. */
const SCORE_OPEN_DAYS_PATCH = 'ubi-score-open-days';

/**
 * Recomputes a tenant's baselines: personal baselines and hour-of-week profiles page by page (a cursor over actor
 * ids), then team baselines, then scores every actor's open days (today, yesterday) against them, so a day already
 * out of the ordinary is signalled now rather than at the actor's next event. Started by the tenant's nightly
 * Schedule or on demand; continues as new with its phase and cursors so a tenant with 100,000 actors keeps a short
 * history.
 */
export async function recomputeBaselinesWorkflow(input: RecomputeBaselinesInput & { runs?: number }): Promise<RecomputeBaselinesResult> {
  const asOf = input.as_of ?? new Date().toISOString().slice(0, 10);
  const limit = input.batch_size ?? DEFAULT_BATCH;
  let after = input.after_actor_id ?? null;
  let processed = input.processed ?? 0;
  let teamBaselines = input.team_baselines ?? 0;
  const runs = (input.runs ?? 0) + 1;
  const pages = input.pages_per_run ?? PAGES_PER_RUN;
  let page = 0;
  const carry = (over: Partial<RecomputeBaselinesInput>) =>
    continueAsNew<typeof recomputeBaselinesWorkflow>({ ...input, as_of: asOf, after_actor_id: after, processed, runs, ...over });

  if (input.phase !== 'score') {
    let done = false;
    for (; page < pages && !done; page++) {
      const r = await batch.recomputeActorBaselines({ tenant_id: input.tenant_id, as_of: asOf, after_actor_id: after, limit });
      processed += r.processed;
      after = r.last_actor_id;
      done = r.done;
      if (!done && workflowInfo().continueAsNewSuggested) break;
    }
    if (!done) return carry({});
    teamBaselines = (await batch.recomputeTeamBaselines({ tenant_id: input.tenant_id, as_of: asOf })).baselines;
    page++;
  }
  const result = { tenant_id: input.tenant_id, as_of: asOf, actors: processed, team_baselines: teamBaselines, runs };
  // Runs recorded before this step ended here; replaying them must not schedule it.
  if (!patched(SCORE_OPEN_DAYS_PATCH)) return result;

  let scoreAfter = input.score_after_actor_id ?? null;
  let signals = input.signals ?? 0;
  for (; page < pages; page++) {
    const s = await batch.scoreOpenDays({ tenant_id: input.tenant_id, after_actor_id: scoreAfter, limit });
    signals += s.signals;
    scoreAfter = s.last_actor_id;
    if (s.done) return { ...result, signals };
    if (workflowInfo().continueAsNewSuggested) break;
  }
  return carry({ phase: 'score', team_baselines: teamBaselines, score_after_actor_id: scoreAfter, signals });
}
