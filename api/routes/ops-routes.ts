import { z } from 'zod';
import { text } from '../../domain/model/common';
import type { Metrics } from '../../observability/metrics';
import type { SdkMetrics } from '../../temporal/sdk-metrics';
import { DECISION_WORKERS, checkDependencies, type DependencyCheck } from '../readiness';
import { defineRoute } from '../route';

export const healthSchema = z.object({ status: z.literal('ok'), version: text() });

/** The readiness answer; GET /v1/ubi/ready extends it with the ingestion lag. */
export const readySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  dependencies: z.array(
    z.object({ name: text(), status: z.enum(['up', 'down']), required: z.boolean(), mode: text().optional(), latency_ms: z.number(), breaker: z.enum(['closed', 'open', 'half_open']).optional(), error: text().optional() }),
  ),
  workers_polling: z
    .boolean()
    .optional()
    .describe('API tier: whether any worker has lately polled the decision task queue (Temporal DescribeTaskQueue); without one, decisions time out'),
});

/**
 * These three answer the API's ops routes (/v1/mmm/health, /v1/mmm/ready, /metrics, and their /v1/ubi twins) and the
 * worker tier's /healthz, /readyz and /metrics (workers/ops-server.ts) alike.
 */
export function health(version: string) {
  return { body: { status: 'ok' as const, version } };
}

/** Each dependency's state; 503 when a required one is down. */
export async function readiness(checks: DependencyCheck[], metrics: Metrics) {
  const r = await checkDependencies(checks, metrics);
  const workers = r.dependencies.find((d) => d.name === DECISION_WORKERS);
  return {
    status: r.ready ? 200 : 503,
    body: {
      status: r.ready ? ('ready' as const) : ('not_ready' as const),
      dependencies: r.dependencies,
      ...(workers ? { workers_polling: workers.status === 'up' } : {}),
    },
  };
}

/**
 * The Prometheus text exposition of the registry, as a route's `text` answer, followed by the Temporal SDK's runtime
 * metrics when the process has them: one scrape holds both (their names never clash: the SDK's all start `temporal_`).
 */
export async function metricsText(metrics: Metrics, sdk?: SdkMetrics) {
  const [own, sdkText] = await Promise.all([metrics.registry.metrics(), sdk?.text() ?? Promise.resolve('')]);
  const content = sdkText ? `${own.endsWith('\n') ? own : `${own}\n`}${sdkText}` : own;
  return { contentType: metrics.registry.contentType, content };
}

export function opsRoutes(deps: { checks: DependencyCheck[]; metrics: Metrics; version: string }) {
  return [
    defineRoute({
      method: 'get', path: '/v1/mmm/health', summary: 'Liveness', tag: 'ops', public: true,
      response: healthSchema,
      async handler() {
        return health(deps.version);
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/mmm/ready', summary: "Readiness with each dependency's state; 503 when a required one is down", tag: 'ops', public: true,
      response: readySchema, alsoAnswers: { 503: 'not ready: a required dependency is down' },
      async handler() {
        return readiness(deps.checks, deps.metrics);
      },
    }),
  ];
}
