import crypto from 'node:crypto';
import express, { type Express } from 'express';
import { AppError } from '../domain/errors';
import type { Repositories } from '../db/database';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { SdkMetrics } from '../temporal/sdk-metrics';
import type { ApprovalService } from './approval-service';
import { authenticate, type TokenVerifier } from './auth';
import type { DecideService } from './decide-service';
import type { DecidePrivacyFilter } from '../lib/decide-privacy';
import { errorHandler } from './error-handler';
import { buildOpenApi } from './openapi';
import type { DependencyCheck } from './readiness';
import { answerUndeclaredMethods, mountRoutes, type RouteSpec } from './route';
import { actionRoutes } from './routes/action-routes';
import { decisionRoutes } from './routes/decision-routes';
import { experimentRoutes } from './routes/experiment-routes';
import { createExperimentService, type ExperimentScheduler } from './experiment-service';
import { metricsText, opsRoutes } from './routes/ops-routes';
import { playbookRoutes, policyRoutes } from './routes/admin-routes';
import { preferenceRoutes } from './routes/preference-routes';
import { receiptRoutes } from './routes/receipt-routes';
import { tenantRoutes } from './routes/tenant-routes';
import { ubiRoutes, type UbiRouteDeps } from './routes/ubi-routes';

export interface AppDeps {
  repos: Pick<Repositories, 'decisions' | 'ledger' | 'preferences' | 'playbooks' | 'policies' | 'audit' | 'tenantMetrics' | 'ubi' | 'experiments'>;
  decide: DecideService;
  verifier: TokenVerifier;
  metrics: Metrics;
  /** The Temporal SDK's runtime metrics, appended to /metrics (one scrape); absent when the process has none. */
  sdkMetrics?: SdkMetrics;
  logger: Logger;
  checks: DependencyCheck[];
  version: string;
  /** UBI routes' dependencies (the routes are always declared, so OpenAPI describes them). */
  ubi?: UbiRouteDeps;
  /** Consent, approval and approval status of multiplier actions. */
  approvals: ApprovalService;
  /** The decide request's privacy filter with the tenant's data governance (default: the filter alone). */
  decidePrivacy?: DecidePrivacyFilter;
  /** The tenants' experiment Schedules (absent: weights stay as activated until a worker's Schedule runs). */
  experimentSchedules?: ExperimentScheduler;
  /** Outcomes since an experiment's last recompute that trigger its Schedule at once. */
  experimentTriggerOutcomes?: number;
}

/** Contract: oversized bodies get 413 with the envelope. Decide bodies are small; playbooks are the largest. */
const BODY_LIMIT_BYTES = 256 * 1024;
/** An event batch (up to 1000 events of a few hundred bytes each) is the one larger body. */
const UBI_EVENTS_BODY_LIMIT_BYTES = 2 * 1024 * 1024;
const UBI_EVENTS_PATH = '/v1/ubi/events';

export function allRoutes(deps: AppDeps): RouteSpec[] {
  const experiments = createExperimentService({
    experiments: deps.repos.experiments,
    playbooks: deps.repos.playbooks,
    scheduler: deps.experimentSchedules,
    triggerOutcomes: deps.experimentTriggerOutcomes,
  });
  return [
    ...decisionRoutes({
      decide: deps.decide, decisions: deps.repos.decisions, ledger: deps.repos.ledger, metrics: deps.metrics, privacy: deps.decidePrivacy,
      onOutcome: (decisionId) => experiments.outcomeRecorded(decisionId),
    }),
    ...receiptRoutes({ ledger: deps.repos.ledger }),
    ...preferenceRoutes({ preferences: deps.repos.preferences }),
    ...playbookRoutes({ playbooks: deps.repos.playbooks }),
    ...policyRoutes({ policies: deps.repos.policies, schedules: deps.ubi?.schedules }),
    ...experimentRoutes({ experiments }),
    ...tenantRoutes({ audit: deps.repos.audit, metrics: deps.repos.tenantMetrics, configs: { get: (t) => deps.repos.ubi.configs.get(t) }, experiments: deps.repos.experiments }),
    ...opsRoutes({ checks: deps.checks, metrics: deps.metrics, version: deps.version }),
    ...ubiRoutes(() => {
      if (!deps.ubi) throw new Error('UBI routes were mounted without their dependencies');
      return { ...deps.ubi, metrics: deps.metrics, sdkMetrics: deps.sdkMetrics, checks: deps.checks, version: deps.version };
    }),
    ...actionRoutes({ approvals: deps.approvals }),
  ];
}

/** Builds the Express app from injected dependencies; it does not listen (api/server.ts does). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const incoming = req.header('x-request-id');
    const requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : crypto.randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (res.locals.route as string | undefined) ?? 'unmatched';
      deps.metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      deps.logger.debug({ request_id: requestId, method: req.method, route, status: res.statusCode, ms: seconds * 1000 }, 'request');
    });
    next();
  });
  app.use(UBI_EVENTS_PATH, express.json({ limit: UBI_EVENTS_BODY_LIMIT_BYTES, strict: true, type: ['application/json', 'application/*+json'] }));
  app.use(express.json({ limit: BODY_LIMIT_BYTES, strict: true, type: ['application/json', 'application/*+json'] }));

  const routes = allRoutes(deps);
  const router = express.Router();
  mountRoutes(router, routes, authenticate(deps.verifier));
  // Inside the same router, so these answer OPTIONS too, before Express's own automatic OPTIONS reply.
  answerUndeclaredMethods(router, routes);
  app.use(router);

  const openapi = buildOpenApi(routes, { title: 'MMM engine and UBI', version: deps.version }, {
    maxBodyBytes: (path) => (path === UBI_EVENTS_PATH ? UBI_EVENTS_BODY_LIMIT_BYTES : BODY_LIMIT_BYTES),
  });
  app.get('/v1/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.get('/metrics', async (_req, res) => {
    const { contentType, content } = await metricsText(deps.metrics, deps.sdkMetrics);
    res.setHeader('Content-Type', contentType);
    res.send(content);
  });
  answerUndeclaredMethods(app, [{ method: 'get', path: '/v1/openapi.json' }, { method: 'get', path: '/metrics' }]);

  app.use((req, _res, next) => next(new AppError(404, 'route_not_found', `no route for ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
