/**
 * Alert-surface decisions end to end: after the decision answers, alertDeliveryWorkflow delivers each shown action's
 * rendered alert to the alerting service (a real HTTP server started here) with the alert id as idempotency key and
 * the service token, retrying transient failures and recording a refusal (4xx) without retrying. Without
 * ALERTING_BASE_URL the alert is an outbox row instead. What leaves the engine is redacted.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { alertPayloadSchema, type AlertDeliveryResult } from '../../workflows/alerts/contract';
import { alertDeliveryWorkflowId } from '../../temporal/workflow-ids';
import { startFakeService, type FakeReply, type FakeService, type RecordedCall } from '../support/fake-service';
import { useTestApp, type TestApp } from '../support/harness';
import { decide, decideBody, decisionRecorded, newTenant, publishPlaybook, putPolicy, requestPlaybook, type TenantFixture } from './fixtures';

jest.setTimeout(60000);

const SERVICE_TOKEN = 'alerting-suite-service-token';
/** The alerting client's timeout (CONTRACT.md): a decide answer that waited on the call would take at least this. */
const ALERTING_TIMEOUT_MS = 2000;

/** Replies per tenant, in order (the last one repeats): each test arranges its own alerting behaviour. */
const scripts = new Map<string, FakeReply[]>();
let alerting: FakeService;
beforeAll(async () => {
  alerting = await startFakeService((call) => {
    const script = scripts.get(call.body?.tenant_id);
    if (!script) return { status: 500, body: { error: 'no reply arranged' } };
    return script.length > 1 ? (script.shift() as FakeReply) : script[0];
  });
});
afterAll(async () => {
  await alerting.close();
});

function alertCalls(tenant: string): RecordedCall[] {
  return alerting.callsTo('/v1/alerts').filter((c) => c.body?.tenant_id === tenant);
}

/** An alert-surface playbook whose text carries the branch, so redaction of what leaves can be seen. */
const alertPlaybook = requestPlaybook({ title: 'Alert on {{branch}}', body: 'Builds on {{branch}} failed.', surfaces: ['ide', 'alert'] });
// An address in the branch: the privacy filter drops it before the decision (ADR 0013); the alert's own redaction stays behind it.
const secretBranch = 'fix/alice@example.com';

async function setUp(a: TestApp, script?: FakeReply[]): Promise<TenantFixture> {
  const fx = newTenant(a, 'alert');
  await publishPlaybook(a, fx.admin, alertPlaybook);
  if (script) scripts.set(fx.tenant, script);
  return fx;
}

async function alertDecide(a: TestApp, fx: TenantFixture, surface = 'alert') {
  const started = Date.now();
  const res = await decide(a, fx.service, decideBody(fx.tenant, { surface, branch: secretBranch, repo_id: 'payments' }));
  return { res, elapsedMs: Date.now() - started };
}

/**
 * The delivery workflow's outcomes, once it has finished. The answer comes at the commit, before the decision's Update
 * starts its follow-ups, so the Update is awaited first.
 */
async function deliveryResult(a: TestApp, decision: { tenant_id: string; decision_id: string; workflow_id: string }): Promise<AlertDeliveryResult[]> {
  await decisionRecorded(a, decision.decision_id);
  return a.runtime.temporal.client.workflow.getHandle(alertDeliveryWorkflowId(decision.tenant_id, decision.decision_id)).result();
}

async function metricValue(a: TestApp, outcome: string): Promise<number> {
  const res = await a.request('GET', '/metrics');
  const match = new RegExp(`^mmm_alert_deliveries_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(res.body as string);
  return match ? Number(match[1]) : 0;
}

describe('alerts with an alerting service', () => {
  const app = useTestApp(() => ({ ALERTING_BASE_URL: alerting.url, SERVICE_TOKEN, CIRCUIT_BREAKER_HALF_OPEN_MS: '200' }));

  it('when an alert-surface decision shows an action, then its rendered alert is delivered once, redacted, with the alert id as idempotency key and the service token', async () => {
    const fx = await setUp(app, [{ status: 202, body: { accepted: true } }]);
    const { res } = await alertDecide(app, fx);
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('shown');
    const [action] = res.body.actions;

    expect(await deliveryResult(app, res.body)).toEqual([{ alert_id: action.action_id, outcome: 'delivered' }]);
    const calls = alertCalls(fx.tenant);
    expect(calls).toHaveLength(1);
    expect(calls[0].method).toBe('POST');
    expect(calls[0].headers['idempotency-key']).toBe(action.action_id);
    expect(calls[0].headers.authorization).toBe(`Bearer ${SERVICE_TOKEN}`);
    expect(calls[0].headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    // Exactly the contract's fields: the rendered alert and the ids that link it back, nothing of the request context.
    expect(alertPayloadSchema.strict().safeParse(calls[0].body).success).toBe(true);
    expect(calls[0].body).toEqual(
      expect.objectContaining({
        alert_id: action.action_id,
        tenant_id: fx.tenant,
        decision_id: res.body.decision_id,
        action_type: 'mirror',
        severity: action.payload.rendered.alert.severity,
      }),
    );
    expect(calls[0].body.title).toBe('Alert on unknown');
    expect(JSON.stringify(calls[0].body)).not.toContain('alice@example.com');
    expect(JSON.stringify(calls[0].body)).not.toContain('payments');
  });

  it('when the alerting service is down and then back, then the decision answers at once and the alert is delivered exactly once', async () => {
    // A hang past the client's timeout, then an outage answer, then the service is back.
    const fx = await setUp(app, [{ hang: true }, { status: 503, body: { error: 'down' } }, { status: 200, body: {} }]);
    const failedBefore = await metricValue(app, 'retry');
    const { res, elapsedMs } = await alertDecide(app, fx);
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('shown');
    expect(elapsedMs).toBeLessThan(ALERTING_TIMEOUT_MS);
    const [action] = res.body.actions;

    expect(await deliveryResult(app, res.body)).toEqual([{ alert_id: action.action_id, outcome: 'delivered' }]);
    const calls = alertCalls(fx.tenant);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.headers['idempotency-key']))).toEqual(new Set([action.action_id]));
    // Only the last call was answered 2xx: nothing more is sent after the delivery.
    expect(scripts.get(fx.tenant)).toEqual([{ status: 200, body: {} }]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(alertCalls(fx.tenant)).toHaveLength(calls.length);
    expect(await metricValue(app, 'retry')).toBeGreaterThanOrEqual(failedBefore + 2);
  });

  it('when the alerting service refuses the alert with a 4xx, then it is not retried, it is counted as refused and kept as a refused outbox row', async () => {
    const fx = await setUp(app, [{ status: 422, body: { error: 'unknown channel' } }]);
    const refusedBefore = await metricValue(app, 'refused');
    const { res } = await alertDecide(app, fx);
    expect(res.status).toBe(200);
    const [action] = res.body.actions;

    expect(await deliveryResult(app, res.body)).toEqual([{ alert_id: action.action_id, outcome: 'refused', status: 422 }]);
    // Longer than the first retry interval (0.5 s): a retried refusal would show here.
    await new Promise((r) => setTimeout(r, 1200));
    expect(alertCalls(fx.tenant)).toHaveLength(1);
    expect(await metricValue(app, 'refused')).toBe(refusedBefore + 1);
    const rows = await app.runtime.repos.outbox.list(fx.tenant, 'alerting');
    expect(rows).toEqual([expect.objectContaining({ action_id: action.action_id, idempotency_key: action.action_id, status: 'refused' })]);
    expect(await app.runtime.repos.outbox.pending(fx.tenant, 'alerting')).toEqual([]);
  });

  it('when fatigue lets only one of two alert actions be shown, then only the shown one is delivered', async () => {
    const fx = newTenant(app, 'alert');
    await putPolicy(app, fx, { max_nudges_per_window: 1 });
    await publishPlaybook(
      app,
      fx.admin,
      requestPlaybook({}, {
        actions: [
          { type: 'mirror', title: 'First alert', body: 'One.', surfaces: ['alert'], priority: 10, cooldown_minutes: 0 },
          { type: 'mirror', title: 'Second alert', body: 'Two.', surfaces: ['alert'], priority: 5, cooldown_minutes: 0 },
        ],
      }),
    );
    scripts.set(fx.tenant, [{ status: 200, body: {} }]);
    const { res } = await alertDecide(app, fx);
    expect(res.status).toBe(200);
    expect(res.body.actions).toHaveLength(1);
    expect(res.body.suppressed).toEqual([expect.objectContaining({ reason: 'fatigue_limit' })]);
    const [action] = res.body.actions;

    expect(await deliveryResult(app, res.body)).toEqual([{ alert_id: action.action_id, outcome: 'delivered' }]);
    expect(alertCalls(fx.tenant).map((c) => c.body.title)).toEqual([action.payload.rendered.alert.title]);
  });

  it('when a decision on another surface shows an action that also renders an alert, then no alert is delivered', async () => {
    const fx = await setUp(app, [{ status: 200, body: {} }]);
    const { res } = await alertDecide(app, fx, 'ide');
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('shown');
    expect(res.body.actions[0].surfaces).toEqual(expect.arrayContaining(['alert']));
    // The decision's Update has completed (its follow-ups are started before it does): no delivery was started.
    await decisionRecorded(app, res.body.decision_id);
    await expect(app.runtime.temporal.client.workflow.getHandle(alertDeliveryWorkflowId(fx.tenant, res.body.decision_id)).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );
    expect(alertCalls(fx.tenant)).toEqual([]);
  });
});

describe('alerts without an alerting service', () => {
  const app = useTestApp();

  it('when ALERTING_BASE_URL is unset, then the redacted alert is recorded as a pending outbox row and nothing is sent', async () => {
    const fx = await setUp(app);
    const outboxBefore = await metricValue(app, 'outbox');
    const { res } = await alertDecide(app, fx);
    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('shown');
    const [action] = res.body.actions;

    expect(await deliveryResult(app, res.body)).toEqual([{ alert_id: action.action_id, outcome: 'outbox' }]);
    const rows = await app.runtime.repos.outbox.pending(fx.tenant, 'alerting');
    expect(rows).toEqual([expect.objectContaining({ action_id: action.action_id, target: 'alerting', idempotency_key: action.action_id, status: 'pending' })]);
    expect(alertPayloadSchema.strict().parse(rows[0].payload)).toEqual(expect.objectContaining({ decision_id: res.body.decision_id, title: 'Alert on unknown' }));
    expect(await metricValue(app, 'outbox')).toBe(outboxBefore + 1);
    expect(alertCalls(fx.tenant)).toEqual([]);
  });
});
