/**
 * alertDeliveryWorkflow on the suite's real Temporal server, with the real alert activities over a real HTTP alerting
 * service and an in-memory outbox. The hour-long retry window is not waited out: for the give-up path the worker's
 * deliverAlert is replaced by one that fails for good, which is what the workflow sees when the window closes.
 */
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createAlertingClient } from '../../activities/clients/alerting-client';
import { createServiceClient } from '../../lib/clients/service-client';
import { createMemoryFatigueStore } from '../../activities/fatigue/memory-fatigue-store';
import type { OutboxEntry } from '../../db/repositories/outbox-repository';
import type { AlertPayload } from '../../domain/alerting';
import { alertDeliveryWorkflowId } from '../../temporal/workflow-ids';
import { ALERT_DELIVERY_WORKFLOW_TYPE, type AlertDeliveryInput } from '../../workflows/alerts/contract';
import type { alertDeliveryWorkflow } from '../../workflows/alerts/workflow';
import { startFakeService, type FakeService } from '../support/fake-service';
import { createFakeRepos } from '../support/fakes';
import { requireEnv, uniqueId } from '../support/harness';
import { quietSdkLogs } from './decision-test-env';

let env: TestWorkflowEnvironment;
let alerting: FakeService;
beforeAll(async () => {
  quietSdkLogs('ERROR');
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: requireEnv('TEST_TEMPORAL_ADDRESS') });
  // Alert ids starting with "refuse" are refused; the rest accepted.
  alerting = await startFakeService((call) => (String(call.body?.alert_id).startsWith('refuse') ? { status: 422, body: {} } : { status: 202, body: {} }));
});
afterAll(async () => {
  await alerting?.close();
  await env?.teardown();
});

function alert(alertId: string, tenant: string): AlertPayload {
  return { alert_id: alertId, tenant_id: tenant, decision_id: 'dec-1', action_type: 'mirror', playbook_id: 'pb-1', playbook_version: 1, title: 'Build failures', body: 'Three builds failed.', severity: 'medium' };
}

async function run(input: AlertDeliveryInput, opts: { deliverFailsForGood?: boolean } = {}) {
  const outbox: OutboxEntry[] = [];
  const taskQueue = uniqueId('tq-alert');
  const activities = createActivities({
    repos: createFakeRepos(),
    fatigueStore: createMemoryFatigueStore(),
    alerts: {
      alerting: createAlertingClient(createServiceClient({ name: 'alerting', baseUrl: alerting.url, timeoutMs: 2_000 })),
      outbox: {
        async record(entry) {
          if (!outbox.some((r) => r.idempotency_key === entry.idempotency_key)) outbox.push(entry);
          return { outbox_id: String(outbox.length) };
        },
      },
    },
  });
  if (opts.deliverFailsForGood)
    activities.deliverAlert = async () => {
      throw ApplicationFailure.nonRetryable('alerting: answered 503 (retry window closed)', 'RetryWindowClosed');
    };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: { codePath: requireEnv('WORKFLOW_BUNDLE_PATH') },
    activities,
  });
  const result = await worker.runUntil(
    env.client.workflow.execute<typeof alertDeliveryWorkflow>(ALERT_DELIVERY_WORKFLOW_TYPE, {
      args: [input],
      taskQueue,
      workflowId: alertDeliveryWorkflowId(input.tenant_id, input.decision_id),
    }),
  );
  return { result, outbox };
}

test('when one alert is accepted and another refused, then each has its outcome and only the refusal is recorded', async () => {
  const tenant = uniqueId('t-alert');
  const { result, outbox } = await run({ tenant_id: tenant, decision_id: 'dec-1', alerts: [alert('ok-1', tenant), alert('refuse-1', tenant)] });
  expect(result).toEqual([
    { alert_id: 'ok-1', outcome: 'delivered' },
    { alert_id: 'refuse-1', outcome: 'refused', status: 422 },
  ]);
  expect(outbox).toEqual([expect.objectContaining({ idempotency_key: 'refuse-1', target: 'alerting', status: 'refused' })]);
  expect(alerting.callsTo('/v1/alerts').filter((c) => c.body.tenant_id === tenant)).toHaveLength(2);
});

test('when delivery fails for good (the retry window closed), then the workflow records the alert as gave_up instead of failing', async () => {
  const tenant = uniqueId('t-alert');
  const { result, outbox } = await run({ tenant_id: tenant, decision_id: 'dec-2', alerts: [alert('late-1', tenant)] }, { deliverFailsForGood: true });
  expect(result).toEqual([{ alert_id: 'late-1', outcome: 'gave_up' }]);
  expect(outbox).toEqual([expect.objectContaining({ idempotency_key: 'late-1', target: 'alerting', status: 'gave_up' })]);
});
