/**
 * The workflow interceptor module of the traced bundle (temporal/bundle-workflows.ts, ADR 0015 "Only sampled calls are intercepted"): the
 * OpenTelemetry workflow interceptors, run only for calls of a sampled trace. An Update, signal, query or run whose
 * header carries no sampled context goes straight to the workflow; an outbound call (local activity, activity, child,
 * signal, continue-as-new) made outside a sampled span goes out with no span and no header. Sampled calls get exactly
 * the interceptors' spans. The interceptors add no commands either way, so replay does not depend on the choice (and
 * the choice is made from the recorded headers).
 */
import { OpenTelemetryInboundInterceptor, OpenTelemetryInternalsInterceptor, OpenTelemetryOutboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { activeSpanSampled, headersSampled, whenSampled } from './sampling';

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [whenSampled(new OpenTelemetryInboundInterceptor(), headersSampled)],
  outbound: [whenSampled(new OpenTelemetryOutboundInterceptor(), activeSpanSampled)],
  internals: [new OpenTelemetryInternalsInterceptor()],
});
