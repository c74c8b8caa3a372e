/**
 * Workflow ids. A decide request with an Idempotency-Key maps to one workflow id, so a retried request joins the
 * same run (or finds its stored decision) instead of deciding twice. The key is hashed: it is caller-supplied text.
 */
export function decideWorkflowId(tenantId: string, uniquePart: string): string {
  return `decide/${tenantId}/${uniquePart}`;
}

/**
 * The long-lived decision workflow of one (tenant, shard) (ADR 0012). Every decision of the shard's actors is an Update
 * into it, so one actor's decisions always meet in one workflow; the tenant in the id keeps tenants apart.
 */
export function decisionShardWorkflowId(tenantId: string, shard: number): string {
  return `decisions/${tenantId}/shard-${shard}`;
}

/**
 * The shard of an actor: FNV-1a (32 bit) of the actor id, modulo the shard count. Stable across processes and
 * releases (the same actor keeps landing in the same shard while the count stays the same).
 */
export function decisionShardOf(actorId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < actorId.length; i++) {
    h ^= actorId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}

/** One approval workflow per multiplier action: the action id finds it, and the tenant in the id keeps tenants apart. */
export function approvalWorkflowId(tenantId: string, actionId: string): string {
  return `approval/${tenantId}/${actionId}`;
}

/** One enrichment workflow per decision with mentor actions. */
export function mentorEnrichmentWorkflowId(tenantId: string, decisionId: string): string {
  return `mentor/${tenantId}/${decisionId}`;
}

/** One alert delivery workflow per alert-surface decision that shows actions. */
export function alertDeliveryWorkflowId(tenantId: string, decisionId: string): string {
  return `alert/${tenantId}/${decisionId}`;
}

/** Ids of baseline recompute runs: a schedule's runs get the schedule time appended by Temporal. */
export function recomputeWorkflowId(tenantId: string, suffix: string): string {
  return `ubi-baselines/${tenantId}/${suffix}`;
}

/** Ids of UBI retention runs: a schedule's runs get the schedule time appended by Temporal. */
export function ubiRetentionWorkflowId(tenantId: string, suffix: string): string {
  return `ubi-retention/${tenantId}/${suffix}`;
}

/** Ids of the MMM engine's retention runs (decisions, outcomes, approvals, outbox). */
export function mmmRetentionWorkflowId(tenantId: string, suffix: string): string {
  return `mmm-retention/${tenantId}/${suffix}`;
}

/** Ids of a tenant's experiment weight recomputes (ADR 0017): a schedule's runs get the schedule time appended. */
export function experimentWeightsWorkflowId(tenantId: string, suffix: string): string {
  return `mmm-experiments/${tenantId}/${suffix}`;
}
