/**
 * The one HTTP client every external service goes through, against a real HTTP server: headers, timeouts, error
 * kinds, and the NFR-6 breaker (open after 5 consecutive failures, half-open after the window, closed after 2 successes).
 */
import { getEventListeners } from 'node:events';
// cockatiel's internal default parent signal: the one that listeners piled up on
import { neverAbortedSignal } from 'cockatiel/dist/common/abort';
import { createServiceClient, ServiceCallError, type ServiceClient } from '../../lib/clients/service-client';
import { createMetrics } from '../../observability/metrics';
import { startFakeService, type FakeService } from '../support/fake-service';

const HALF_OPEN_MS = 300;

let service: FakeService;
beforeEach(async () => {
  service = await startFakeService();
});
afterEach(async () => {
  await service.close();
});

function client(over: Partial<Parameters<typeof createServiceClient>[0]> = {}) {
  const metrics = createMetrics();
  const c = createServiceClient({
    name: 'policy',
    baseUrl: service.url,
    timeoutMs: 200,
    serviceToken: 'svc-token-1',
    breaker: { failures: 5, halfOpenAfterMs: HALF_OPEN_MS, successesToClose: 2 },
    metrics,
    ...over,
  });
  return { c, metrics };
}

async function failureKind(c: ServiceClient, path = '/x'): Promise<string> {
  try {
    await c.request('GET', path);
    return 'success';
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceCallError);
    return (err as ServiceCallError).kind;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('when a call succeeds, then it carries the service token, a W3C traceparent, the idempotency key and the JSON body', async () => {
  service.setHandler(() => ({ status: 200, body: { ok: true } }));
  const { c } = client();
  const answer = await c.request('POST', '/v1/x', { body: { a: 1 }, idempotencyKey: 'rcpt_1' });
  expect(answer).toEqual({ ok: true });
  const call = service.calls[0];
  expect(call.headers.authorization).toBe('Bearer svc-token-1');
  // Nothing is traced here: a fresh trace marked not sampled (tests/activities/service-client-tracing.test.ts traces).
  expect(call.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  expect(call.headers['idempotency-key']).toBe('rcpt_1');
  expect(call.body).toEqual({ a: 1 });
});

test('when the service hangs past the timeout, then the call fails as a timeout within the budget', async () => {
  service.setHandler(() => ({ hang: true }));
  const { c, metrics } = client();
  const started = Date.now();
  expect(await failureKind(c)).toBe('timeout');
  expect(Date.now() - started).toBeLessThan(600);
  const text = await metrics.registry.metrics();
  expect(text).toMatch(/mmm_dependency_calls_total\{dependency="policy",outcome="timeout"\} 1/);
});

test('when the service hangs past the timeout 5 times in a row, then the breaker opens and the 6th call never reaches it', async () => {
  service.setHandler(() => ({ hang: true }));
  const { c } = client({ timeoutMs: 50 });
  for (let i = 0; i < 5; i++) expect(await failureKind(c)).toBe('timeout');
  expect(c.breakerState()).toBe('open');
  expect(await failureKind(c)).toBe('circuit_open');
  expect(service.calls).toHaveLength(5);
});

test('when the service answers 4xx, then the error is not counted against the breaker', async () => {
  service.setHandler(() => ({ status: 404, body: {} }));
  const { c } = client();
  for (let i = 0; i < 8; i++) expect(await failureKind(c)).toBe('http');
  expect(c.breakerState()).toBe('closed');
  expect(service.calls).toHaveLength(8);
});

test('when 5 consecutive calls fail, then the breaker opens, calls fail fast without reaching the service, and 2 successes after the window close it', async () => {
  service.setHandler(() => ({ status: 503 }));
  const { c, metrics } = client();
  for (let i = 0; i < 4; i++) expect(await failureKind(c)).toBe('http');
  expect(c.breakerState()).toBe('closed');
  expect(await failureKind(c)).toBe('http');
  expect(c.breakerState()).toBe('open');
  expect(await failureKind(c)).toBe('circuit_open');
  expect(service.calls).toHaveLength(5);
  expect(await metrics.registry.metrics()).toMatch(/mmm_circuit_breaker_state\{dependency="policy"\} 2/);

  service.setHandler(() => ({ status: 200, body: { ok: 1 } }));
  await sleep(HALF_OPEN_MS + 50);
  expect(await c.request('GET', '/x')).toEqual({ ok: 1 }); // the probe
  expect(c.breakerState()).toBe('half_open');
  expect(await c.request('GET', '/x')).toEqual({ ok: 1 });
  expect(c.breakerState()).toBe('closed');
  expect(await metrics.registry.metrics()).toMatch(/mmm_circuit_breaker_state\{dependency="policy"\} 0/);
});

test('when a call fails on probation after the probe, then the breaker re-opens at once', async () => {
  service.setHandler(() => ({ destroy: true }));
  const { c } = client();
  for (let i = 0; i < 5; i++) expect(await failureKind(c)).toBe('network');
  expect(c.breakerState()).toBe('open');
  await sleep(HALF_OPEN_MS + 50);
  service.setHandler(() => ({ status: 200, body: {} }));
  await c.request('GET', '/x');
  expect(c.breakerState()).toBe('half_open');
  service.setHandler(() => ({ status: 500 }));
  expect(await failureKind(c)).toBe('http');
  expect(c.breakerState()).toBe('open');
  expect(await failureKind(c)).toBe('circuit_open');
});

test('when a success comes between failures, then the count starts over (consecutive failures only)', async () => {
  const { c } = client();
  for (let round = 0; round < 3; round++) {
    service.setHandler(() => ({ status: 500 }));
    for (let i = 0; i < 4; i++) await failureKind(c);
    service.setHandler(() => ({ status: 200, body: {} }));
    await c.request('GET', '/x');
  }
  expect(c.breakerState()).toBe('closed');
});

test('when the service answers 2xx with a body that is not JSON, then the call fails as invalid_response', async () => {
  const { c } = client({ baseUrl: `${service.url}/` });
  service.setHandler(() => ({ status: 200, raw: '<html>gateway</html>' }));
  expect(await failureKind(c, '/page')).toBe('invalid_response');
  expect(service.calls[0].path).toBe('/page');
  service.setHandler(() => ({ status: 204 }));
  expect(await c.request('GET', '/empty')).toBeUndefined();
});

test('when many calls are in flight at once, then none hangs a listener on a shared abort signal (no leak warning)', async () => {
  // cockatiel's default parent signal is one module-wide object: a listener per call in flight piles up on it.
  service.setHandler(() => ({ status: 200, body: {}, delayMs: 100 }));
  const { c } = client({ timeoutMs: 1000 });
  const calls = Promise.all(Array.from({ length: 25 }, () => c.request('GET', '/x')));
  await sleep(30);
  expect(getEventListeners(neverAbortedSignal, 'abort')).toHaveLength(0);
  await calls;
});
