import crypto from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Sequelize } from 'sequelize';
import type { AuditLog } from '../db/repositories/audit-log';
import { RECOMPUTE_BASELINES_WORKFLOW_TYPE, type RecomputeBaselinesInput } from '../workflows/baselines/contract';
import { recomputeWorkflowId } from '../temporal/workflow-ids';

/**
 * Starts an on-demand recompute run; each has its own id so it shows in the Temporal UI next to the scheduled ones.
 * An admin's recompute is an admin mutation: its audit entry is written in a transaction that commits only once the
 * workflow has started, so a start that fails leaves no entry (and the entry names the run it started).
 */
export function createRecomputeStarter(client: Client, taskQueue: string, store: { sequelize: Sequelize; audit: AuditLog }) {
  return {
    async start(tenantId: string, requestedBy: string): Promise<{ workflow_id: string; run_id: string }> {
      const input: RecomputeBaselinesInput = { tenant_id: tenantId };
      const workflowId = recomputeWorkflowId(tenantId, `manual-${crypto.randomUUID()}`);
      return store.sequelize.transaction(async (transaction) => {
        const handle = await client.workflow.start(RECOMPUTE_BASELINES_WORKFLOW_TYPE, { taskQueue, workflowId, args: [input] });
        const started = { workflow_id: handle.workflowId, run_id: handle.firstExecutionRunId };
        await store.audit.record(
          { tenantId, actorSub: requestedBy, action: 'ubi.recompute_baselines', resourceType: 'ubi_recompute', resourceId: tenantId, before: null, after: started },
          transaction,
        );
        return started;
      });
    },
  };
}
