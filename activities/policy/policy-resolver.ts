import type { TenantPolicy } from '../../domain/model/policy';
import { createTtlCache } from '../../lib/ttl-cache';
import type { PolicyClient, PolicySnapshot } from '../clients/policy-client';

/**
 * How the policy of a decision was obtained when the policy service is configured (FR-11), written into its receipt:
 * `none` (a snapshot fresh from the service or its 60 s cache), `cached_snapshot` (service down, a snapshot up to
 * 5 min old served), `fail_closed` (service down and the tenant safety-critical, or no usable snapshot: no actions).
 */
export type PolicyFailMode = 'none' | 'cached_snapshot' | 'fail_closed';

export const POLICY_DEGRADED_REASON = {
  cachedSnapshot: 'policy_service_unavailable_cached_snapshot',
  failClosedSafetyCritical: 'policy_service_unavailable_fail_closed_safety_critical',
  failClosedNoSnapshot: 'policy_service_unavailable_no_snapshot',
} as const;

/** The fail mode a decision used, read back from its degraded reasons (what commitDecision puts in the receipt). */
export function policyFailModeOf(degradedReasons: readonly string[]): PolicyFailMode {
  if (degradedReasons.includes(POLICY_DEGRADED_REASON.failClosedSafetyCritical) || degradedReasons.includes(POLICY_DEGRADED_REASON.failClosedNoSnapshot))
    return 'fail_closed';
  if (degradedReasons.includes(POLICY_DEGRADED_REASON.cachedSnapshot)) return 'cached_snapshot';
  return 'none';
}

export type SnapshotLookup = { snapshot: PolicySnapshot; live: true } | { error: unknown; last?: { snapshot: PolicySnapshot; ageMs: number } };

export interface PolicyResolution {
  policy: TenantPolicy;
  fail_mode: PolicyFailMode;
  degraded_reason?: string;
}

export interface PolicyResolver {
  /** Starts (or reuses) the snapshot lookup; run it in parallel with the local reads. */
  lookup(tenantId: string): Promise<SnapshotLookup>;
  /** Combines the tenant's local policy with the lookup's outcome. */
  resolve(local: TenantPolicy, lookup: SnapshotLookup): PolicyResolution;
}

/** Overlays the service's rules on the local tenant policy: what the service says wins, the rest stays local. */
export function applySnapshot(local: TenantPolicy, snapshot: PolicySnapshot): TenantPolicy {
  return {
    ...local,
    ...snapshot.rules,
    safety_critical: snapshot.safety_critical,
    version: snapshot.version,
    policy_snapshot_id: snapshot.snapshot_id,
  };
}

export function createPolicyResolver(deps: {
  client: Pick<PolicyClient, 'fetchSnapshot'>;
  ttlMs: number;
  staleMaxMs: number;
  now?: () => number;
}): PolicyResolver {
  // Entries are kept past the TTL: the last snapshot is the fallback while the service is down.
  const cache = createTtlCache<PolicySnapshot>({ ttlMs: deps.ttlMs, maxEntries: 10_000, now: deps.now });
  return {
    async lookup(tenantId) {
      try {
        const snapshot = await cache.get(tenantId, () => deps.client.fetchSnapshot(tenantId));
        return { snapshot, live: true };
      } catch (error) {
        const last = cache.peek(tenantId);
        return { error, last: last && { snapshot: last.value, ageMs: last.ageMs } };
      }
    },
    resolve(local, lookup) {
      if ('live' in lookup) return { policy: applySnapshot(local, lookup.snapshot), fail_mode: 'none' };
      const last = lookup.last;
      // Safety-critical as the service last said, else as the tenant's local policy says.
      const safetyCritical = last ? last.snapshot.safety_critical : local.safety_critical;
      const closed = (reason: string): PolicyResolution => ({
        policy: { ...(last ? applySnapshot(local, last.snapshot) : local), allowed_action_types: [], max_nudges_per_window: 0, safety_critical: safetyCritical },
        fail_mode: 'fail_closed',
        degraded_reason: reason,
      });
      if (safetyCritical) return closed(POLICY_DEGRADED_REASON.failClosedSafetyCritical);
      if (last && last.ageMs <= deps.staleMaxMs)
        return { policy: applySnapshot(local, last.snapshot), fail_mode: 'cached_snapshot', degraded_reason: POLICY_DEGRADED_REASON.cachedSnapshot };
      return closed(POLICY_DEGRADED_REASON.failClosedNoSnapshot);
    },
  };
}
