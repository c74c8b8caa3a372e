/**
 * Context assembly with UBI and data governance as separate services (real HTTP servers the test starts, breaks and
 * kills): a slow, failing or dead one marks the decision degraded within its budget instead of failing it; UBI's
 * breaker opens after 5 consecutive failures, shows in `ready` and the metrics, and closes after the (shortened)
 * half-open window and 2 successes. The context cache is off here (TTL 0) so every decision calls the services.
 */
import { startFakeService, type FakeService } from '../support/fake-service';
import { useTestApp } from '../support/harness';
import { decide, decideBody, newTenant, publishPlaybook, requestPlaybook, type TenantFixture } from './fixtures';

let ubi: FakeService;
let dg: FakeService;
const signal = { signal_id: 's1', dimension: 'build', signal_type: 'anomaly', severity: 'high', score: 4, created_at: '2026-01-01T00:00:00.000Z' };
beforeAll(async () => {
  ubi = await startFakeService(() => ({ body: { signals: [signal] } }));
  dg = await startFakeService((call) => (call.method === 'GET' ? { body: { retention_days: 30, pii_fields: ['actor_type'] } } : { body: { payload: call.body.payload } }));
});
afterAll(async () => {
  await ubi?.close();
  await dg?.close();
});

// Long enough that the 2 decisions after the breaker opens end inside it on a loaded CI machine (else a 6th call is
// the half-open probe, not a failure to open).
const HALF_OPEN_MS = 3000;
const app = useTestApp(() => ({
  UBI_BASE_URL: ubi.url,
  DATA_GOVERNANCE_BASE_URL: dg.url,
  CONTEXT_CACHE_TTL_MS: '0',
  CIRCUIT_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
}));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let fx: TenantFixture;
beforeAll(async () => {
  fx = newTenant(app, 'ctx');
  await publishPlaybook(app, fx.admin, requestPlaybook());
});

async function timedDecide(actor: string) {
  const started = Date.now();
  const res = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: actor, branch: 'alice/fix' }));
  expect(res.status).toBe(200);
  return { body: res.body, ms: Date.now() - started };
}
const ubiState = async () => (await app.request('GET', '/v1/mmm/ready')).body.dependencies.find((d: { name: string }) => d.name === 'ubi');

it("when UBI and data governance answer, then their signals are in the context and the tenant's pii fields are masked in the signed receipt", async () => {
  const { body } = await timedDecide('a-ok');
  expect(body.degraded_mode).toBe(false);
  expect(body.context.recent_signals).toEqual([signal]);
  expect(ubi.calls.at(-1)?.url).toBe(`/v1/ubi/signals/recent?tenant_id=${fx.tenant}&actor_id=a-ok&limit=10`);
  expect(dg.callsTo(`/v1/data-governance/tenants/${fx.tenant}/config`).length).toBeGreaterThan(0);
  // The tenant's pii_fields are masked in the receipt payload before it is signed (and so before it reaches ERIS).
  const receipt = await app.request('GET', `/v1/mmm/receipts/${body.receipt_id}`, { token: fx.service });
  expect(receipt.body.payload).toMatchObject({ outcome: 'shown', actor_type: '[redacted-pii]', actor_id: 'a-ok' });
});

it('when UBI hangs and data governance fails, then the decision is shown within budget and flagged for both', async () => {
  ubi.setHandler(() => ({ hang: true }));
  dg.setHandler(() => ({ status: 500, body: {} }));
  const { body, ms } = await timedDecide('a-slow');
  expect(body.outcome).toBe('shown');
  expect(body.degraded_mode).toBe(true);
  // The tenant's allow-list could not be read, so nothing optional was kept: the branch is dropped and named (ADR 0013).
  expect(body.degraded_reasons.sort()).toEqual(['data_governance_unavailable', 'privacy_fields_dropped', 'ubi_signals_unavailable']);
  expect(body.dropped_fields).toEqual(['branch']);
  expect(body.context.recent_signals).toEqual([]);
  // UBI's budget is 1 s; data governance's 0.5 s runs alongside.
  expect(ms).toBeLessThan(1800);
  console.log(JSON.stringify({ fault: 'ubi_hang_dg_500', decide_ms: ms, degraded_reasons: body.degraded_reasons }));
});

it('when UBI fails 5 times in a row, then its breaker opens (no 6th call, ready and metrics say open) and closes after the window and 2 successes', async () => {
  dg.setHandler((call) => (call.method === 'GET' ? { body: { pii_fields: [] } } : { body: { payload: call.body.payload } }));
  // Start from a closed breaker with no failures counted: two successes after the hang above.
  ubi.setHandler(() => ({ body: { signals: [signal] } }));
  for (let i = 0; i < 2; i++) await timedDecide(`a-heal-${i}`);
  expect((await ubiState()).breaker).toBe('closed');
  ubi.setHandler(() => ({ status: 503, body: {} }));
  const before = ubi.calls.length;
  const timings: number[] = [];
  for (let i = 0; i < 7; i++) {
    const { body, ms } = await timedDecide(`a-fail-${i}`);
    expect(body.degraded_reasons).toEqual(['ubi_signals_unavailable']);
    timings.push(ms);
  }
  const callsWhileFailing = ubi.calls.length - before;
  expect(callsWhileFailing).toBe(5);
  expect(await ubiState()).toMatchObject({ status: 'down', required: false, breaker: 'open' });
  expect((await app.request('GET', '/v1/mmm/ready')).status).toBe(200);
  const metrics = await app.request('GET', '/metrics');
  expect(metrics.body).toMatch(/mmm_circuit_breaker_state\{dependency="ubi"\} 2/);
  expect(metrics.body).toMatch(/mmm_dependency_calls_total\{dependency="ubi",outcome="circuit_open"\} [2-9]/);

  ubi.setHandler(() => ({ body: { signals: [signal] } }));
  await sleep(HALF_OPEN_MS + 100);
  const probe = await timedDecide('a-probe');
  expect(probe.body.degraded_mode).toBe(false);
  expect((await ubiState()).breaker).toBe('half_open');
  await timedDecide('a-second');
  expect(await ubiState()).toMatchObject({ status: 'up', breaker: 'closed' });
  console.log(JSON.stringify({ fault: 'ubi_503_x7', ubi_requests_made: callsWhileFailing, decisions: 7, decide_ms_max: Math.max(...timings), recovered_after_ms: HALF_OPEN_MS }));
});

it('when the UBI server is killed mid-run, then decisions carry on degraded', async () => {
  await ubi.close();
  const { body, ms } = await timedDecide('a-dead');
  expect(body.outcome).toBe('shown');
  expect(body.degraded_reasons).toEqual(['ubi_signals_unavailable']);
  expect(ms).toBeLessThan(1500);
});
