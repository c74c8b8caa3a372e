/**
 * The `traceparent` a service we call receives names the current span (ADR 0015): inside a traced operation each call
 * has a client span of its own, a child of the operation's span, and that span is what the header names. A tracer
 * provider with an in-memory exporter is registered for this file only.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createServiceClient } from '../../lib/clients/service-client';
import { startFakeService, type FakeService } from '../support/fake-service';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let service: FakeService;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  service = await startFakeService((call) => (call.path === '/fail' ? { status: 503, body: {} } : { status: 200, body: { ok: true } }));
});
afterAll(async () => {
  await service.close();
  await provider.shutdown();
  trace.disable();
  context.disable();
});

const parse = (tp: unknown) => {
  const m = String(tp).match(/^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/);
  if (!m) throw new Error(`not a traceparent: ${String(tp)}`);
  return { traceId: m[1], spanId: m[2], flags: m[3] };
};

test('when a call is made inside a traced operation, then its traceparent names its own client span, a child of the operation', async () => {
  const c = createServiceClient({ name: 'policy', baseUrl: service.url, timeoutMs: 1000 });
  const tracer = trace.getTracer('test');
  const parent = await tracer.startActiveSpan('operation', async (span) => {
    await c.request('GET', '/a');
    await c.request('GET', '/b');
    span.end();
    return span.spanContext();
  });
  const [a, b] = service.calls.map((call) => parse(call.headers.traceparent));
  expect(a.traceId).toBe(parent.traceId);
  expect(b.traceId).toBe(parent.traceId);
  expect(a.flags).toBe('01');
  // Each call names a span of its own, never the operation's (nor a random one).
  expect(a.spanId).not.toBe(parent.spanId);
  expect(a.spanId).not.toBe(b.spanId);
  const spans = exporter.getFinishedSpans();
  for (const seen of [a, b]) {
    const span = spans.find((s) => s.spanContext().spanId === seen.spanId);
    expect(span?.parentSpanId).toBe(parent.spanId);
    expect(span?.attributes['peer.service']).toBe('policy');
  }
});

test('when a traced call fails, then its client span says so with the status', async () => {
  const c = createServiceClient({ name: 'policy', baseUrl: service.url, timeoutMs: 1000 });
  exporter.reset();
  await trace.getTracer('test').startActiveSpan('operation', async (span) => {
    await expect(c.request('GET', '/fail')).rejects.toThrow(/503/);
    span.end();
  });
  const failed = exporter.getFinishedSpans().find((s) => s.name === 'GET policy');
  expect(failed?.status.code).toBe(2);
  expect(failed?.attributes['http.response.status_code']).toBe(503);
});
