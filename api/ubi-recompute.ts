import crypto from 'node:crypto';
import type { Client } from '@temporalio/client';
import { RECOMPUTE_BASELINES_WORKFLOW_TYPE, type RecomputeBaselinesInput } from '../workflows/baselines/contract';
import { recomputeWorkflowId } from '../temporal/workflow-ids';

/** Starts an on-demand recompute run; each has its own id so it shows in the Temporal UI next to the scheduled ones. */
export function createRecomputeStarter(client: Client, taskQueue: string) {
  return {
    async start(tenantId: string): Promise<{ workflow_id: string; run_id: string }> {
      const input: RecomputeBaselinesInput = { tenant_id: tenantId };
      const handle = await client.workflow.start(RECOMPUTE_BASELINES_WORKFLOW_TYPE, {
        taskQueue,
        workflowId: recomputeWorkflowId(tenantId, `manual-${crypto.randomUUID()}`),
        args: [input],
      });
      return { workflow_id: handle.workflowId, run_id: handle.firstExecutionRunId };
    },
  };
}
