/**
 * WORKFLOW_STACK_TRACES (ADR 0012, "Stack traces off"): the production decision worker leaves the SDK's per-promise
 * stack capture out unless asked, through the patched SDK (patches/@temporalio+worker+1.24.0.patch). Off, the
 * `__stack_trace` query of a running workflow says stack traces are not enabled on that worker; on, it answers with
 * the workflow's stack. Without the patch applied the first case fails (the SDK always captures).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createMemoryFatigueStore } from '../../activities/fatigue/memory-fatigue-store';
import { createDecisionWorker } from '../../workers/decision-worker';
import { createFakeRepos } from '../support/fakes';
import { requireEnv, uniqueId } from '../support/harness';
import { quietSdkLogs } from './decision-test-env';

jest.setTimeout(60_000);

let env: TestWorkflowEnvironment;
const stops: Array<() => Promise<void>> = [];

beforeAll(async () => {
  quietSdkLogs('ERROR');
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: requireEnv('TEST_TEMPORAL_ADDRESS') });
});
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
  await env?.teardown();
});

/** A decision worker as workers/runtime.ts creates it, on a task queue of its own; `undefined`: the default. */
async function workerWith(workflowStackTraces: boolean | undefined): Promise<string> {
  const taskQueue = uniqueId('tq-stack');
  const worker: Worker = await createDecisionWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: createActivities({ repos: createFakeRepos(), fatigueStore: createMemoryFatigueStore() }),
    workflowBundlePath: requireEnv('WORKFLOW_BUNDLE_PATH'),
    ...(workflowStackTraces === undefined ? {} : { workflowStackTraces }),
  });
  const running = worker.run();
  stops.push(async () => {
    worker.shutdown();
    await running;
  });
  return taskQueue;
}

/** Starts a long-lived workflow (it waits for Updates) on the queue and asks it for its stack. */
async function stackQuery(taskQueue: string): Promise<string> {
  const handle = await env.client.workflow.start('pingShardWorkflow', { taskQueue, workflowId: uniqueId('stack') });
  stops.push(() => handle.terminate().then(() => undefined, () => undefined));
  return handle.query<string>('__stack_trace');
}

it('when the worker runs with the default (off), then a running workflow answers its stack query with "not enabled"', async () => {
  const taskQueue = await workerWith(undefined);
  await expect(stackQuery(taskQueue)).rejects.toThrow(/stack traces are not enabled/i);
});

it('when WORKFLOW_STACK_TRACES is on for a worker, then the same query answers with the workflow\'s stack', async () => {
  const taskQueue = await workerWith(true);
  const stack = await stackQuery(taskQueue);
  expect(stack).toMatch(/pingShardWorkflow|condition/);
});
