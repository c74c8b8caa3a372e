import type { Client } from '@temporalio/client';
import type { AppConfig } from '../config/config';
import { RECEIPT_EMISSION_WORKFLOW_TYPE, receiptEmissionWorkflowId, type ReceiptEmissionInput } from '../workflows/receipts/contract';
import type { receiptEmissionWorkflow } from '../workflows/receipts/workflow';

/** One drain round is 10 s (or less when the poll interval is short, as in tests); 100 rounds per run. */
export function receiptEmissionInput(config: Pick<AppConfig, 'RECEIPT_EMISSION_POLL_MS'>): ReceiptEmissionInput {
  return { round_ms: Math.min(10_000, config.RECEIPT_EMISSION_POLL_MS * 40), rounds_per_run: 100 };
}

/**
 * Starts the emission workflow of this task queue unless it already runs: every replica calls this at start-up and
 * they all join the one run (workflow id per task queue, conflict policy USE_EXISTING).
 */
export async function startReceiptEmission(client: Client, config: Pick<AppConfig, 'TEMPORAL_TASK_QUEUE' | 'RECEIPT_EMISSION_POLL_MS'>): Promise<string> {
  const workflowId = receiptEmissionWorkflowId(config.TEMPORAL_TASK_QUEUE);
  await client.workflow.start<typeof receiptEmissionWorkflow>(RECEIPT_EMISSION_WORKFLOW_TYPE, {
    workflowId,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [receiptEmissionInput(config)],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return workflowId;
}
