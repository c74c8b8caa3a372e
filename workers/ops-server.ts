import express from 'express';
import { AppError } from '../domain/errors';
import { errorHandler } from '../api/error-handler';
import { health, metricsText, readiness } from '../api/routes/ops-routes';
import type { DependencyCheck } from '../api/readiness';
import { startServer, type RunningServer } from '../api/server';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { SdkMetrics } from '../temporal/sdk-metrics';

export interface OpsServerOptions {
  host: string;
  /** METRICS_PORT; 0 picks a free port (tests). */
  port: number;
  checks: DependencyCheck[];
  metrics: Metrics;
  sdkMetrics?: SdkMetrics;
  version: string;
  logger: Logger;
}

/**
 * What a process without the API serves (CONTRACT.md, "Running it"): `/healthz` (the process answers), `/readyz` (its
 * dependencies, as the API's ready) and `/metrics` (its service metrics and the Temporal SDK's in one scrape). The
 * answers come from the API's own ops handlers; only the paths differ, the ones probes and scrapers expect.
 */
export async function startOpsServer(opts: OpsServerOptions): Promise<RunningServer> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json(health(opts.version).body);
  });
  app.get('/readyz', async (_req, res) => {
    const r = await readiness(opts.checks, opts.metrics);
    res.status(r.status).json(r.body);
  });
  app.get('/metrics', async (_req, res) => {
    const { contentType, content } = await metricsText(opts.metrics, opts.sdkMetrics);
    res.setHeader('Content-Type', contentType);
    res.send(content);
  });
  // The API's envelope for anything else (and for a failure, never expected: readiness catches every check's error).
  app.use((req, _res, next) => next(new AppError(404, 'route_not_found', `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(opts.logger));
  // Probes and scrapes are short: a second of grace is plenty when the process stops.
  return startServer(app, opts.port, opts.host, { shutdownGraceMs: 1_000 });
}
