import path from 'node:path';
import Redis from 'ioredis';
import type { Worker } from '@temporalio/worker';
import type { SignalPublisher } from '../activities/bus/signal-bus';
import { createFeatureBatcher, type FeatureBatcher } from '../activities/ubi/feature-batcher';
import { createRecomputeStarter } from '../api/ubi-recompute';
import { createUbiScheduler, type UbiScheduler } from '../temporal/ubi-schedules';
import { createActivities } from '../activities';
import { createDecisionNotifier } from '../lib/decision-notifier';
import { createMemoryFatigueStore } from '../activities/fatigue/memory-fatigue-store';
import { createRedisFatigueStore } from '../activities/fatigue/redis-fatigue-store';
import type { FatigueStore } from '../activities/fatigue/fatigue-store';
import { createApp } from '../api/app';
import { createApprovalService } from '../api/approval-service';
import { createHs256Verifier } from '../api/auth';
import { createDecideService } from '../api/decide-service';
import type { DependencyCheck } from '../api/readiness';
import { startServer, type RunningServer } from '../api/server';
import type { AppConfig } from '../config/config';
import { createRepositories, type Repositories } from '../db/database';
import { startEmbeddedPostgres } from '../db/embedded-postgres';
import { migrate } from '../db/migrate';
import { seedDemoTenant } from '../db/seed-demo';
import { createSequelize } from '../db/sequelize';
import type { Logger } from '../observability/logger';
import { createMetrics, type Metrics } from '../observability/metrics';
import { WORKFLOW_BUNDLE_PATH } from '../temporal/bundle-workflows';
import { connectTemporal, ensureSearchAttributes, type TemporalHandles } from '../temporal/connection';
import { resolveTemporalCliPath, startTemporalDevServer } from '../temporal/dev-server';
import { installSdkLogging } from '../temporal/sdk-logging';
import { DEV_SERVER_SEARCH_ATTRIBUTES } from '../temporal/search-attributes';
import { createActionDeps } from './action-deps';
import { createDecisionWorker } from './decision-worker';
import { resolveJwtSecret } from '../lib/dev-secret';
import { findRedisServer, startRedisServer } from './embedded-redis';
import { createServiceClients, type ServiceClients } from './service-clients';
import { createExternalServices } from './external-services';
import { startReceiptEmission } from './receipt-emission';
import type { SignalBus } from '../activities/bus/signal-bus';
import { createConfiguredSignalBus, startEmbeddedKafka } from './signal-bus-factory';
import { startUbiEventConsumer } from './ubi-event-consumer';
import { startSignalConsumer } from './signal-consumer';

export interface Runtime {
  apiUrl: string | null;
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

const VERSION = '0.1.0';

/**
 * The composition root: starts (or connects to) PostgreSQL, Redis and Temporal, then builds repositories,
 * activities, the worker and the API from them. Embedded defaults start only for what is not configured.
 */
export async function startRuntime(config: AppConfig, logger: Logger, opts: RuntimeOptions = {}): Promise<Runtime> {
  const stops: Array<() => Promise<unknown>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err) => logger.warn({ err }, 'error while stopping'));
  };
  installSdkLogging(logger, { metricsBindAddress: config.TEMPORAL_METRICS_BIND_ADDRESS });
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
    const sequelize = createSequelize({ url: databaseUrl, poolMin: config.DATABASE_POOL_MIN, poolMax: config.DATABASE_POOL_MAX });
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
        cliPath: resolveTemporalCliPath(config.TEMPORAL_CLI_PATH),
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
    const temporal = await connectTemporal(temporalAddress, config.TEMPORAL_NAMESPACE);
    stops.push(() => temporal.close());
    if (config.TEMPORAL_ADDRESS) await ensureSearchAttributes(temporal.client, config.TEMPORAL_NAMESPACE);

    const metrics = createMetrics();
    const serviceClients = createServiceClients(config, metrics);
    const external = createExternalServices(config, serviceClients, { outbox: repos.receiptOutbox, metrics, logger });
    if (serviceClients.eris) {
      // From now on every receipt is queued for ERIS; the first deployment with ERIS also queues the ledger's history.
      const enabled = await repos.receiptOutbox.enable();
      if (enabled) logger.info(enabled, 'receipts are now queued for ERIS');
    }
    // BUS_TYPE=kafka without KAFKA_BROKERS: a private broker in the data folder, as for Redis and PostgreSQL.
    const kafkaBrokers = config.BUS_TYPE === 'kafka' && !config.KAFKA_BROKERS ? await startEmbeddedKafka(config, logger, stops) : config.KAFKA_BROKERS;
    const { bus, mode: busMode } = createConfiguredSignalBus(config, { redisUrl, kafkaBrokers, metrics, logger });
    stops.push(() => bus.close());
    // Worker and API in one process: the API learns of committed decisions directly (ADR 0001).
    const notifier = config.RUN_WORKER && config.RUN_API ? createDecisionNotifier() : undefined;
    // One decide service for the HTTP API and the signal consumer.
    const decide = createDecideService({
      client: temporal.client,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      eagerStart: config.TEMPORAL_EAGER_START && config.RUN_WORKER,
      decisions: repos.decisions,
      notifier,
    });

    const scheduler = createUbiScheduler({
      client: temporal.client,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      cronOf: async (tenantId) => (await repos.ubi.configs.get(tenantId)).baseline_schedule,
      logger,
      enabled: config.UBI_SCHEDULES_ENABLED,
    });
    let batcher: FeatureBatcher | undefined;

    let worker: Worker | undefined;
    if (config.RUN_WORKER) {
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
          ubi: { baselines: repos.ubi.baselines, configs: repos.ubi.configs, metrics: metrics.ubi },
          alerts: { alerting: external.alerting, outbox: repos.outbox, privacy: external.activities.privacy, metrics, logger },
        }),
        workflowBundlePath: process.env.WORKFLOW_BUNDLE_PATH ?? WORKFLOW_BUNDLE_PATH,
      });
      const running = worker.run();
      const w = worker;
      stops.push(async () => {
        if (w.getState() === 'RUNNING') w.shutdown();
        await running;
      });
      // Every ledger receipt goes to ERIS through the outbox, drained by one workflow per task queue (ADR 0009).
      if (serviceClients.eris) await startReceiptEmission(temporal.client, config);
      // The feature micro-batcher runs beside the worker: features stay fresh within seconds of ingestion.
      const b = createFeatureBatcher({
        repos: repos.ubi,
        publisher: opts.signalPublisher ?? bus,
        metrics: metrics.ubi,
        logger,
        batchSize: config.UBI_BATCH_SIZE,
        intervalMs: config.UBI_BATCHER_INTERVAL_MS,
      });
      b.start();
      stops.push(() => b.stop());
      batcher = b;
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
      void repos.ubi.events.knownTenants().then((tenants) => Promise.all(tenants.map((t) => scheduler.ensure(t))), (err) => logger.warn({ err: err.message }, 'could not list UBI tenants'));

    // Seeding and the token secret belong to the API tier; a worker-only process needs neither (nor a writable DATA_DIR).
    if (config.SEED_DEMO && config.RUN_API) {
      const seeded = await seedDemoTenant(repos, config.DEMO_TENANT_ID);
      if (seeded) logger.info({ tenant_id: config.DEMO_TENANT_ID, playbooks: seeded }, 'demo tenant seeded');
    }

    let secret = '';
    let server: RunningServer | undefined;
    if (config.RUN_API) {
      secret = resolveJwtSecret(config.AUTH_JWT_SECRET, config.dataDir).secret;
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
      const app = createApp({
        repos,
        decide,
        verifier: external.iamVerifier ?? createHs256Verifier(secret),
        metrics,
        logger,
        checks,
        version: VERSION,
        ubi: {
          repos: repos.ubi,
          schedules: scheduler,
          recompute: createRecomputeStarter(temporal.client, config.TEMPORAL_TASK_QUEUE),
          onIngested: () => batcher?.notify(),
          staleAfterSeconds: config.UBI_STALE_AFTER_SECONDS,
        },
        approvals: createApprovalService({ client: temporal.client, approvals: repos.actionApprovals }),
      });
      server = await startServer(app, config.PORT, config.HOST);
      const s = server;
      stops.push(() => s.close());
    }

    return {
      apiUrl: server?.url ?? null,
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
