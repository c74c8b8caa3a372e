/**
 * Decision workflows against the suite's real Temporal dev server: the pre-built workflow bundle, the real activity
 * code over in-memory fakes, and one worker per fatigue-store flavour on its own task queue. Shared by the workflow
 * tests and the replay tests (which record their histories with it).
 */
import crypto from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { FatigueStore } from '../../activities/fatigue/fatigue-store';
import { createMemoryFatigueStore } from '../../activities/fatigue/memory-fatigue-store';
import { canonicalJson, sha256Hex } from '../../lib/receipt-crypto';
import { decideStartOptions } from '../../temporal/decide-start-options';
import { decideWorkflowId } from '../../temporal/workflow-ids';
import { DECIDE_WORKFLOW_TYPE, decideWorkflowInputSchema, type DecideRequest, type DecideWorkflowInput } from '../../workflows/decision/contract';
import type { decideWorkflow } from '../../workflows/decision/workflow';
import { createDecisionClient, type DecisionClient, type DecisionClientOptions } from '../../workflows/decision/client';
import { createFakeRepos, createFakeUnavailableFatigueStore, type FakeRepos } from '../support/fakes';
import { requireEnv, uniqueId } from '../support/harness';

export interface DecisionTestEnv {
  env: TestWorkflowEnvironment;
  repos: FakeRepos;
  /** Task queue served by a worker whose fatigue store works (the in-memory one). */
  taskQueue: string;
  /** Task queue served by a worker whose fatigue store throws on every call. */
  unavailableFatigueTaskQueue: string;
  startDecision(request: DecideRequest, opts?: { taskQueue?: string; workflowId?: string; decisionId?: string }): Promise<WorkflowHandle<typeof decideWorkflow>>;
  /** The production decision client (workflows/decision/client.ts) on this environment's task queue. */
  decisionClient(opts?: Partial<Omit<DecisionClientOptions, 'client'>>): DecisionClient;
  teardown(): Promise<void>;
}

/** Worker state changes are logged at INFO; a passing test run should print only the test results. */
export function quietSdkLogs(level: 'WARN' | 'ERROR' = 'WARN'): void {
  // One Runtime per process (per test file under jest): one that already exists keeps its logger.
  if (!Runtime._instance)
    Runtime.install({ logger: new DefaultLogger(level), telemetryOptions: { logging: { filter: { core: level, other: level } } } });
}

async function startWorker(env: TestWorkflowEnvironment, taskQueue: string, repos: FakeRepos, fatigueStore: FatigueStore) {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: requireEnv('WORKFLOW_BUNDLE_PATH') },
    activities: createActivities({ repos, fatigueStore }),
  });
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
  };
}

/** The workflow input the API builds (api/decide-service.ts), validated against the current contract. */
export function decideInput(request: DecideRequest, decisionId = `dec_${crypto.randomUUID()}`, idempotencyKey: string | null = null): DecideWorkflowInput {
  return decideWorkflowInputSchema.parse({
    decision_id: decisionId,
    request,
    actor_roles: [],
    received_at_ms: Date.now(),
    idempotency_key: idempotencyKey,
    request_sha256: sha256Hex(canonicalJson(request)),
  });
}

export async function startDecisionTestEnv(): Promise<DecisionTestEnv> {
  // ERROR: some tests fail activities on purpose (a store that is down); the SDK reports those at WARN.
  quietSdkLogs('ERROR');
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: requireEnv('TEST_TEMPORAL_ADDRESS') });
  const repos = createFakeRepos();
  const taskQueue = uniqueId('tq-decide');
  const unavailableFatigueTaskQueue = uniqueId('tq-decide-nofatigue');
  const stops = await Promise.all([
    startWorker(env, taskQueue, repos, createMemoryFatigueStore()),
    startWorker(env, unavailableFatigueTaskQueue, repos, createFakeUnavailableFatigueStore()),
  ]);
  return {
    env,
    repos,
    taskQueue,
    unavailableFatigueTaskQueue,
    async startDecision(request, opts = {}) {
      // The production start options (temporal/decide-start-options.ts): same search attributes and timeouts.
      return env.client.workflow.start<typeof decideWorkflow>(
        DECIDE_WORKFLOW_TYPE,
        decideStartOptions({
          input: decideInput(request, opts.decisionId),
          workflowId: opts.workflowId ?? decideWorkflowId(request.tenant_id, uniqueId('wf')),
          taskQueue: opts.taskQueue ?? taskQueue,
          eagerStart: false,
        }),
      );
    },
    decisionClient(opts = {}) {
      return createDecisionClient({ client: env.client, taskQueue, shards: 8, maxDecisionsPerRun: 1000, ...opts });
    },
    async teardown() {
      await Promise.all(stops.map((stop) => stop()));
      await env.teardown();
    },
  };
}

/** Quiet hours (UTC) from an hour before to an hour after `now`, so the window surely holds the workflow's clock. */
export function quietHoursAround(now = new Date()): { start: string; end: string; timezone: string } {
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  return { start: hhmm(now.getTime() - 60 * 60_000), end: hhmm(now.getTime() + 60 * 60_000), timezone: 'UTC' };
}
