/**
 * deliverAlert and recordUndeliveredAlert over the real alerting and data governance clients, each service played by
 * a real HTTP server, and an in-memory outbox: which answers are retried (thrown), which are a refusal (recorded,
 * not thrown), and that what leaves the engine went through the data governance redaction.
 */
import { createAlertActivities } from '../../activities/alerts/alert-activities';
import { createAlertingClient } from '../../activities/clients/alerting-client';
import { createDataGovernanceClient } from '../../activities/clients/data-governance-client';
import { createServiceClient } from '../../lib/clients/service-client';
import { createPrivacyGuard } from '../../activities/governance/privacy-guard';
import type { OutboxEntry } from '../../db/repositories/outbox-repository';
import type { AlertPayload } from '../../domain/alerting';
import { createMetrics } from '../../observability/metrics';
import { startFakeService, type FakeService } from '../support/fake-service';

let alerting: FakeService;
let dg: FakeService;
beforeEach(async () => {
  alerting = await startFakeService(() => ({ status: 202 }));
  dg = await startFakeService((call) => ({ status: 200, body: { payload: call.body.payload } }));
});
afterEach(async () => {
  await Promise.all([alerting.close(), dg.close()]);
});

const alert: AlertPayload = {
  alert_id: 'act_1',
  tenant_id: 't1',
  decision_id: 'dec_1',
  action_type: 'mirror',
  playbook_id: 'pb-1',
  playbook_version: 1,
  title: 'Builds on fix/bob@example.com',
  body: '3 builds failed',
  severity: 'medium',
};

function setUp(opts: { alerting?: boolean; dataGovernance?: boolean } = {}) {
  const rows: OutboxEntry[] = [];
  const metrics = createMetrics();
  const dgClient = opts.dataGovernance ? createDataGovernanceClient(createServiceClient({ name: 'data_governance', baseUrl: dg.url, timeoutMs: 300 })) : undefined;
  const activities = createAlertActivities({
    alerting: opts.alerting === false ? undefined : createAlertingClient(createServiceClient({ name: 'alerting', baseUrl: alerting.url, timeoutMs: 300 })),
    outbox: {
      async record(entry) {
        if (!rows.some((r) => r.idempotency_key === entry.idempotency_key)) rows.push(entry);
        return { outbox_id: String(rows.length) };
      },
    },
    privacy: createPrivacyGuard({ client: dgClient, ttlMs: 30_000 }),
    metrics,
  });
  const count = async (outcome: string) => (await metrics.alertDeliveries.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  return { activities, rows, count };
}

test('when the alerting service accepts the alert, then it is delivered redacted with its id as idempotency key and nothing is recorded', async () => {
  const { activities, rows, count } = setUp();
  expect(await activities.deliverAlert({ alert })).toEqual({ alert_id: 'act_1', outcome: 'delivered' });
  const [call] = alerting.callsTo('/v1/alerts');
  expect(call.headers['idempotency-key']).toBe('act_1');
  expect(call.body).toEqual({ ...alert, title: 'Builds on fix/[redacted-email]' });
  expect(rows).toEqual([]);
  expect(await count('delivered')).toBe(1);
});

test.each([408, 429, 500, 503])('when the alerting service answers %i, then the attempt fails (Temporal retries it) and nothing is recorded', async (status) => {
  alerting.setHandler(() => ({ status }));
  const { activities, rows, count } = setUp();
  await expect(activities.deliverAlert({ alert })).rejects.toMatchObject({ kind: 'http', status });
  expect(rows).toEqual([]);
  expect(await count('retry')).toBe(1);
});

test.each([400, 403, 404, 422])('when the alerting service answers %i, then the alert is refused, recorded as refused and not thrown', async (status) => {
  alerting.setHandler(() => ({ status, body: { error: 'no' } }));
  const { activities, rows, count } = setUp();
  expect(await activities.deliverAlert({ alert })).toEqual({ alert_id: 'act_1', outcome: 'refused', status });
  expect(rows).toEqual([expect.objectContaining({ target: 'alerting', action_id: 'act_1', idempotency_key: 'act_1', status: 'refused' })]);
  expect(await count('refused')).toBe(1);
});

test('when no alerting service is configured, then the redacted alert is a pending outbox row', async () => {
  const { activities, rows, count } = setUp({ alerting: false });
  expect(await activities.deliverAlert({ alert })).toEqual({ alert_id: 'act_1', outcome: 'outbox' });
  expect(rows).toEqual([expect.objectContaining({ target: 'alerting', idempotency_key: 'act_1', status: 'pending', payload: { ...alert, title: 'Builds on fix/[redacted-email]' } })]);
  expect(alerting.calls).toEqual([]);
  expect(await count('outbox')).toBe(1);
});

test('when data governance is configured, then the alert sent is the service redaction of the locally redacted alert, with its ids kept', async () => {
  dg.setHandler((call) => ({ status: 200, body: { payload: { ...call.body.payload, body: '[dg-redacted]', alert_id: 'mangled', decision_id: 'mangled' } } }));
  const { activities } = setUp({ dataGovernance: true });
  await activities.deliverAlert({ alert });
  expect(dg.callsTo('/v1/data-governance/redact')[0].body.payload.title).toBe('Builds on fix/[redacted-email]');
  expect(alerting.callsTo('/v1/alerts')[0].body).toEqual({ ...alert, title: 'Builds on fix/[redacted-email]', body: '[dg-redacted]' });
  expect(alerting.calls[0].headers['idempotency-key']).toBe('act_1');
});

test('when the retry window has closed, then recordUndeliveredAlert keeps the redacted alert as a gave_up row, once', async () => {
  const { activities, rows, count } = setUp();
  await activities.recordUndeliveredAlert({ alert, reason: 'alerting: answered 503' });
  await activities.recordUndeliveredAlert({ alert, reason: 'alerting: answered 503' });
  expect(rows).toEqual([expect.objectContaining({ idempotency_key: 'act_1', status: 'gave_up', payload: { ...alert, title: 'Builds on fix/[redacted-email]' } })]);
  expect(await count('gave_up')).toBe(2);
});

test('when the worker has no alert dependencies, then delivery fails (retried) rather than dropping the alert', async () => {
  await expect(createAlertActivities().deliverAlert({ alert })).rejects.toThrow(/not configured/);
});
