import crypto from 'node:crypto';
import { SpanKind, context as otelContext, trace } from '@opentelemetry/api';
import {
  BrokenCircuitError,
  CircuitState,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  timeout,
  wrap,
  type IBreaker,
} from 'cockatiel';
import type { z } from 'zod';
import type { Metrics } from '../../observability/metrics';
import { activeTraceparent, endWith } from '../../observability/trace-context';

/** The services we call (CONTRACT.md, "Services we call"); also the `dependency` label of the client metrics. */
export const SERVICE_NAMES = ['iam', 'policy', 'eris', 'llm_gateway', 'data_governance', 'ubi', 'edge_agent', 'ci', 'alerting'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** NFR-6: open after 5 consecutive failures, half-open after 60 s, closed after 2 successes. */
export interface BreakerSettings {
  failures: number;
  halfOpenAfterMs: number;
  successesToClose: number;
}
export const DEFAULT_BREAKER: BreakerSettings = { failures: 5, halfOpenAfterMs: 60_000, successesToClose: 2 };

export type BreakerState = 'closed' | 'open' | 'half_open';
const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

export type ServiceFailureKind = 'timeout' | 'circuit_open' | 'network' | 'http' | 'invalid_response';

/**
 * A call to a service we do not own that did not give a usable answer. `kind` says why; `countsAsFailure` says
 * whether it speaks of the dependency's health (5xx, 429, timeouts, network errors) rather than of our request (4xx).
 */
export class ServiceCallError extends Error {
  constructor(
    readonly service: ServiceName,
    readonly kind: ServiceFailureKind,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${service}: ${message}`, options);
    this.name = 'ServiceCallError';
  }
  /** The service answered and refused this request (a 4xx other than 408/429): retrying it cannot help. */
  get isRefusal(): boolean {
    return this.kind === 'http' && !this.countsAsFailure;
  }
  get countsAsFailure(): boolean {
    if (this.kind !== 'http') return this.kind !== 'circuit_open';
    return this.status === undefined || this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

export interface ServiceRequest {
  body?: unknown;
  /** Sent as `Idempotency-Key`, so a retried call is applied once by the service. */
  idempotencyKey?: string;
}

export interface ServiceClient {
  readonly name: ServiceName;
  readonly baseUrl: string;
  request<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, req?: ServiceRequest): Promise<T>;
  breakerState(): BreakerState;
}

export interface ServiceClientOptions {
  name: ServiceName;
  baseUrl: string;
  timeoutMs: number;
  serviceToken?: string;
  breaker?: BreakerSettings;
  metrics?: Pick<Metrics, 'dependencyCalls' | 'dependencyCallDuration' | 'circuitBreakerState'>;
}

/**
 * cockatiel's breaker closes on the first successful half-open probe; the requirement asks for two. This breaker opens
 * after `failures` consecutive failures and, after a successful probe, keeps the circuit on probation: any failure
 * before `successesToClose` successes in a row re-opens it at once.
 */
class ProbationBreaker implements IBreaker {
  private consecutive = 0;
  probation = 0;
  constructor(private readonly settings: BreakerSettings) {}
  get state(): unknown {
    return { consecutive: this.consecutive, probation: this.probation };
  }
  set state(value: unknown) {
    const v = value as { consecutive: number; probation: number };
    this.consecutive = v.consecutive;
    this.probation = v.probation;
  }
  success(state: CircuitState): void {
    this.consecutive = 0;
    if (state === CircuitState.HalfOpen) this.probation = this.settings.successesToClose - 1;
    else if (this.probation > 0) this.probation--;
  }
  failure(state: CircuitState): boolean {
    if (state === CircuitState.HalfOpen) return true;
    if (this.probation > 0) {
      this.probation = 0;
      return true;
    }
    this.consecutive++;
    return this.consecutive >= this.settings.failures;
  }
}

/**
 * Outside a traced operation (tracing off, or nothing traced): a fresh trace id marked not sampled (flags 00), so the
 * service neither joins our calls into one trace nor takes them for recorded ones (ADR 0015).
 */
function untracedTraceparent(): string {
  return `00-${crypto.randomBytes(16).toString('hex')}-${crypto.randomBytes(8).toString('hex')}-00`;
}

const tracer = trace.getTracer('mmm-engine/service-client');

/**
 * One HTTP client for one service: a per-call timeout, a circuit breaker, the service token, `traceparent`, and
 * metrics for every call. Typed clients (IAM, policy, ERIS, …) are thin wrappers over `request`.
 */
export function createServiceClient(opts: ServiceClientOptions): ServiceClient {
  const settings = opts.breaker ?? DEFAULT_BREAKER;
  const breakerImpl = new ProbationBreaker(settings);
  const breaker = circuitBreaker(
    // A timeout (cockatiel's TaskCancelledError, raised inside the breaker) speaks of the dependency's health too.
    handleWhen((err) => (err instanceof ServiceCallError && err.countsAsFailure) || err instanceof TaskCancelledError),
    { halfOpenAfter: settings.halfOpenAfterMs, breaker: breakerImpl },
  );
  const policy = wrap(breaker, timeout(opts.timeoutMs, TimeoutStrategy.Aggressive));
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');

  const breakerState = (): BreakerState => {
    switch (breaker.state) {
      case CircuitState.Open:
      case CircuitState.Isolated:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half_open';
      default:
        return breakerImpl.probation > 0 ? 'half_open' : 'closed';
    }
  };
  const publishState = () => opts.metrics?.circuitBreakerState.set({ dependency: opts.name }, BREAKER_STATE_VALUE[breakerState()]);
  breaker.onStateChange(publishState);
  publishState();

  async function send<T>(method: string, path: string, req: ServiceRequest, signal: AbortSignal): Promise<T> {
    // W3C trace context: the current span (this call's client span) when tracing, else an unsampled fresh one.
    const headers: Record<string, string> = { accept: 'application/json', traceparent: activeTraceparent() ?? untracedTraceparent() };
    if (opts.serviceToken) headers.authorization = `Bearer ${opts.serviceToken}`;
    if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await fetch(baseUrl + path, { method, headers, body, signal });
    } catch (err) {
      if (signal.aborted) throw err; // the timeout policy reports it
      throw new ServiceCallError(opts.name, 'network', `request failed: ${(err as Error).message}`, undefined, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) throw new ServiceCallError(opts.name, 'http', `answered ${res.status} to ${method} ${path}`, res.status);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ServiceCallError(opts.name, 'invalid_response', `answered ${res.status} with a body that is not JSON`, res.status, { cause: err });
    }
  }

  /** A client span per attempt, inside a traced operation only; its context is what `traceparent` names. */
  async function traced<T>(method: string, path: string, call: () => Promise<T>): Promise<T> {
    const parent = trace.getSpan(otelContext.active());
    if (!parent || !parent.isRecording()) return call();
    const span = tracer.startSpan(`${method} ${opts.name}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': method, 'url.full': baseUrl + path, 'server.address': new URL(baseUrl).host, 'peer.service': opts.name },
    });
    return endWith(span, () => otelContext.with(trace.setSpan(otelContext.active(), span), call), (err) => {
      const status = err instanceof ServiceCallError ? err.status : undefined;
      if (status) span.setAttribute('http.response.status_code', status);
    });
  }

  return {
    name: opts.name,
    baseUrl,
    breakerState,
    async request<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, req: ServiceRequest = {}): Promise<T> {
      const started = process.hrtime.bigint();
      let outcome = 'success';
      try {
        // A signal of its own per call: cockatiel's default parent signal is one module-wide object, and every call in
        // flight hangs a listener on it (Node warns of a leak past 10 concurrent calls).
        return await policy.execute(({ signal }) => traced(method, path, () => send<T>(method, path, req, signal)), new AbortController().signal);
      } catch (err) {
        const failure = toServiceCallError(opts.name, opts.timeoutMs, err);
        outcome = failure.isRefusal ? 'rejected' : failure.kind;
        throw failure;
      } finally {
        opts.metrics?.dependencyCalls.inc({ dependency: opts.name, outcome });
        publishState(); // probation ends without a state change of cockatiel's own
        opts.metrics?.dependencyCallDuration.observe({ dependency: opts.name }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
  };
}

function toServiceCallError(service: ServiceName, timeoutMs: number, err: unknown): ServiceCallError {
  if (err instanceof ServiceCallError) return err;
  if (err instanceof BrokenCircuitError) return new ServiceCallError(service, 'circuit_open', 'circuit breaker is open', undefined, { cause: err });
  if (err instanceof TaskCancelledError) return new ServiceCallError(service, 'timeout', `no answer within ${timeoutMs} ms`, undefined, { cause: err });
  return new ServiceCallError(service, 'network', (err as Error)?.message ?? String(err), undefined, { cause: err });
}

/**
 * Checks a service's answer against the shape the contract gives; an answer we cannot use is a ServiceCallError of
 * kind `invalid_response` (so callers degrade the same way as for a failed call) rather than a TypeError later.
 */
export function parseAnswer<S extends z.ZodType>(service: ServiceName, schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new ServiceCallError(service, 'invalid_response', `${what} does not match the contract (${where})`);
}
