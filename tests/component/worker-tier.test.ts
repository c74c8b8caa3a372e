/**
 * The two tiers as deployed, in one test process: a worker-only runtime (RUN_API=false) and API-only runtimes
 * (RUN_WORKER=false), against the suite's real Temporal, PostgreSQL and Redis, with IAM and policy played by real HTTP
 * servers. The worker tier answers probes and one scrape on its ops port; each tier's readiness lists the breakers of
 * the services it calls; the API's readiness says whether a worker polls its task queue.
 */
import { startFakeService, type FakeService } from '../support/fake-service';
import { startTestApp, uniqueId, type TestApp } from '../support/harness';

jest.setTimeout(90_000);

const taskQueue = uniqueId('tq-tiers');
let iam: FakeService;
let policy: FakeService;
let worker: TestApp;
let api: TestApp;
let lonelyApi: TestApp;

const ops = (path: string) => fetch(`${worker.runtime.metricsUrl}${path}`);
const names = (deps: Array<{ name: string }>) => deps.map((d) => d.name);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  iam = await startFakeService(() => ({ status: 503 }));
  policy = await startFakeService(() => ({ body: {} }));
  const services = { IAM_BASE_URL: iam.url, POLICY_BASE_URL: policy.url };
  worker = await startTestApp({ ...services, TEMPORAL_TASK_QUEUE: taskQueue, RUN_API: 'false' });
  api = await startTestApp({ ...services, TEMPORAL_TASK_QUEUE: taskQueue, RUN_WORKER: 'false', TEMPORAL_EAGER_START: 'false' });
  // An API whose task queue no worker has ever polled.
  lonelyApi = await startTestApp({ ...services, RUN_WORKER: 'false', TEMPORAL_EAGER_START: 'false' });
});
afterAll(async () => {
  await lonelyApi?.stop();
  await api?.stop();
  await worker?.stop();
  await iam?.close();
  await policy?.close();
});

describe('the worker tier (RUN_API=false)', () => {
  it('when it runs, then it serves no API but its ops port, and /healthz answers 200 ok', async () => {
    expect(worker.runtime.apiUrl).toBeNull();
    expect(worker.runtime.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const res = await ops('/healthz');

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', version: expect.any(String) });
    expect((await ops('/v1/mmm/decide')).status).toBe(404);
  });

  it('when /metrics is scraped, then one answer holds its own ubi_*, bus and receipt series and the Temporal SDK worker series', async () => {
    // The SDK reports its worker's slots once the worker has started polling.
    const text = await until('the SDK worker series', async () => {
      const body = await (await ops('/metrics')).text();
      return /^temporal_worker_task_slots_available\{[^}]*task_queue="[^"]+"/m.test(body) ? body : undefined;
    });

    expect(text).toMatch(/^ubi_signal_publish_failures_total \d+$/m);
    expect(text).toMatch(/^# TYPE ubi_feature_freshness_seconds histogram$/m);
    expect(text).toMatch(/^# TYPE mmm_bus_messages_published_total counter$/m);
    expect(text).toMatch(/^# TYPE mmm_receipt_emissions_total counter$/m);
    expect(text).toMatch(/^# TYPE mmm_alert_deliveries_total counter$/m);
    expect(text).toMatch(new RegExp(`^temporal_worker_task_slots_available\\{[^}]*task_queue="${taskQueue}"`, 'm'));
    // The worker tier calls policy, so its breaker is there; one family per name (no duplicates from the merge).
    expect(text).toMatch(/^mmm_circuit_breaker_state\{dependency="policy"\} 0$/m);
    const typed = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(new Set(typed).size).toBe(typed.length);
  });

  it('when every dependency is up, then /readyz is 200 with the worker running and the breakers of the services the worker calls', async () => {
    const res = await ops('/readyz');
    const body = (await res.json()) as { status: string; dependencies: Array<{ name: string }>; workers_polling?: boolean };

    expect(res.status).toBe(200);
    expect(body.status).toBe('ready');
    expect(names(body.dependencies)).toEqual(expect.arrayContaining(['postgres', 'redis', 'temporal', 'bus', 'worker', 'iam', 'policy']));
    expect(body.dependencies.find((d) => d.name === 'worker')).toMatchObject({ status: 'up', required: true, mode: `task queue ${taskQueue}` });
    expect(body.dependencies.find((d) => d.name === 'policy')).toMatchObject({ status: 'up', breaker: 'closed' });
    // Whether workers poll is the API's question, not the worker's.
    expect(body.workers_polling).toBeUndefined();
  });
});

describe('the API tier (RUN_WORKER=false)', () => {
  it('when a worker polls its task queue, then ready says workers_polling true', async () => {
    const res = await api.request('GET', '/v1/mmm/ready');

    expect(res.status).toBe(200);
    expect(res.body.workers_polling).toBe(true);
    expect(res.body.dependencies.find((d: { name: string }) => d.name === 'decision_workers')).toMatchObject({ status: 'up', required: false, mode: `task queue ${taskQueue}` });
  });

  it('when no worker polls its task queue, then ready says workers_polling false, names the queue, and stays 200 (not required)', async () => {
    const res = await lonelyApi.request('GET', '/v1/mmm/ready');

    expect(res.status).toBe(200);
    expect(res.body.workers_polling).toBe(false);
    expect(res.body.dependencies.find((d: { name: string }) => d.name === 'decision_workers')).toMatchObject({
      status: 'down',
      required: false,
      error: expect.stringContaining(lonelyApi.taskQueue),
    });
    const metrics = await lonelyApi.request('GET', '/metrics');
    expect(metrics.body).toMatch(/^mmm_dependency_up\{dependency="decision_workers"\} 0$/m);
  });

  it('when ready is asked, then it lists the breaker of IAM, the one service the API calls, and none of the worker-only services', async () => {
    const res = await api.request('GET', '/v1/mmm/ready');

    expect(names(res.body.dependencies)).toContain('iam');
    expect(names(res.body.dependencies)).not.toContain('policy');
    expect(names(res.body.dependencies)).not.toContain('worker');
    const metrics = await api.request('GET', '/metrics');
    expect(metrics.body).toMatch(/^mmm_circuit_breaker_state\{dependency="iam"\} 0$/m);
    expect(metrics.body).not.toMatch(/^mmm_circuit_breaker_state\{dependency="policy"\}/m);
  });
});
