/**
 * recomputeBaselinesWorkflow and ubiRetentionWorkflow on the real Temporal dev server, with the real activity code
 * over an in-memory store; and the tenant schedules created idempotently.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createUbiBaselineActivities } from '../../activities/ubi/baseline-activities';
import { createMetrics } from '../../observability/metrics';
import { baselineScheduleId, ensureUbiSchedules, retentionScheduleId } from '../../temporal/ubi-schedules';
import type { recomputeBaselinesWorkflow } from '../../workflows/baselines/workflow';
import type { ubiRetentionWorkflow } from '../../workflows/retention/workflow';
import { requireEnv, uniqueId } from '../support/harness';
import { createFakeUbiBaselineStore } from '../support/ubi-fakes';
import { quietSdkLogs } from './decision-test-env';

jest.setTimeout(60000);

const { EventType } = temporal.api.enums.v1;

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  quietSdkLogs('ERROR');
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: requireEnv('TEST_TEMPORAL_ADDRESS') });
});
afterAll(async () => {
  await env?.teardown();
});

async function withWorker<T>(store: ReturnType<typeof createFakeUbiBaselineStore>, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = uniqueId('tq-ubi');
  const metrics = createMetrics();
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: requireEnv('WORKFLOW_BUNDLE_PATH') },
    activities: createUbiBaselineActivities({ baselines: store, features: store, scorer: store, configs: { get: async (t) => ({ retention_days: 30, tenant_id: t }) as never }, metrics: metrics.ubi }),
  });
  return worker.runUntil(fn(taskQueue));
}

describe('recomputeBaselinesWorkflow', () => {
  it('when a tenant has more actors than one run takes, then it continues as new with its cursors and every actor is recomputed, then scored, exactly once', async () => {
    const store = createFakeUbiBaselineStore(23);
    const tenant = uniqueId('t');

    const { result, runs } = await withWorker(store, async (taskQueue) => {
      const handle = await env.client.workflow.start<typeof recomputeBaselinesWorkflow>('recomputeBaselinesWorkflow', {
        taskQueue, workflowId: uniqueId('ubi-baselines'), args: [{ tenant_id: tenant, as_of: '2026-03-10', batch_size: 5, pages_per_run: 2 }],
      });
      const r = await handle.result();
      const executions = [];
      for await (const e of env.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) executions.push(e);
      return { result: r, runs: executions.length };
    });

    // 2 pages per run: baselines in runs 1-3 (5 pages, then the team baselines use up run 3), scoring in runs 4-6
    // (5 pages of 5 actors; the last has 3). 12 of the 23 actors have an even number, so 12 signals.
    expect(result).toEqual({ tenant_id: tenant, as_of: '2026-03-10', actors: 23, team_baselines: 1, runs: 6, signals: 12 });
    expect(runs).toBe(6);
    expect(store.pageCalls.map((c) => c.after)).toEqual([null, 'actor-000004', 'actor-000009', 'actor-000014', 'actor-000019']);
    expect(store.rescored).toHaveLength(23 * 2);
    expect(new Set(store.rescored.map((p) => `${p.actor_id}/${p.day}`)).size).toBe(23 * 2);
    expect(store.profiles.size).toBe(23);
    expect(store.profiles.get('actor-000007')).toEqual({ state: 'warming', active_days: 7 });
    expect(store.profiles.get('actor-000003')).toEqual({ state: 'insufficient', active_days: 3 });
    expect(store.saved.has('team:team-1')).toBe(true);
  });
});

describe('recomputeBaselinesWorkflow replay', () => {
  /**
   * Stored histories of older code: a run that pages twice and continues as new, and a run that pages, recomputes the
   * team baselines and completes. Each must replay against the current bundle, so a change to the workflow's command
   * sequence fails here rather than in runs in flight during a deploy (a new step goes behind `patched()`).
   * Re-record after a deliberate, versioned change: RECORD_HISTORIES=1 npx jest tests/workflows/ubi-baselines-workflow.test.ts
   * (then keep the files of older code: `git checkout` them, as tests/replay/decide-replay.test.ts explains).
   */
  const cases = [
    { file: 'recompute-continue-as-new.json', actors: 12, activities: 2, last: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW },
    { file: 'recompute-complete.json', actors: 7, activities: 3, last: EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED },
  ];

  it.each(cases)('when the recorded history $file is replayed, then the current workflow code produces the same commands', async ({ file, actors, activities, last }) => {
    const stored = path.join(__dirname, 'ubi-histories', file);
    if (process.env.RECORD_HISTORIES === '1') {
      const store = createFakeUbiBaselineStore(actors);
      const history = await withWorker(store, async (taskQueue) => {
        const handle = await env.client.workflow.start<typeof recomputeBaselinesWorkflow>('recomputeBaselinesWorkflow', {
          taskQueue, workflowId: uniqueId('ubi-baselines'), args: [{ tenant_id: 'replay-tenant', as_of: '2026-03-10', batch_size: 5, pages_per_run: 2 }],
        });
        await handle.result().catch(() => undefined);
        return env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).fetchHistory();
      });
      fs.mkdirSync(path.dirname(stored), { recursive: true });
      fs.writeFileSync(stored, historyToJSON(history));
    }
    const history = historyFromJSON(JSON.parse(fs.readFileSync(stored, 'utf8')));

    await expect(Worker.runReplayHistory({ workflowBundle: { codePath: requireEnv('WORKFLOW_BUNDLE_PATH') } }, history, `replay-${file}`)).resolves.toBeUndefined();
    const types = (history.events ?? []).map((e) => e.eventType);
    expect(types.filter((t) => t === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toHaveLength(activities);
    expect(types.at(-1)).toBe(last);
  });
});

describe('ubiRetentionWorkflow', () => {
  it("when a tenant's data is older than its retention, then it is deleted slice by slice and the cutoff is retention days back", async () => {
    const store = createFakeUbiBaselineStore(0);
    const before = Date.now();

    const r = await withWorker(store, (taskQueue) =>
      env.client.workflow.execute<typeof ubiRetentionWorkflow>('ubiRetentionWorkflow', { taskQueue, workflowId: uniqueId('ubi-retention'), args: [{ tenant_id: uniqueId('t') }] }),
    );

    expect(r.deleted).toBe(12_000);
    expect(r.actors).toBe(2);
    const cutoffAge = before - Date.parse(r.cutoff);
    expect(Math.abs(cutoffAge - 30 * 86_400_000)).toBeLessThan(60_000);
  });
});

describe('UBI schedules', () => {
  it('when the schedules are ensured twice with a changed cron, then one schedule per kind exists and it holds the new cron', async () => {
    const tenant = uniqueId('t');
    const taskQueue = uniqueId('tq');
    await ensureUbiSchedules(env.client, { tenantId: tenant, baselineCron: '0 2 * * *', taskQueue });
    await ensureUbiSchedules(env.client, { tenantId: tenant, baselineCron: '15 4 * * *', taskQueue });

    const baseline = await env.client.schedule.getHandle(baselineScheduleId(tenant)).describe();
    const retention = await env.client.schedule.getHandle(retentionScheduleId(tenant)).describe();

    expect(baseline.action).toMatchObject({ type: 'startWorkflow', workflowType: 'recomputeBaselinesWorkflow', taskQueue, args: [{ tenant_id: tenant }] });
    expect(baseline.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 4, end: 4, step: 1 }], minute: [{ start: 15, end: 15, step: 1 }] })]);
    expect(retention.action).toMatchObject({ workflowType: 'ubiRetentionWorkflow' });
    await env.client.schedule.getHandle(baselineScheduleId(tenant)).delete();
    await env.client.schedule.getHandle(retentionScheduleId(tenant)).delete();
  });
});
