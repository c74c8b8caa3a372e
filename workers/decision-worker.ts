import fs from 'node:fs';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Activities } from '../activities';
import type { Logger } from '../observability/logger';

export interface DecisionWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A pre-built bundle (see temporal/bundle-workflows.ts); without one the worker bundles at start. */
  workflowBundlePath?: string;
  logger?: Logger;
}

/**
 * The decision worker. Decisions are short and run in their first workflow task, so the worker favours many
 * concurrent workflow tasks and local activities over a large sticky cache.
 */
export async function createDecisionWorker(opts: DecisionWorkerOptions): Promise<Worker> {
  const bundle =
    opts.workflowBundlePath && fs.existsSync(opts.workflowBundlePath)
      ? { workflowBundle: { codePath: opts.workflowBundlePath } }
      : { workflowsPath: require.resolve('../workflows') };
  const options: WorkerOptions = {
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...bundle,
    maxConcurrentWorkflowTaskExecutions: 64,
    maxConcurrentLocalActivityExecutions: 128,
    maxConcurrentActivityTaskExecutions: 64,
    maxCachedWorkflows: 500,
    // Decision workflows finish in their first task; sticky queues would only add a second poller per worker.
    stickyQueueScheduleToStartTimeout: '2 seconds',
  };
  return Worker.create(options);
}
