import { z } from 'zod';
import { AppError, NotFoundError } from '../../domain/errors';
import { behaviouralSignalSchema } from '../../domain/model/behavioural-signal';
import { actorTypeSchema, idSchema, isoDateTimeSchema, severitySchema, text } from '../../domain/model/common';
import { ubiConfigInputSchema, ubiConfigSchema } from '../../domain/model/ubi-config';
import { ingestBodySchema, ingestResponseSchema } from '../../domain/model/ubi-event';
import { ingestUbiEvents } from '../ubi-ingest-service';
import { DIMENSIONS, FEATURE_BY_NAME } from '../../domain/ubi/features';
import { robustSigma } from '../../domain/ubi/scoring';
import type { UbiRepositories } from '../../db/repositories/ubi-repositories';
import type { Metrics } from '../../observability/metrics';
import type { UbiScheduler } from '../../temporal/ubi-schedules';
import type { AuthContext } from '../auth';
import { ADMINS, type AuthRule } from '../authorization';
import type { DependencyCheck } from '../readiness';
import { defineRoute, type RouteSpec } from '../route';
import type { SdkMetrics } from '../../temporal/sdk-metrics';
import { health, healthSchema, metricsText, readiness, readySchema } from './ops-routes';

/** What the UBI routes need beyond the app's shared metrics, dependency checks and version. */
export interface UbiRouteDeps {
  repos: UbiRepositories;
  schedules: UbiScheduler;
  recompute: { start(tenantId: string, requestedBy: string): Promise<{ workflow_id: string; run_id: string }> };
  /** Wakes the micro-batcher when it runs in this process. */
  onIngested(): void;
  /** Pending input older than this makes `ready` report the ingestion as stale. */
  staleAfterSeconds: number;
}

/** The UBI routes' dependencies together with the app's shared ones. */
type UbiRouteContext = UbiRouteDeps & { metrics: Metrics; sdkMetrics?: SdkMetrics; checks: DependencyCheck[]; version: string };

const actorParams = z.object({ actor_id: idSchema });
/** Per-person behavioural data: the actor themself, the surfaces and ingestion (`service`) and the admins; never a peer. */
const OWN_BEHAVIOUR: AuthRule = { roles: ['service', ...ADMINS], tenant: 'token', self: 'path' };
const TENANT_ADMINS: AuthRule = { roles: ADMINS, tenant: 'path' };
const tenantParams = z.object({ tenant_id: idSchema });
const signalsResponse = z.object({ signals: z.array(behaviouralSignalSchema) });
const windowFeatures = z.object({ window_start: isoDateTimeSchema, window_end: isoDateTimeSchema, computed_at: isoDateTimeSchema, values: z.record(text(), z.number()) });
const profileSchema = z.object({
  tenant_id: idSchema,
  actor_id: idSchema,
  actor_type: actorTypeSchema,
  team_id: idSchema.nullable(),
  first_seen: isoDateTimeSchema,
  last_seen: isoDateTimeSchema,
  cold_start: z.object({ state: z.enum(['insufficient', 'warming', 'ready']), active_days: z.number().int(), as_of: text().nullable() }),
  features: z.record(z.enum(['1h', '1d', '7d']), windowFeatures),
  baselines: z.array(z.object({ feature: text(), median: z.number(), mad: z.number(), spread: z.number(), samples: z.number().int(), source: z.literal('personal'), state: text(), as_of: text() })),
  hour_of_week_profile: z.array(z.number()).nullable(),
});
const aggregateSchema = z.object({
  tenant_id: idSchema,
  team_id: idSchema,
  min_group_size: z.number().int(),
  groups: z.array(z.object({
    actor_type: actorTypeSchema,
    members: z.number().int(),
    features: z.record(text(), z.object({ p25: z.number(), median: z.number(), p75: z.number(), actors: z.number().int() })),
    signals_last_7_days: z.record(text(), z.number().int()),
  })),
  suppressed: z.array(z.object({ actor_type: actorTypeSchema, reason: text() })),
});

/** Times every UBI handler into ubi_api_request_duration_seconds (deps are read when a request comes, not at build). */
function timed(deps: () => UbiRouteContext, spec: RouteSpec): RouteSpec {
  const handler = spec.handler;
  return {
    ...spec,
    async handler(ctx) {
      const started = process.hrtime.bigint();
      try {
        return await handler(ctx);
      } finally {
        const auth = ctx.auth as AuthContext | undefined;
        deps().metrics.ubi.apiRequest.observe({ tenant_id: auth?.tenant_id ?? 'anonymous', endpoint: spec.path, method: spec.method.toUpperCase() }, Number(process.hrtime.bigint() - started) / 1e9);
      }
    },
  };
}

/** Every UBI route of CONTRACT.md. `get` returns the dependencies when a request is handled (the OpenAPI build has none). */
export function ubiRoutes(get: () => UbiRouteContext): RouteSpec[] {
  const routes: RouteSpec[] = [
    defineRoute({
      method: 'post', path: '/v1/ubi/events', status: 202, tag: 'ubi', auth: { roles: ['service'], tenant: 'token', also: "each event's tenant_id must be the token's, else that event is rejected (forbidden_tenant)" },
      summary: 'Ingest up to 1000 events; each is validated and privacy-filtered on its own. 202 after commit, with accepted and rejected (index, reason)',
      body: ingestBodySchema,
      response: ingestResponseSchema,
      async handler({ body, auth }) {
        const deps = get();
        const result = await ingestUbiEvents({ events: deps.repos.events, metrics: deps.metrics.ubi, onIngested: deps.onIngested, schedules: deps.schedules }, auth.tenant_id, body.events);
        return { status: 202, body: result };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/ubi/actors/:actor_id/profile', tag: 'ubi', auth: OWN_BEHAVIOUR,
      summary: "An actor's current window features (1h, 1d, 7d), personal baselines, cold-start state and hour-of-week profile",
      params: actorParams,
      response: profileSchema,
      async handler({ params, auth }) {
        const p = await get().repos.baselines.profile(auth.tenant_id, params.actor_id);
        if (!p) throw new NotFoundError('actor', params.actor_id);
        const features: Record<string, z.infer<typeof windowFeatures>> = {};
        for (const f of p.features) {
          const w = (features[f.time_window] ??= { window_start: new Date(f.window_start).toISOString(), window_end: new Date(f.window_end).toISOString(), computed_at: new Date(f.computed_at).toISOString(), values: {} });
          w.values[f.feature] = Number(f.value);
        }
        return {
          body: {
            tenant_id: auth.tenant_id, actor_id: p.actor.actor_id, actor_type: p.actor.actor_type, team_id: p.actor.team_id,
            first_seen: new Date(p.actor.first_seen).toISOString(), last_seen: new Date(p.actor.last_seen).toISOString(),
            cold_start: { state: p.actor.state ?? 'insufficient', active_days: p.actor.active_days ?? 0, as_of: p.actor.as_of },
            features,
            baselines: p.baselines.map((b) => {
              const base = { median: Number(b.median), mad: Number(b.mad), mean_abs_dev: Number(b.mean_abs_dev), samples: b.samples };
              return { feature: b.feature, median: base.median, mad: base.mad, spread: robustSigma(base, FEATURE_BY_NAME.get(b.feature)?.minSpread ?? 0), samples: b.samples, source: 'personal' as const, state: b.state, as_of: b.as_of };
            }),
            hour_of_week_profile: p.actor.hour_profile,
          },
        };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/ubi/signals', tag: 'ubi',
      // A plain actor must ask for their own (actor_id = their id): refusing is plainer than a list silently narrowed.
      auth: { roles: ['service', ...ADMINS], tenant: 'token', self: 'query' },
      summary: 'Behavioural signals of the tenant, newest first, filtered by actor_id, since, severity, dimension. A caller without `service` or an admin role must set actor_id to themself (else 403)',
      query: z.object({
        actor_id: idSchema.optional(),
        since: isoDateTimeSchema.optional(),
        severity: severitySchema.optional(),
        dimension: z.enum(DIMENSIONS as [string, ...string[]]).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
      }),
      response: signalsResponse,
      async handler({ query, auth }) {
        return { body: { signals: await get().repos.signals.list(auth.tenant_id, query) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/ubi/signals/recent', tag: 'ubi', auth: { roles: ['service', ...ADMINS], tenant: 'query', self: 'query' },
      summary: "An actor's most recent signals (what the engine's context assembly reads)",
      query: z.object({ actor_id: idSchema, limit: z.coerce.number().int().min(1).max(100).default(10), tenant_id: idSchema.optional() }),
      response: signalsResponse,
      async handler({ query, auth }) {
        return { body: { signals: await get().repos.signals.list(auth.tenant_id, { actor_id: query.actor_id, limit: query.limit }) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/ubi/tenants/:tenant_id/config', tag: 'ubi', auth: TENANT_ADMINS,
      summary: "The tenant's UBI configuration (version 0 = defaults)",
      params: tenantParams,
      response: ubiConfigSchema,
      async handler({ params }) {
        return { body: await get().repos.configs.get(params.tenant_id) };
      },
    }),
    defineRoute({
      method: 'put', path: '/v1/ubi/tenants/:tenant_id/config', tag: 'ubi', auth: TENANT_ADMINS,
      summary: 'Replace the UBI configuration (a new version; it applies from the next micro-batch, and signals carry it)',
      params: tenantParams,
      body: ubiConfigInputSchema,
      response: ubiConfigSchema.extend({ schedule_synced: z.boolean().describe('false when the recompute schedule could not be updated now (retried later)') }),
      async handler({ params, body, auth }) {
        const deps = get();
        const config = await deps.repos.configs.put(params.tenant_id, body, auth.sub);
        const synced = await deps.schedules.ensure(params.tenant_id, true);
        return { body: { ...config, schedule_synced: synced } };
      },
    }),
    defineRoute({
      method: 'post', path: '/v1/ubi/tenants/:tenant_id/baselines/recompute', status: 202, tag: 'ubi', auth: TENANT_ADMINS,
      summary: 'Start recomputeBaselinesWorkflow for the tenant now; returns its workflow_id (visible in the Temporal UI)',
      params: tenantParams,
      response: z.object({ tenant_id: idSchema, workflow_id: text(), run_id: text() }),
      async handler({ params, auth }) {
        const started = await get().recompute.start(params.tenant_id, auth.sub);
        return { status: 202, body: { tenant_id: params.tenant_id, ...started } };
      },
    }),
    defineRoute({
      // Any token of the tenant: what protects people here is the minimum group size, not a role.
      method: 'get', path: '/v1/ubi/teams/:team_id/aggregates', tag: 'ubi', auth: { roles: 'any', tenant: 'token' },
      summary: "Team aggregates per actor type (never per actor); refused (403) when no group reaches the tenant's minimum group size",
      params: z.object({ team_id: idSchema }),
      response: aggregateSchema,
      async handler({ params, auth }) {
        const deps = get();
        const [config, agg] = await Promise.all([deps.repos.configs.get(auth.tenant_id), deps.repos.baselines.teamAggregates(auth.tenant_id, params.team_id)]);
        const k = config.min_group_size;
        if (agg.members.length === 0) throw new NotFoundError('team', params.team_id);
        const groups: z.infer<typeof aggregateSchema>['groups'] = [];
        const suppressed: z.infer<typeof aggregateSchema>['suppressed'] = [];
        for (const m of agg.members) {
          const actorType = m.actor_type as 'human' | 'ai_agent';
          if (m.members < k) {
            suppressed.push({ actor_type: actorType, reason: 'below_min_group_size' });
            continue;
          }
          const features: Record<string, { p25: number; median: number; p75: number; actors: number }> = {};
          // A feature only a few members have data for would describe those few: it needs k actors as well.
          for (const f of agg.features) if (f.actor_type === m.actor_type && f.actors >= k) features[f.feature] = { p25: Number(f.p25), median: Number(f.median), p75: Number(f.p75), actors: f.actors };
          const signals: Record<string, number> = {};
          for (const s of agg.signals) if (s.actor_type === m.actor_type) signals[s.severity] = s.n;
          groups.push({ actor_type: actorType, members: m.members, features, signals_last_7_days: signals });
        }
        if (groups.length === 0)
          throw new AppError(403, 'aggregation_threshold_not_met', `team aggregates need at least ${k} actors of one type`, { min_group_size: k });
        return { body: { tenant_id: auth.tenant_id, team_id: params.team_id, min_group_size: k, groups, suppressed } };
      },
    }),
    defineRoute({
      method: 'delete', path: '/v1/ubi/actors/:actor_id', tag: 'ubi', auth: { roles: ADMINS, tenant: 'token' },
      summary: 'Erase every event, feature, baseline and signal of the actor, and write a signed receipt of the erasure',
      params: actorParams,
      response: z.object({ actor_id: idSchema, erased: z.object({ events: z.number().int(), features: z.number().int(), baselines: z.number().int(), signals: z.number().int() }), receipt_id: text() }),
      async handler({ params, auth }) {
        const deps = get();
        let result;
        try {
          result = await deps.repos.baselines.eraseActor(auth.tenant_id, params.actor_id, auth.sub);
        } catch (err) {
          deps.metrics.ubi.receiptEmissions.inc({ tenant_id: auth.tenant_id, status: 'failed' });
          throw err;
        }
        if (!result) throw new NotFoundError('actor', params.actor_id);
        deps.metrics.ubi.receiptEmissions.inc({ tenant_id: auth.tenant_id, status: 'success' });
        return { body: { actor_id: params.actor_id, ...result } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/ubi/health', tag: 'ubi-ops', public: true, summary: 'Liveness',
      response: healthSchema,
      async handler() {
        return health(get().version);
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/ubi/ready', tag: 'ubi-ops', public: true,
      summary: "Readiness: each dependency's state (503 when a required one is down) and the ingestion lag (stale input is reported)",
      alsoAnswers: { 503: 'not ready: a required dependency is down' },
      response: readySchema.extend({
        ingestion: z.object({ pending: z.number().int(), lag_seconds: z.number(), stale: z.boolean(), stale_after_seconds: z.number(), last_change_at: text().nullable() }).nullable(),
      }),
      async handler() {
        const deps = get();
        const [r, backlog] = await Promise.all([readiness(deps.checks, deps.metrics), deps.repos.events.backlog().catch(() => null)]);
        const ingestion = backlog && {
          pending: backlog.pending,
          lag_seconds: Math.round(backlog.oldestAgeSeconds * 1000) / 1000,
          stale: backlog.oldestAgeSeconds > deps.staleAfterSeconds,
          stale_after_seconds: deps.staleAfterSeconds,
          last_change_at: backlog.lastReceivedAt,
        };
        return { status: r.status, body: { ...r.body, ingestion } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/ubi/metrics', tag: 'ubi-ops', public: true,
      summary: 'Prometheus metrics (text exposition format), as GET /metrics',
      response: text(), contentType: 'text/plain',
      async handler() {
        return { body: null, text: await metricsText(get().metrics, get().sdkMetrics) };
      },
    }),
  ];
  return routes.map((r) => timed(get, r));
}
