/**
 * Tracing end to end (CONTRACT.md "Tracing (FR-15)", ADR 0015): the engine runs as its own process (`workers/main.ts`,
 * as deployed: tracing starts before the modules it instruments load) and exports over OTLP/HTTP protobuf to a real
 * OpenTelemetry Collector. One decide request that comes with a W3C `traceparent` gives one trace holding the HTTP
 * server span, the workflow's spans and its activities', PostgreSQL and Redis spans, and the call to a service we
 * call, whose `traceparent` the service saw names that call's span. The decision, its row and the log lines carry it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { startFakeService, type FakeService } from '../support/fake-service';
import { engineClient, startEngineProcess, type EngineProcess } from '../support/engine-process';
import { requireEnv, testAppEnv, uniqueId } from '../support/harness';
import { startCollector, type Collector, type ReceivedSpan } from '../support/otel-collector';
import { decideBody, publishPlaybook, requestPlaybook } from './fixtures';

jest.setTimeout(180_000);

let collector: Collector;
let ubi: FakeService;
let engine: EngineProcess;
let dataDir: string;

const client = () => engineClient(engine.url);

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracing-'));
  collector = await startCollector();
  ubi = await startFakeService(() => ({ body: { signals: [] } }));
  const taskQueue = uniqueId('tq-trace');
  engine = await startEngineProcess({
    ...testAppEnv(taskQueue, dataDir),
    LOG_LEVEL: 'debug',
    DATABASE_POOL_MAX: '5',
    UBI_BASE_URL: ubi.url,
    CONTEXT_CACHE_TTL_MS: '0',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_SERVICE_NAME: 'mmm-engine-tracing-test',
    OTEL_TRACES_SAMPLER: 'always_on',
  });
});
afterAll(async () => {
  await engine?.stop();
  await ubi?.close();
  await collector?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const hex = (bytes: number) => crypto.randomBytes(bytes).toString('hex');
const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);

it('when a decide request comes with a traceparent, then one trace holds its HTTP, workflow, activity, PostgreSQL, Redis and outbound spans', async () => {
  const app = client();
  const tenant = uniqueId('trace');
  const admin = app.token({ tenant_id: tenant, sub: 'admin-1', roles: ['tenant_admin'] });
  const service = app.token({ tenant_id: tenant, sub: 'svc-ide', roles: ['service'] });
  // A playbook that matches the request, so the decision reserves its nudge in Redis.
  await publishPlaybook(app, admin, requestPlaybook());
  const traceId = hex(16);
  const callerSpanId = hex(8);

  const res = await app.request('POST', '/v1/mmm/decide', { token: service, body: decideBody(tenant), headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } });
  expect(res.status).toBe(200);
  expect(res.body.outcome).toBe('shown');
  // The caller's trace is continued, and the decision says which trace it was made in.
  expect(res.body.trace_id).toBe(traceId);

  // The service we call saw a traceparent of this trace.
  const seen = ubi.calls.map((c) => String(c.headers.traceparent)).filter((tp) => tp.includes(traceId));
  expect(seen.length).toBeGreaterThan(0);
  const calledSpanId = seen[0].split('-')[2];

  const spans = await collector.waitForTrace(traceId, (s) =>
    ['POST /v1/mmm/decide', 'HandleUpdate:decide', 'RunActivity:decideBatch'].every((n) => named(s, n).length > 0) &&
    s.some((x) => x.spanId === calledSpanId) &&
    s.some((x) => x.attributes['db.system'] === 'postgresql') &&
    s.some((x) => x.attributes['db.system'] === 'redis'),
  );
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const ancestors = (s: ReceivedSpan): string[] => (byId.get(s.parentSpanId) ? [s.parentSpanId, ...ancestors(byId.get(s.parentSpanId)!)] : []);

  // The HTTP server span continues the caller's span.
  const [server] = named(spans, 'POST /v1/mmm/decide');
  expect(server.kind).toBe(2);
  expect(server.parentSpanId).toBe(callerSpanId);
  expect(server.attributes['http.route']).toBe('/v1/mmm/decide');
  expect(server.service).toBe('mmm-engine-tracing-test');
  // The Update is sent under it and handled in the workflow under the client's span.
  const [update] = named(spans, 'HandleUpdate:decide');
  expect(ancestors(update)).toContain(server.spanId);
  // The batch's one local activity ran as an activity span of this trace (this request started the shard's run), under
  // the workflow's StartActivity span, which hangs off the run's RunWorkflow span, exported when the run ends.
  const batch = named(spans, 'RunActivity:decideBatch');
  expect(batch).toHaveLength(1);
  expect(byId.get(batch[0].parentSpanId)?.name).toBe('StartActivity:decideBatch');
  // The decision's own part of the batch: a span of its trace, linked to the batch activity's span.
  const [item] = named(spans, 'decision context');
  expect(item.links.map((l) => l.spanId)).toContain(batch[0].spanId);
  // The outbound call: a client span whose id is the one the called service saw.
  const call = byId.get(calledSpanId)!;
  expect(call.kind).toBe(3);
  expect(call.attributes['peer.service']).toBe('ubi');
  expect(ancestors(call)).toContain(server.spanId);
  // PostgreSQL and Redis calls made for this decision are in its trace: its context reads under its context span, its
  // nudge reservation under its commit span (the batch's one transaction under the batch activity's span).
  const [commitItem] = named(spans, 'decision commit');
  expect(spans.some((s) => s.attributes['db.system'] === 'postgresql' && ancestors(s).includes(item.spanId))).toBe(true);
  expect(spans.some((s) => s.attributes['db.system'] === 'redis' && ancestors(s).includes(commitItem.spanId))).toBe(true);
  expect(spans.some((s) => s.attributes['db.system'] === 'postgresql' && s.parentSpanId === batch[0].spanId)).toBe(true);

  // The stored row and the decision as read back carry the trace id.
  const got = await app.request('GET', `/v1/mmm/decisions/${res.body.decision_id}`, { token: service });
  expect(got.body.trace_id).toBe(traceId);
  const pg = new PgClient({ connectionString: requireEnv('TEST_DATABASE_URL') });
  await pg.connect();
  try {
    const row = await pg.query('SELECT trace_id FROM decisions WHERE decision_id = $1', [res.body.decision_id]);
    expect(row.rows[0].trace_id).toBe(traceId);
  } finally {
    await pg.end();
  }

  // Log lines written inside the request carry its trace and span.
  const traced = engine.logLines().filter((l) => l.trace_id === traceId);
  expect(traced.length).toBeGreaterThan(0);
  expect(traced.every((l) => typeof l.span_id === 'string' && /^[0-9a-f]{16}$/.test(l.span_id))).toBe(true);
  expect(traced.some((l) => l.msg === 'request' && l.route === '/v1/mmm/decide')).toBe(true);
});

it('when the OpenAPI document is read, then the decision response declares trace_id', async () => {
  const doc = (await client().request('GET', '/v1/openapi.json')).body;
  const ok = doc.paths['/v1/mmm/decide'].post.responses['200'].content['application/json'].schema;
  expect(ok.properties.trace_id).toBeDefined();
  expect(JSON.stringify(ok.properties.trace_id)).toContain('[0-9a-f]{32}');
});

it('when a request comes without a traceparent, then a new trace is started and the decision names it', async () => {
  const app = client();
  const tenant = uniqueId('trace-root');
  const service = app.token({ tenant_id: tenant, sub: 'svc-ide', roles: ['service'] });
  const res = await app.request('POST', '/v1/mmm/decide', { token: service, body: decideBody(tenant) });
  expect(res.status).toBe(200);
  expect(res.body.trace_id).toMatch(/^[0-9a-f]{32}$/);
  const spans = await collector.waitForTrace(res.body.trace_id, (s) => named(s, 'POST /v1/mmm/decide').length > 0);
  expect(named(spans, 'POST /v1/mmm/decide')[0].parentSpanId).toBe('');
});
