import type { MmmPurgeCounts } from '../../db/repositories/retention-repository';
import type { PrivacyGuard } from '../governance/privacy-guard';

/** Issue 12: with neither data governance nor a tenant policy saying otherwise, decisions are kept 90 days. */
export const DEFAULT_RETENTION_DAYS = 90;

export interface RetentionActivityDeps {
  policies: { get(tenantId: string): Promise<{ retention_days?: number }> };
  retention: { purgeExpired(tenantId: string, cutoff: Date): Promise<MmmPurgeCounts> };
  /** Data governance (DATA_GOVERNANCE_BASE_URL): its `retention_days`, when it has one, wins over the tenant policy. */
  privacy?: Pick<PrivacyGuard, 'configured' | 'tenantConfig'>;
}

export type RetentionSource = 'data_governance' | 'tenant_policy';

/** The MMM engine's retention run: how long this tenant keeps decisions, and the purge itself. */
export function createRetentionActivities(deps: RetentionActivityDeps) {
  return {
    /**
     * Data governance first, when configured. If it is configured but does not answer, the activity fails and Temporal
     * retries: falling back to the tenant policy could delete what the tenant's governance keeps longer, and a purge
     * cannot be undone (the next day's run catches up).
     */
    async loadMmmRetention(input: { tenant_id: string }): Promise<{ retention_days: number; source: RetentionSource }> {
      if (deps.privacy?.configured) {
        const config = await deps.privacy.tenantConfig(input.tenant_id);
        const days = config?.retention_days;
        // 0 would delete decisions as they are made; one day is the shortest retention the purge applies.
        if (typeof days === 'number') return { retention_days: Math.max(1, days), source: 'data_governance' };
      }
      const policy = await deps.policies.get(input.tenant_id);
      return { retention_days: policy.retention_days ?? DEFAULT_RETENTION_DAYS, source: 'tenant_policy' };
    },
    async purgeExpiredMmmData(input: { tenant_id: string; cutoff: string }): Promise<MmmPurgeCounts> {
      return deps.retention.purgeExpired(input.tenant_id, new Date(input.cutoff));
    },
  };
}
export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
