import { proxyActivities } from '@temporalio/workflow';
import type { RetentionActivities } from '../../activities/retention/retention-activities';
import type { MmmRetentionInput, MmmRetentionResult } from './contract';

const lookup = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '30 seconds',
  // Data governance down: retried for about a quarter of an hour, then the run fails and tomorrow's catches up.
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 6 },
});
const purge = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

/**
 * The MMM engine's daily retention for one tenant (issue 12): decision bodies, outcomes, approvals and the action
 * outbox older than the tenant's retention are purged; receipts stay, verifiable forever. The retention is read when
 * the run starts, so a change applies on the next run.
 */
export async function mmmRetentionWorkflow(input: MmmRetentionInput): Promise<MmmRetentionResult> {
  const { retention_days, source } = await lookup.loadMmmRetention({ tenant_id: input.tenant_id });
  const cutoff = new Date(new Date().getTime() - retention_days * 86_400_000).toISOString();
  const counts = await purge.purgeExpiredMmmData({ tenant_id: input.tenant_id, cutoff });
  return { cutoff, retention_days, source, ...counts };
}
