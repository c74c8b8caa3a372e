import type { Client } from '@temporalio/client';
import type { BreakerState } from '../lib/clients/service-client';
import { createTtlCache } from '../lib/ttl-cache';
import { withTimeout } from '../lib/with-timeout';
import type { Metrics } from '../observability/metrics';
import { countRecentPollers } from '../temporal/task-queue-pollers';

export interface DependencyCheck {
  name: string;
  /** A required dependency that is down makes `ready` answer 503. */
  required: boolean;
  /** What is serving, e.g. "redis" or "memory (single node only)". */
  mode?: string;
  /** For services we call: their circuit breaker's state at the time of the check. */
  breaker?: () => BreakerState;
  check(): Promise<void>;
}

export interface DependencyState {
  name: string;
  status: 'up' | 'down';
  required: boolean;
  mode?: string;
  latency_ms: number;
  breaker?: BreakerState;
  error?: string;
}

const CHECK_TIMEOUT_MS = 1500;

export async function checkDependencies(checks: DependencyCheck[], metrics?: Metrics): Promise<{ ready: boolean; dependencies: DependencyState[] }> {
  const dependencies = await Promise.all(
    checks.map(async (c): Promise<DependencyState> => {
      const started = Date.now();
      try {
        await withTimeout(c.check(), CHECK_TIMEOUT_MS, () => new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`));
        metrics?.dependencyUp.set({ dependency: c.name }, 1);
        return { name: c.name, status: 'up', required: c.required, mode: c.mode, latency_ms: Date.now() - started, breaker: c.breaker?.() };
      } catch (err) {
        metrics?.dependencyUp.set({ dependency: c.name }, 0);
        return {
          name: c.name, status: 'down', required: c.required, mode: c.mode, latency_ms: Date.now() - started, breaker: c.breaker?.(),
          error: err instanceof Error ? err.message : String(err),
        };
      }
    }),
  );
  return { ready: dependencies.every((d) => d.status === 'up' || !d.required), dependencies };
}

/**
 * Readiness of a service we call, from its circuit breaker rather than a probe request (ready is polled often and
 * must not add load to a struggling dependency): open means down. Only IAM is required: without it every request
 * fails closed, so the instance cannot serve; every other service degrades decisions instead.
 */
export function serviceCheck(client: { name: string; baseUrl: string; breakerState(): BreakerState }): DependencyCheck {
  return {
    name: client.name,
    required: client.name === 'iam',
    mode: client.baseUrl,
    breaker: () => client.breakerState(),
    async check() {
      if (client.breakerState() === 'open') throw new Error('circuit breaker open: calls fail fast until the half-open probe');
    },
  };
}

/** The readiness entry of the decision workers; `ready` also answers it as `workers_polling`. */
export const DECISION_WORKERS = 'decision_workers';

/** A worker seen polling within this long counts (temporal/task-queue-pollers.ts says why two minutes). */
const POLLER_WINDOW_MS = 120_000;
/** Ready is probed every few seconds by every API pod: one DescribeTaskQueue per pod per 5 s at most. */
const POLLERS_CACHE_MS = 5_000;

/**
 * Whether any worker polls the decision task queue. Not required: without workers decide answers 503
 * decision_timeout, and taking every API pod out of the Service would only turn that into connection errors; the
 * entry (and mmm_dependency_up{dependency="decision_workers"}, which MmmDependencyDown watches) says where to look.
 */
export function decisionWorkersCheck(client: Client, taskQueue: string, opts: { cacheMs?: number; windowMs?: number } = {}): DependencyCheck {
  const cache = createTtlCache<number>({ ttlMs: opts.cacheMs ?? POLLERS_CACHE_MS, maxEntries: 1 });
  const windowMs = opts.windowMs ?? POLLER_WINDOW_MS;
  return {
    name: DECISION_WORKERS,
    required: false,
    mode: `task queue ${taskQueue}`,
    async check() {
      const pollers = await cache.get(taskQueue, () => countRecentPollers(client, taskQueue, windowMs));
      if (pollers === 0) throw new Error(`no worker has polled task queue ${taskQueue} in the last ${windowMs / 1000} s`);
    },
  };
}
