import path from 'node:path';
import Redis from 'ioredis';
import type { Worker } from '@temporalio/worker';
import type { SignalPublisher } from '../activities/bus/signal-bus';
import { createFeatureBatcher, type FeatureBatcher } from '../activities/ubi/feature-batcher';
import { createRecomputeStarter } from '../api/ubi-recompute';
import { createUbiScheduler, type UbiScheduler } from '../temporal/ubi-schedules';
import { createExperimentScheduler } from '../temporal/experiment-schedules';
import { createActivities } from '../activities';
import { createDecisionNotifier } from '../lib/decision-notifier';
import { createMemoryFatigueStore } from '../activities/fatigue/memory-fatigue-store';
import { createRedisFatigueStore } from '../activities/fatigue/redis-fatigue-store';
import type { FatigueStore } from '../activities/fatigue/fatigue-store';
import { createApp } from '../api/app';
import { createApprovalService } from '../api/approval-service';
import { createHs256Verifier } from '../api/auth';
import { createCachedVerifier } from '../api/cached-verifier';
import { createDecideService } from '../api/decide-service';
import { decisionWorkersCheck, type DependencyCheck } from '../api/readiness';
import { createDecisionClient } from '../workflows/decision/client';
import { startServer, type RunningServer } from '../api/server';
import type { AppConfig } from '../config/config';
import { createRepositories, type Repositories } from '../db/database';
import { startEmbeddedPostgres } from '../db/embedded-postgres';
import { migrate } from '../db/migrate';
import { seedDemoTenant } from '../db/seed-demo';
import { createSequelize } from '../db/sequelize';
import type { Logger } from '../observability/logger';
import { createMetrics, type Metrics } from '../observability/metrics';
import { activeTracing } from '../observability/tracing';
import { VERSION } from './version';
import { WORKFLOW_BUNDLE_PATH } from '../temporal/bundle-workflows';
import { connectTemporal, ensureSearchAttributes, type TemporalHandles } from '../temporal/connection';
import { resolveTemporalCliPath, startTemporalDevServer } from '../temporal/dev-server';
import { installSdkRuntime } from '../temporal/sdk-runtime';
import { createSdkMetrics } from '../temporal/sdk-metrics';
import { DEV_SERVER_SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { createActionDeps } from './action-deps';
import { createDecisionWorker } from './decision-worker';
import { resolveJwtSecret } from '../lib/dev-secret';
import { findRedisServer, startRedisServer } from './embedded-redis';
import { createServiceClients, servicesCalledBy, type ServiceClients } from './service-clients';
import { startOpsServer } from './ops-server';
import { createExternalServices } from './external-services';
import { startReceiptEmission } from './receipt-emission';
import type { SignalBus } from '../activities/bus/signal-bus';
import { createConfiguredSignalBus, startEmbeddedKafka } from './signal-bus-factory';
import { startUbiEventConsumer } from './ubi-event-consumer';
import { startSignalConsumer } from './signal-consumer';
import { createDecidePrivacyFilter } from '../lib/decide-privacy';

export interface Runtime {
  apiUrl: string | null;
  /** Without the API: where /healthz, /readyz and /metrics are served (METRICS_PORT). */
  metricsUrl: string | null;
  temporalAddress: string;
  temporalUiUrl: string | null;
  databaseUrl: string;
  redisMode: string;
  repos: Repositories;
  temporal: TemporalHandles;
  metrics: Metrics;
  /** One client per configured external service (CONTRACT.md "Services we call"); absent ones use embedded defaults. */
  serviceClients: ServiceClients;
  /** The signal bus (BUS_TYPE): UBI publishes through it, the engine's signal consumer reads from it. */
  bus: SignalBus;
  jwtSecret: string;
  /** UBI: the feature micro-batcher (where the worker runs) and the per-tenant schedule keeper. */
  ubi: { batcher?: FeatureBatcher; scheduler: UbiScheduler };
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  /** Where UBI signals go after they are stored; the configured signal bus unless a test injects its own. */
  signalPublisher?: SignalPublisher;
}


/**
 * The composition root: starts (or connects to) PostgreSQL, Redis and Temporal, then builds repositories,
 * activities, the worker and the API from them. Embedded defaults start only for what is not configured.
 */
export async function startRuntime(config: AppConfig, logger: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => logger.warn({ err }, 'error while stopping'));
  };
  const sdkMetricsAddress = await installSdkRuntime(logger, { metricsBindAddress: config.TEMPORAL_METRICS_BIND_ADDRESS });
  const sdkMetrics = sdkMetricsAddress ? createSdkMetrics(sdkMetricsAddress) : undefined;
  try {
    // PostgreSQL
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      logger.info('starting embedded PostgreSQL');
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(config.dataDir, 'postgres'),
        port: config.EMBEDDED_POSTGRES_PORT,
        database: 'mmm',
      });
      stops.push(() => pg.stop());
      databaseUrl = pg.url;
    }
    const sequelize = createSequelize({
      url: databaseUrl,
      poolMin: config.DATABASE_POOL_MIN,
      poolMax: config.DATABASE_POOL_MAX,
      idleMs: config.DATABASE_POOL_IDLE_MS,
      connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
      pingAfterIdleMs: config.DATABASE_POOL_PING_AFTER_IDLE_MS,
      preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    });
    stops.push(() => sequelize.close());
    const applied = await migrate(sequelize);
    if (applied.length) logger.info({ applied }, 'database migrations applied');
    const repos = createRepositories(sequelize, { receiptSigningKeyPem: config.RECEIPT_SIGNING_KEY_PEM });
    await repos.ledger.signingKey();

    // Redis (fatigue state)
    let fatigueStore: FatigueStore;
    let redisMode: string;
    let redis: Redis | undefined;
    let redisUrl = config.REDIS_MODE === 'memory' ? undefined : config.REDIS_URL;
    if (!redisUrl && config.REDIS_MODE !== 'memory' && findRedisServer()) {
      const server = await startRedisServer({ dataDir: path.join(config.dataDir, 'redis') });
      stops.push(() => server.stop());
      redisUrl = server.url;
    }
    if (redisUrl) {
      // No offline queue and a short command timeout: when Redis is away, fatigue fails fast and safe.
      redis = new Redis(redisUrl, { enableOfflineQueue: false, commandTimeout: 500, maxRetriesPerRequest: 1, lazyConnect: true });
      redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
      await redis.connect();
      const r = redis;
      // quit() waits for a server that may be gone; a connection that is not ready is simply dropped.
      stops.push(async () => (r.status === 'ready' ? r.quit().catch(() => r.disconnect()) : r.disconnect()));
      fatigueStore = createRedisFatigueStore(redis);
      redisMode = 'redis';
    } else {
      if (config.REDIS_MODE === 'redis') throw new Error('REDIS_MODE=redis but no REDIS_URL and no redis-server on the PATH');
      fatigueStore = createMemoryFatigueStore();
      redisMode = 'memory (single node only: fatigue counts are not shared between processes)';
      logger.warn('no Redis available: fatigue state is in-process, single node only');
    }

    // Temporal
    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUiUrl: string | null = null;
    if (!temporalAddress) {
      logger.info('starting embedded Temporal dev server');
      const dev = await startTemporalDevServer({
        cliPath: resolveTemporalCliPath(config),
        port: config.TEMPORAL_DEV_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        dbFilename: path.join(config.dataDir, 'temporal.db'),
        namespace: config.TEMPORAL_NAMESPACE,
        searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES,
      });
      stops.push(() => dev.stop());
      temporalAddress = dev.address;
      temporalUiUrl = dev.uiUrl;
    }
    // Tracing is started by workers/main.ts before anything it instruments is loaded (ADR 0015); absent when off.
    const tracing = activeTracing();
    if (tracing) stops.push(() => tracing.flush());
    const temporal = await connectTemporal(temporalAddress, config.TEMPORAL_NAMESPACE, { tracing: Boolean(tracing) });
    stops.push(() => temporal.close());
    if (config.TEMPORAL_ADDRESS) await ensureSearchAttributes(temporal.client, config.TEMPORAL_NAMESPACE);

    const metrics = createMetrics();
    // Only the services the tiers of this process call, so each tier's readiness lists the breakers it really uses.
    const serviceClients = createServiceClients(config, metrics, servicesCalledBy({ api: config.RUN_API, worker: config.RUN_WORKER }));
    const external = createExternalServices(config, serviceClients, { outbox: repos.receiptOutbox, metrics, logger });
    if (config.ERIS_BASE_URL) {
      // From now on every receipt is queued for ERIS; the first deployment with ERIS also queues the ledger's history.
      const enabled = await repos.receiptOutbox.enable();
      if (enabled) logger.info(enabled, 'receipts are now queued for ERIS');
    }
    // BUS_TYPE=kafka without KAFKA_BROKERS: a private broker in the data folder, as for Redis and PostgreSQL.
    const kafkaBrokers = config.BUS_TYPE === 'kafka' && !config.KAFKA_BROKERS ? await startEmbeddedKafka(config, logger, stops) : config.KAFKA_BROKERS;
    const { bus, mode: busMode } = createConfiguredSignalBus(config, { redisUrl, kafkaBrokers, metrics, logger });
    stops.push(() => bus.close());
    // Worker and API in one process: the API learns of committed decisions directly (ADR 0012).
    const notifier = config.RUN_WORKER && config.RUN_API ? createDecisionNotifier() : undefined;
    // One privacy filter in front of decide, for the HTTP API and the signal consumer, with the tenant's data governance.
    const guard = external.activities.privacy;
    const decidePrivacy = createDecidePrivacyFilter({ governance: guard?.configured ? (tenantId) => guard.tenantConfig(tenantId) : undefined });
    // One decide service for the HTTP API and the signal consumer: Updates into the actors' shard workflows.
    const decide = createDecideService({
      decisions: createDecisionClient({
        client: temporal.client,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        shards: config.DECISION_SHARDS,
        maxDecisionsPerRun: config.DECISION_MAX_PER_RUN,
        maxRunAgeMs: config.DECISION_MAX_RUN_AGE_MS || undefined,
        maxInFlightPerShard: config.DECISION_MAX_IN_FLIGHT_PER_SHARD,
      }),
      store: repos.decisions,
      notifier,
      metrics,
    });

    const scheduler = createUbiScheduler({
      client: temporal.client,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      cronOf: async (tenantId) => (await repos.ubi.configs.get(tenantId)).baseline_schedule,
      logger,
      enabled: config.UBI_SCHEDULES_ENABLED,
    });
    const experimentSchedules = createExperimentScheduler({ client: temporal.client, taskQueue: config.TEMPORAL_TASK_QUEUE, intervalSeconds: config.EXPERIMENT_RECOMPUTE_SECONDS, logger });
    let batcher: FeatureBatcher | undefined;

    let worker: Worker | undefined;
    if (config.RUN_WORKER) {
      // The feature micro-batcher runs beside the worker: features stay fresh within seconds of ingestion. The baseline
      // recompute's activities score open days through it, so it exists before them (and starts after the worker).
      const b = createFeatureBatcher({
        repos: repos.ubi,
        publisher: opts.signalPublisher ?? bus,
        metrics: metrics.ubi,
        logger,
        batchSize: config.UBI_BATCH_SIZE,
        intervalMs: config.UBI_BATCHER_INTERVAL_MS,
      });
      batcher = b;
      worker = await createDecisionWorker({
        connection: temporal.connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        activities: createActivities({
          repos,
          fatigueStore,
          notifier,
          external: external.activities,
          actions: createActionDeps(repos, serviceClients, metrics),
          ubi: { baselines: repos.ubi.baselines, configs: repos.ubi.configs, features: repos.ubi.features, scorer: b, metrics: metrics.ubi },
          alerts: { alerting: external.alerting, outbox: repos.outbox, privacy: external.activities.privacy, metrics, logger },
          retention: { policies: repos.policies, retention: repos.retention },
          experiments: { experiments: repos.experiments },
        }),
        workflowBundlePath: config.WORKFLOW_BUNDLE_PATH ?? WORKFLOW_BUNDLE_PATH,
        tracing,
        workflowStackTraces: config.WORKFLOW_STACK_TRACES,
      });
      const running = worker.run();
      const w = worker;
      stops.push(async () => {
        if (w.getState() === 'RUNNING') w.shutdown();
        await running;
      });
      // Every ledger receipt goes to ERIS through the outbox, drained by one workflow per task queue (ADR 0009).
      if (serviceClients.eris) {
        await startReceiptEmission(temporal.client, config);
        metrics.readReceiptBacklogWith(() => repos.receiptOutbox.pendingCount());
      }
      b.start();
      stops.push(() => b.stop());
      if (config.SIGNAL_CONSUMER_ENABLED) {
        // The engine listening on ubi.behavioural_signals (ADR 0007); stopped before the worker, so decisions in hand finish.
        const consumer = await startSignalConsumer({
          bus,
          decide,
          playbooks: repos.decisionInputs,
          group: config.BUS_CONSUMER_GROUP,
          defaultSurfaces: config.SIGNAL_CONSUMER_DEFAULT_SURFACES,
          metrics,
          logger: logger.child({ component: 'signal-consumer' }),
          privacy: decidePrivacy,
        });
        stops.push(() => consumer.stop());
      }
      if (config.UBI_BUS_INGESTION_ENABLED) {
        // UBI's event intake from `ubi.events`, with the same use case as POST /v1/ubi/events (CONTRACT.md "Buses").
        const events = await startUbiEventConsumer({
          bus,
          ingest: { events: repos.ubi.events, metrics: metrics.ubi, onIngested: () => b.notify(), schedules: scheduler },
          group: `${config.BUS_CONSUMER_GROUP}.ubi-ingest`,
          batchSize: config.UBI_BUS_BATCH_SIZE,
          lingerMs: config.UBI_BUS_LINGER_MS,
          logger: logger.child({ component: 'ubi-event-consumer' }),
        });
        stops.push(() => events.stop());
      }
    }
    // Schedules of tenants already known, in the background: start-up does not wait on them.
    if (config.UBI_SCHEDULES_ENABLED)
      void Promise.all([repos.ubi.events.knownTenants(), repos.retention.knownTenants()]).then(
        ([ubi, mmm]) => Promise.all([...new Set([...ubi, ...mmm])].map((t) => scheduler.ensure(t))),
        (err) => logger.warn({ err: err.message }, 'could not list known tenants'),
      );

    // Seeding and the token secret belong to the API tier; a worker-only process needs neither (nor a writable DATA_DIR).
    if (config.SEED_DEMO && config.RUN_API) {
      const seeded = await seedDemoTenant(repos, config.DEMO_TENANT_ID);
      if (seeded) logger.info({ tenant_id: config.DEMO_TENANT_ID, playbooks: seeded }, 'demo tenant seeded');
    }

    // Readiness: the same checks in both tiers (the services: those this process calls), plus `worker` where the
    // worker runs and `decision_workers` where the API runs.
    const checks: DependencyCheck[] = [
      { name: 'postgres', required: true, check: async () => void (await sequelize.query('SELECT 1')) },
      // Not required: without Redis decisions still answer, safely (nothing shown, flagged degraded). Taking every
      // API pod out of service for a shared Redis outage would turn safe answers into ingress errors.
      { name: 'redis', required: false, mode: redisMode, check: () => fatigueStore.ping() },
      { name: 'temporal', required: true, check: async () => void (await temporal.client.workflowService.getSystemInfo({})) },
      ...external.checks,
      // Not required: decide over HTTP works without the bus; signals wait on it (at-least-once) until it is back.
      { name: 'bus', required: false, mode: busMode, check: () => bus.ping() },
    ];
    if (worker) {
      const w = worker;
      // The worker tier's own reason to be: a worker that has stopped or failed polls nothing.
      checks.push({
        name: 'worker', required: true, mode: `task queue ${config.TEMPORAL_TASK_QUEUE}`,
        async check() {
          if (w.getState() !== 'RUNNING') throw new Error(`the Temporal worker is ${w.getState()}`);
        },
      });
    }

    let secret = '';
    let server: RunningServer | undefined;
    let opsServer: RunningServer | undefined;
    if (config.RUN_API) {
      secret = resolveJwtSecret(config.AUTH_JWT_SECRET, config.dataDir).secret;
      // The API tier's question about the other tier: is anyone polling the queue its decisions go to?
      const apiChecks = [...checks, decisionWorkersCheck(temporal.client, config.TEMPORAL_TASK_QUEUE)];
      const app = createApp({
        repos,
        decide,
        verifier: external.iamVerifier ?? createCachedVerifier(createHs256Verifier(secret)),
        metrics,
        sdkMetrics,
        logger,
        checks: apiChecks,
        version: VERSION,
        ubi: {
          repos: repos.ubi,
          schedules: scheduler,
          recompute: createRecomputeStarter(temporal.client, config.TEMPORAL_TASK_QUEUE, repos),
          onIngested: () => batcher?.notify(),
          staleAfterSeconds: config.UBI_STALE_AFTER_SECONDS,
        },
        approvals: createApprovalService({ client: temporal.client, approvals: repos.actionApprovals }),
        decidePrivacy,
        experimentSchedules,
        experimentTriggerOutcomes: config.EXPERIMENT_TRIGGER_OUTCOMES,
      });
      server = await startServer(app, config.PORT, config.HOST, {
        shutdownGraceMs: config.HTTP_SHUTDOWN_GRACE_MS,
        onGraceExpired: (cut) => logger.warn({ cut, grace_ms: config.HTTP_SHUTDOWN_GRACE_MS }, 'requests still open after the shutdown grace were cut'),
      });
      const s = server;
      stops.push(() => s.close());
    } else {
      // Without the API the process still answers probes and scrapes (the worker tier's Deployment uses both).
      opsServer = await startOpsServer({ host: config.HOST, port: config.METRICS_PORT, checks, metrics, sdkMetrics, version: VERSION, logger });
      const o = opsServer;
      stops.push(() => o.close());
    }

    return {
      apiUrl: server?.url ?? null,
      metricsUrl: opsServer?.url ?? null,
      temporalAddress,
      temporalUiUrl,
      databaseUrl,
      redisMode,
      repos,
      temporal,
      metrics,
      serviceClients,
      bus,
      jwtSecret: secret,
      ubi: { batcher, scheduler },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
