/**
 * Trace context helpers on the OpenTelemetry API alone (no SDK): cheap no-ops while tracing is off, so the logger,
 * the service clients and the activities use them unconditionally (ADR 0015).
 */
import { SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span, type SpanContext } from '@opentelemetry/api';

/** `traceparent` of a span context (W3C trace context, version 00). */
export function traceparentOf(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & 1).toString(16)}`;
}

/** The active span's `traceparent`, when a traced operation is running. */
export function activeTraceparent(ctx: Context = context.active()): string | undefined {
  const sc = trace.getSpan(ctx)?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? traceparentOf(sc) : undefined;
}

/** The context a `traceparent` names (a remote parent), or undefined for none or a malformed one. */
export function contextOfTraceparent(traceparent: string | undefined): Context | undefined {
  if (!traceparent) return undefined;
  const ctx = propagation.extract(context.active(), { traceparent });
  return trace.getSpan(ctx) ? ctx : undefined;
}

/** The trace id a `traceparent` names. */
export function traceIdOf(traceparent: string | undefined): string | null {
  return traceparent?.match(/^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/)?.[1] ?? null;
}

/** Span fields for a log line: those of the active span, or none outside a traced operation. */
export function logTraceFields(): { trace_id: string; span_id: string } | Record<string, never> {
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}


const tracer = trace.getTracer('mmm-engine/decisions');

/**
 * One item of a batch activity (a shard workflow's batch holds decisions of several traces, ADR 0015): `fn` runs in a
 * span of the item's own trace, a child of the span its `traceparent` names, linked to the batch's span. Without a
 * `traceparent` (nothing traced) `fn` runs as it is; with an unsampled one, in its context without a span.
 */
export async function inItemSpan<T>(name: string, traceparent: string | undefined, fn: () => Promise<T>, attributes: Record<string, string> = {}): Promise<T> {
  const parent = contextOfTraceparent(traceparent);
  if (!parent) return fn();
  // Not sampled: no span, but logs and outbound calls still name the decision's trace (flags 00).
  if ((trace.getSpanContext(parent)!.traceFlags & 1) === 0) return context.with(parent, fn);
  const batch = trace.getSpan(context.active())?.spanContext();
  const links = batch && trace.isSpanContextValid(batch) ? [{ context: batch }] : [];
  return tracer.startActiveSpan(name, { links, attributes }, parent, (span) => endWith(span, fn));
}

/** Runs `fn` and ends `span` after it; a failure is recorded on the span (`onError` adds what the caller knows of it). */
export async function endWith<T>(span: Span, fn: () => Promise<T>, onError?: (err: unknown) => void): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    onError?.(err);
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

/** A bus message handled: the root of its own trace (messages carry no trace context), so its decisions are traced. */
export function inConsumerSpan<T>(topic: string, attributes: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(`${topic} process`, { kind: SpanKind.CONSUMER, root: true, attributes: { 'messaging.destination.name': topic, 'messaging.operation.type': 'process', ...attributes } }, (span) =>
    endWith(span, fn),
  );
}

/** Names the HTTP server span after the matched route (`POST /v1/decide`) and sets `http.route`, as Express spans would. */
export function nameServerSpan(method: string, route: string): void {
  const span = trace.getSpan(context.active());
  if (!span?.isRecording()) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute('http.route', route);
}
