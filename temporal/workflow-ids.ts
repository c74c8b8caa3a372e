/**
 * Workflow ids. A decide request with an Idempotency-Key maps to one workflow id, so a retried request joins the
 * same run (or finds its stored decision) instead of deciding twice. The key is hashed: it is caller-supplied text.
 */
export function decideWorkflowId(tenantId: string, uniquePart: string): string {
  return `decide/${tenantId}/${uniquePart}`;
}
