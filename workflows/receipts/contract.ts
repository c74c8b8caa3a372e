/** The ERIS emission workflow (ADR 0009): one per task queue, draining the receipt outbox for ever. */
export interface ReceiptEmissionInput {
  /** How long one drain activity runs before returning (bounds history growth per unit of time). */
  round_ms: number;
  /** Rounds before the workflow continues as new, keeping its history short. */
  rounds_per_run: number;
}

export const RECEIPT_EMISSION_WORKFLOW_TYPE = 'receiptEmissionWorkflow';

export function receiptEmissionWorkflowId(taskQueue: string): string {
  return `receipt-emission/${taskQueue}`;
}
