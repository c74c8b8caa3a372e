/**
 * Tracing follows the sampler (ADR 0015 "Only sampled calls are intercepted"): a decision whose trace is not sampled exports no span (HTTP,
 * workflow, activities, PostgreSQL, Redis) and carries no trace context into Temporal, while a sampled decision gets
 * its spans, also when it lands in a shard run an unsampled decision started, and an unsampled one in a sampled run
 * gets none. The engine runs as its own process with the default sampler (`parentbased_always_on`), so an incoming
 * `traceparent`'s flags decide, exporting to a real OpenTelemetry Collector.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { tracedBundlePath } from '../../temporal/bundle-workflows';
import { engineClient, startEngineProcess, type EngineProcess } from '../support/engine-process';
import { requireEnv, testAppEnv, uniqueId } from '../support/harness';
import { startCollector, type Collector, type ReceivedSpan } from '../support/otel-collector';
import { decideBody, publishPlaybook, requestPlaybook } from './fixtures';

jest.setTimeout(180_000);

const TRACE_HEADER = '_tracer-data';
let collector: Collector;
let engine: EngineProcess;
let connection: Connection;
let temporal: Client;
let dataDir: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracing-sampling-'));
  collector = await startCollector();
  connection = await Connection.connect({ address: requireEnv('TEST_TEMPORAL_ADDRESS') });
  temporal = new Client({ connection });
  engine = await startEngineProcess({
    ...testAppEnv(uniqueId('tq-trace-sampling'), dataDir),
    LOG_LEVEL: 'debug',
    DATABASE_POOL_MAX: '5',
    CONTEXT_CACHE_TTL_MS: '0',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_SERVICE_NAME: 'mmm-engine-sampling-test',
  });
});
afterAll(async () => {
  await engine?.stop();
  await connection?.close();
  await collector?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const traceparent = (sampled: boolean) => ({ traceId: crypto.randomBytes(16).toString('hex'), header: (id: string) => `00-${id}-${crypto.randomBytes(8).toString('hex')}-0${sampled ? 1 : 0}` });
const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);

/** A tenant with a playbook that matches, so each decision reads its context and reserves a nudge in Redis. */
async function tenantWithPlaybook() {
  const app = engineClient(engine.url);
  const tenant = uniqueId('sampling');
  await publishPlaybook(app, app.token({ tenant_id: tenant, sub: 'admin-1', roles: ['tenant_admin'] }), requestPlaybook());
  const service = app.token({ tenant_id: tenant, sub: 'svc-ide', roles: ['service'] });
  /** One decision (actor alice: every decision of the tenant goes to one shard), sampled or not. */
  return async (sampled: boolean) => {
    const tp = traceparent(sampled);
    const res = await app.request('POST', '/v1/mmm/decide', { token: service, body: decideBody(tenant), headers: { traceparent: tp.header(tp.traceId) } });
    expect(res.status).toBe(200);
    // The trace is continued whether or not it is sampled: the decision names it.
    expect(res.body.trace_id).toBe(tp.traceId);
    return { traceId: tp.traceId, decisionId: res.body.decision_id as string, workflowId: res.body.workflow_id as string };
  };
}

const histories: Array<{ workflowId: string; history: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>> }> = [];

/** The trace context headers the shard workflow's history holds: of its start, and of each Update by id. */
async function historyHeaders(workflowId: string): Promise<{ start: boolean; updates: Map<string, boolean> }> {
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  histories.push({ workflowId, history });
  let start = false;
  const updates = new Map<string, boolean>();
  for (const e of history.events ?? []) {
    const started = e.workflowExecutionStartedEventAttributes;
    if (started) start = Boolean(started.header?.fields?.[TRACE_HEADER]);
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    if (accepted?.meta?.updateId) updates.set(accepted.meta.updateId, Boolean(accepted.input?.header?.fields?.[TRACE_HEADER]));
  }
  return { start, updates };
}

it('when a decision is not sampled, then it exports no span and sends no trace context, while a sampled one in the same shard run exports its own', async () => {
  // A shard run started by an unsampled decision, then a sampled decision in it.
  const decideA = await tenantWithPlaybook();
  const unsampledFirst = await decideA(false);
  const sampledInUnsampledRun = await decideA(true);
  // A shard run started by a sampled decision, then an unsampled decision in it.
  const decideB = await tenantWithPlaybook();
  const sampledFirst = await decideB(true);
  const unsampledInSampledRun = await decideB(false);

  const sampledRun = await collector.waitForTrace(sampledFirst.traceId, (s) =>
    ['POST /v1/mmm/decide', 'HandleUpdate:decide', 'StartActivity:decideBatch', 'RunActivity:decideBatch', 'decision context', 'decision commit'].every(
      (n) => named(s, n).length > 0,
    ),
  );
  // The batch's activity hangs off the run the sampled decision started.
  const start = sampledRun.find((s) => s.spanId === named(sampledRun, 'RunActivity:decideBatch')[0].parentSpanId);
  expect(start?.name).toBe('StartActivity:decideBatch');
  const inUnsampledRun = await collector.waitForTrace(sampledInUnsampledRun.traceId, (s) =>
    ['POST /v1/mmm/decide', 'HandleUpdate:decide', 'decision context', 'decision commit'].every((n) => named(s, n).length > 0) &&
    s.some((x) => x.attributes['db.system'] === 'postgresql') &&
    s.some((x) => x.attributes['db.system'] === 'redis'),
  );
  // Its run is not sampled: the batch's activities made no spans (in no trace), so the decision's own spans link to none.
  expect(inUnsampledRun.filter((s) => s.name.startsWith('StartActivity:') || s.name.startsWith('RunActivity:') || s.name.startsWith('RunWorkflow:'))).toEqual([]);
  expect(named(inUnsampledRun, 'decision context')[0].links).toEqual([]);

  // One more sampled decision after all of them: once its spans are in, anything of the unsampled ones would be too.
  const last = await decideA(true);
  await collector.waitForTrace(last.traceId, (s) => ['HandleUpdate:decide', 'decision commit'].every((n) => named(s, n).length > 0));
  const unsampledIds = new Set([unsampledFirst.traceId, unsampledInSampledRun.traceId]);
  expect(collector.spans().filter((s) => unsampledIds.has(s.traceId)).map((s) => s.name)).toEqual([]);
  // Batch activity spans came from the sampled run only (none from the run the unsampled decision started).
  const batchSpans = collector.spans().filter((s) => s.name.startsWith('RunActivity:'));
  expect(new Set(batchSpans.map((s) => s.traceId))).toEqual(new Set([sampledFirst.traceId]));

  // No trace context went into Temporal for an unsampled decision: not on the run it started, not on its Update.
  const a = await historyHeaders(unsampledFirst.workflowId);
  expect(a.start).toBe(false);
  expect(a.updates.get(unsampledFirst.decisionId)).toBe(false);
  expect(a.updates.get(sampledInUnsampledRun.decisionId)).toBe(true);
  const b = await historyHeaders(sampledFirst.workflowId);
  expect(b.start).toBe(true);
  expect(b.updates.get(sampledFirst.decisionId)).toBe(true);
  expect(b.updates.get(unsampledInSampledRun.decisionId)).toBe(false);

  // The unsampled request's log lines still name its trace.
  expect(engine.logLines().some((l) => l.trace_id === unsampledFirst.traceId && l.msg === 'request')).toBe(true);

  // Both runs replay through the traced bundle: which calls the interceptors trace changes no command.
  const bundle = tracedBundlePath(requireEnv('WORKFLOW_BUNDLE_PATH'));
  const sinks = { exporter: { export: { fn: () => undefined } } };
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: bundle }, sinks }, histories)) expect(result.error).toBeUndefined();
});
