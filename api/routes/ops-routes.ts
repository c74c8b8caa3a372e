import { z } from 'zod';
import type { Metrics } from '../../observability/metrics';
import { checkDependencies, type DependencyCheck } from '../readiness';
import { defineRoute } from '../route';

const readySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  dependencies: z.array(
    z.object({ name: z.string(), status: z.enum(['up', 'down']), required: z.boolean(), mode: z.string().optional(), latency_ms: z.number(), breaker: z.enum(['closed', 'open', 'half_open']).optional(), error: z.string().optional() }),
  ),
});

export function opsRoutes(deps: { checks: DependencyCheck[]; metrics: Metrics; version: string }) {
  return [
    defineRoute({
      method: 'get', path: '/v1/mmm/health', summary: 'Liveness', tag: 'ops', access: 'anyone', public: true,
      response: z.object({ status: z.literal('ok'), version: z.string() }),
      async handler() {
        return { body: { status: 'ok', version: deps.version } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/mmm/ready', summary: "Readiness with each dependency's state; 503 when a required one is down", tag: 'ops', access: 'anyone', public: true,
      response: readySchema,
      async handler() {
        const r = await checkDependencies(deps.checks, deps.metrics);
        return { status: r.ready ? 200 : 503, body: { status: r.ready ? 'ready' : 'not_ready', dependencies: r.dependencies } };
      },
    }),
  ];
}
