import { z } from 'zod';
import { text } from '../../domain/model/common';
import type { Metrics } from '../../observability/metrics';
import { checkDependencies, type DependencyCheck } from '../readiness';
import { defineRoute } from '../route';

export const healthSchema = z.object({ status: z.literal('ok'), version: text() });

/** The readiness answer; GET /v1/ubi/ready extends it with the ingestion lag. */
export const readySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  dependencies: z.array(
    z.object({ name: text(), status: z.enum(['up', 'down']), required: z.boolean(), mode: text().optional(), latency_ms: z.number(), breaker: z.enum(['closed', 'open', 'half_open']).optional(), error: text().optional() }),
  ),
});

/** Each dependency's state; 503 when a required one is down. */
export async function readiness(checks: DependencyCheck[], metrics: Metrics) {
  const r = await checkDependencies(checks, metrics);
  return { status: r.ready ? 200 : 503, body: { status: r.ready ? ('ready' as const) : ('not_ready' as const), dependencies: r.dependencies } };
}

/** The Prometheus text exposition of the registry, as a route's `text` answer. */
export async function metricsText(metrics: Metrics) {
  return { contentType: metrics.registry.contentType, content: await metrics.registry.metrics() };
}

export function opsRoutes(deps: { checks: DependencyCheck[]; metrics: Metrics; version: string }) {
  return [
    defineRoute({
      method: 'get', path: '/v1/mmm/health', summary: 'Liveness', tag: 'ops', public: true,
      response: healthSchema,
      async handler() {
        return { body: { status: 'ok', version: deps.version } };
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
