/**
 * OpenTelemetry tracing (CONTRACT.md "Tracing (FR-15)", ADR 0015). `startTracing` is called once per process, before
 * the modules it instruments (http, pg, ioredis) are loaded (workers/main.ts). Without an OTLP endpoint it starts
 * nothing: no provider, no context manager, no instrumentation, so the hot path pays nothing when tracing is off.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { AppConfig } from '../config/config';

type TracingConfig = Pick<
  AppConfig,
  | 'OTEL_EXPORTER_OTLP_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  | 'OTEL_EXPORTER_OTLP_PROTOCOL'
  | 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
  | 'OTEL_SERVICE_NAME'
  | 'OTEL_TRACES_SAMPLER'
  | 'OTEL_TRACES_SAMPLER_ARG'
  | 'OTEL_SDK_DISABLED'
>;

export interface Tracing {
  /** Where spans go (the OTLP/HTTP traces URL) and how. */
  readonly url: string;
  readonly protocol: 'http/protobuf' | 'http/json';
  /** The worker's workflow span sink exports through these (makeWorkflowExporter). */
  readonly spanProcessor: SpanProcessor;
  readonly resource: Resource;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Flushes and stops the provider and the instrumentations. */
  shutdown(): Promise<void>;
}

/** The OTLP/HTTP traces URL the configuration names, or undefined when export is off. */
export function tracesUrl(config: TracingConfig): string | undefined {
  if (config.OTEL_SDK_DISABLED) return undefined;
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return `${config.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
}

/** The specification's samplers by name; the ratio defaults to 1. */
export function samplerOf(name: TracingConfig['OTEL_TRACES_SAMPLER'], arg: number | undefined): Sampler {
  const ratio = arg ?? 1;
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** Probes and scrapes are not traced: they would be most of the traces and tell nothing. */
const UNTRACED_PATHS = /^\/(healthz|readyz|metrics|v1\/health|v1\/ready|v1\/ubi\/(health|ready|metrics))(\?|$)/;

let started: Tracing | undefined;

/** The process's tracing, once started (undefined when export is off). */
export function activeTracing(): Tracing | undefined {
  return started;
}

export function startTracing(config: TracingConfig, version: string, opts: { exporter?: SpanExporter } = {}): Tracing | undefined {
  if (started) return started;
  const url = tracesUrl(config);
  if (!url) return undefined;
  const protocol = config.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? config.OTEL_EXPORTER_OTLP_PROTOCOL;
  const exporter = opts.exporter ?? (protocol === 'http/json' ? new OtlpJsonExporter({ url }) : new OtlpProtoExporter({ url }));
  const resource = new Resource({ [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME, [ATTR_SERVICE_VERSION]: version });
  const spanProcessor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 });
  const provider = new NodeTracerProvider({
    resource,
    sampler: samplerOf(config.OTEL_TRACES_SAMPLER, config.OTEL_TRACES_SAMPLER_ARG),
    spanProcessors: [spanProcessor],
  });
  // Registers the AsyncLocalStorage context manager and W3C trace context as the global propagator.
  provider.register({ propagator: new W3CTraceContextPropagator() });
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test(req.url ?? ''),
        // Outbound calls to the services we call go through fetch with their own client span (lib/clients/service-client.ts).
        ignoreOutgoingRequestHook: () => true,
      }),
      // Only inside a traced operation: the pool's pings and the bus's blocking reads would be traces of their own.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  started = {
    url,
    protocol,
    spanProcessor,
    resource,
    flush: () => provider.forceFlush(),
    async shutdown() {
      unregister();
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      started = undefined;
    },
  };
  return started;
}
