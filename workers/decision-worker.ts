import fs from 'node:fs';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Activities } from '../activities';
import type { Logger } from '../observability/logger';
import type { Tracing } from '../observability/tracing';
import { OTEL_WORKFLOW_INTERCEPTORS, tracedBundlePath } from '../temporal/bundle-workflows';
import { setWorkflowStackTraces } from '../temporal/workflow-stack-traces';
import { headersSampled, whenSampled } from '../workflows/tracing/sampling';

export interface DecisionWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A pre-built bundle (see temporal/bundle-workflows.ts); without one the worker bundles at start. */
  workflowBundlePath?: string;
  logger?: Logger;
  /** When tracing: workflow and activity spans, workflows run from the traced bundle (ADR 0015). */
  tracing?: Tracing;
  /** The SDK's per-promise stack capture (`WORKFLOW_STACK_TRACES`, temporal/workflow-stack-traces.ts); off unless true. */
  workflowStackTraces?: boolean;
}

/** The plain bundle, or with tracing its traced sibling; neither there: bundle at start (with the interceptors if tracing). */
function bundleOf(opts: DecisionWorkerOptions): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const prebuilt = opts.workflowBundlePath && (opts.tracing ? tracedBundlePath(opts.workflowBundlePath) : opts.workflowBundlePath);
  return prebuilt && fs.existsSync(prebuilt) ? { workflowBundle: { codePath: prebuilt } } : { workflowsPath: require.resolve('../workflows') };
}

/**
 * The decision worker. Decisions are short and run in their first workflow task, so the worker favours many
 * concurrent workflow tasks and local activities over a large sticky cache.
 */
export async function createDecisionWorker(opts: DecisionWorkerOptions): Promise<Worker> {
  const bundle = bundleOf(opts);
  const tracing = opts.tracing;
  const options: WorkerOptions = {
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...bundle,
    ...(tracing
      ? {
          interceptors: {
            // An activity scheduled outside a sampled trace runs with no span (ADR 0015 "Only sampled calls are intercepted").
            activity: [(ctx) => ({ inbound: whenSampled(new OpenTelemetryActivityInboundInterceptor(ctx), headersSampled), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
            // Only used when the worker bundles at start; a prebuilt traced bundle has them already.
            ...(bundle.workflowsPath ? { workflowModules: [OTEL_WORKFLOW_INTERCEPTORS] } : {}),
          },
          sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
        }
      : {}),
    maxConcurrentWorkflowTaskExecutions: 64,
    maxConcurrentLocalActivityExecutions: 128,
    maxConcurrentActivityTaskExecutions: 64,
    maxCachedWorkflows: 500,
    // Decision workflows finish in their first task; sticky queues would only add a second poller per worker.
    stickyQueueScheduleToStartTimeout: '2 seconds',
  };
  // Read by the workflow threads this worker starts (the patched SDK's switch).
  setWorkflowStackTraces(opts.workflowStackTraces === true);
  return Worker.create(options);
}
