/**
 * Whether a Temporal call belongs to a sampled trace (ADR 0015 "Only sampled calls are intercepted"): the OpenTelemetry interceptors make a span,
 * and serialise a context header, on every call whether its trace is sampled or not. These checks let a wrapper pass an
 * unsampled call straight to `next`. Sandbox-safe (the workflow interceptor module uses them) and Node-safe (the worker's
 * activity and the client's interceptors use them too).
 */
import { context, trace } from '@opentelemetry/api';
import { defaultPayloadConverter, type Headers } from '@temporalio/common';

/** The header the OpenTelemetry interceptors carry the context in (`TRACE_HEADER` of the interceptors package). */
export const TRACE_HEADER = '_tracer-data';

/** W3C trace context: flags bit 0 of a `traceparent` says sampled. */
export function traceparentSampled(traceparent: unknown): boolean {
  if (typeof traceparent !== 'string') return false;
  const m = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-([0-9a-f]{2})$/.exec(traceparent);
  return m !== null && (parseInt(m[1], 16) & 1) === 1;
}

/** The context a call's headers carry is a sampled one; no header (the caller did not trace) is not. */
export function headersSampled(input: { headers?: Headers }): boolean {
  const payload = input.headers?.[TRACE_HEADER];
  if (!payload) return false;
  try {
    return traceparentSampled(defaultPayloadConverter.fromPayload<Record<string, unknown>>(payload)?.traceparent);
  } catch {
    return false;
  }
}

/** The active span's context says sampled. */
export function activeSpanSampled(): boolean {
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc !== undefined && (sc.traceFlags & 1) === 1;
}

/** An active span whose trace is not sampled (none active: false, the root sampler decides). */
export function activeSpanUnsampled(): boolean {
  const span = trace.getSpan(context.active());
  return span !== undefined && (span.spanContext().traceFlags & 1) === 0;
}

type Call = (input: unknown, next: (input: unknown) => unknown) => unknown;

/**
 * Every interceptor method of `traced` (an OpenTelemetry interceptor), run only when `sampled(input)`; otherwise the
 * call goes straight to `next`, so no span is made, no context read and no header written for it.
 */
export function whenSampled<T extends object>(traced: T, sampled: (input: any) => boolean): T {
  const wrapped: Record<string, Call> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(traced))) {
    const method = (traced as Record<string, unknown>)[name];
    if (name === 'constructor' || typeof method !== 'function') continue;
    wrapped[name] = (input, next) => (sampled(input) ? (method as Call).call(traced, input, next) : next(input));
  }
  return wrapped as unknown as T;
}
