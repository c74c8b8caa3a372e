/**
 * Workflow ids. A decide request with an Idempotency-Key maps to one workflow id, so a retried request joins the
 * same run (or finds its stored decision) instead of deciding twice. The key is hashed: it is caller-supplied text.
 */
export function decideWorkflowId(tenantId: string, uniquePart: string): string {
  return `decide/${tenantId}/${uniquePart}`;
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
