import type { WorkflowStartOptions } from '@temporalio/client';
import type { DecideWorkflowInput } from '../workflows/decision/contract';
import type { decideWorkflow } from '../workflows/decision/workflow';
import { ACTOR_ID_ATTR, SURFACE_ATTR, TENANT_ID_ATTR } from './search-attributes';

/**
 * How every decision workflow is started (the API, and tests that start it directly), so search attributes,
 * timeouts and id policies are the same everywhere.
 */
export function decideStartOptions(args: {
  input: DecideWorkflowInput;
  workflowId: string;
  taskQueue: string;
  eagerStart: boolean;
}): WorkflowStartOptions<typeof decideWorkflow> {
  const { request } = args.input;
  return {
    taskQueue: args.taskQueue,
    workflowId: args.workflowId,
    args: [args.input],
    // A concurrent retry with the same key joins the running decision; a completed one is never re-run (its stored
    // decision is returned instead), but one that failed (say, the database was down) may be decided again.
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    requestEagerStart: args.eagerStart,
    workflowTaskTimeout: '5 seconds',
    workflowExecutionTimeout: '2 minutes',
    typedSearchAttributes: [
      { key: TENANT_ID_ATTR, value: request.tenant_id },
      { key: ACTOR_ID_ATTR, value: request.actor_id },
      { key: SURFACE_ATTR, value: request.surface },
    ],
  };
}
