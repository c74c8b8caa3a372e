import { proxyActivities } from '@temporalio/workflow';
import type { ExperimentActivities } from '../../activities/experiments/experiment-activities';
import type { ExperimentWeightsInput, ExperimentWeightsResult } from './contract';

const recompute = proxyActivities<ExperimentActivities>({
  startToCloseTimeout: '30 seconds',
  // The next minute's run catches up; a few quick retries ride out a PostgreSQL blip.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 4 },
});

/**
 * One recompute of a tenant's active experiments (ADR 0017), started every minute by the tenant's Schedule and at once
 * when enough new outcomes arrive: each experiment's guardrails are applied and its weights recomputed from the
 * aggregate counts, one activity per experiment so one failing does not hold up the others.
 */
export async function experimentWeightsWorkflow(input: ExperimentWeightsInput): Promise<ExperimentWeightsResult> {
  const ids = await recompute.listActiveExperiments({ tenant_id: input.tenant_id });
  const experiments = [];
  for (const experiment_id of ids) experiments.push(await recompute.recomputeExperiment({ tenant_id: input.tenant_id, experiment_id }));
  return { tenant_id: input.tenant_id, experiments };
}
