import { proxyActivities } from '@temporalio/workflow';
import type { UbiBaselineActivities } from '../../activities/ubi/baseline-activities';
import type { UbiRetentionInput, UbiRetentionResult } from './contract';

const fastLookup = proxyActivities<UbiBaselineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});
const batch = proxyActivities<UbiBaselineActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/** Deletes a tenant's UBI data older than its retention (read when the run starts, so a config change applies next run). */
export async function ubiRetentionWorkflow(input: UbiRetentionInput): Promise<UbiRetentionResult> {
  const { retention_days } = await fastLookup.loadUbiRetention({ tenant_id: input.tenant_id });
  const cutoff = new Date(new Date().getTime() - retention_days * 86_400_000).toISOString();
  const r = await batch.deleteExpiredUbiData({ tenant_id: input.tenant_id, cutoff });
  return { cutoff, ...r };
}
