import path from 'node:path';
import { z } from 'zod';

/**
 * The one configuration schema. Parsed once at start-up; every other module receives the parsed object.
 * Unset external addresses mean "start the embedded default" (ARCHITECTURE.md, Embedded defaults).
 */
const port = z.coerce.number().int().min(0).max(65535);
/** Unset (or empty, see loadConfig) means "not configured" (use the embedded default). */
const optionalUrl = z.url().optional();
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(8080),
  HOST: z.string().default('127.0.0.1'),
  /**
   * On SIGTERM the API stops accepting and lets requests in flight finish for up to this long before it cuts them.
   * 15 s outlasts a decide's 10 s wait for its workflow, and fits the API pod's 30 s grace after its 5 s preStop.
   */
  HTTP_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(15_000),
  DATA_DIR: z.string().default('./.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  AUTH_JWT_SECRET: z.string().min(16, 'AUTH_JWT_SECRET must be at least 16 characters').optional(),
  /** When set, bearer tokens are verified (and requests authorised) by the IAM service instead of AUTH_JWT_SECRET. */
  IAM_BASE_URL: optionalUrl,
  /** How long an IAM verification or authorisation answer is reused (never past the token's own expiry). */
  IAM_CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(15_000),

  DATABASE_URL: optionalUrl,
  /**
   * The storage requirement: a pool of 20-200 connections, pre-ping, idle connections recycled after 600 s, a 30 s
   * connect timeout. Size DATABASE_POOL_MAX x processes below PostgreSQL's max_connections (deploy/README.md).
   */
  DATABASE_POOL_MIN: z.coerce.number().int().min(0).max(200).default(20),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(200),
  DATABASE_POOL_IDLE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(600_000),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(120_000).default(30_000),
  /** A pooled connection idle at least this long answers SELECT 1 before use (0: before every use). */
  DATABASE_POOL_PING_AFTER_IDLE_MS: z.coerce.number().int().min(0).max(600_000).default(1_000),
  /**
   * The decide path's reads as named prepared statements (db/direct-sql.ts). Off for a PgBouncer in transaction mode
   * older than 1.21 (or without max_prepared_statements), which cannot keep them: the same statements then go unnamed.
   */
  DATABASE_PREPARED_STATEMENTS: bool.default(true),
  EMBEDDED_POSTGRES_PORT: port.default(54329),

  REDIS_URL: optionalUrl,
  /** `memory` is the single-node fallback when no redis-server is available. */
  REDIS_MODE: z.enum(['auto', 'redis', 'memory']).default('auto'),

  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI_PATH: z.string().optional(),
  /** Where the per-user build cache (the Temporal CLI built by scripts/ensure.mjs) lives: $XDG_CACHE_HOME or ~/.cache. */
  XDG_CACHE_HOME: z.string().optional(),
  /** The executable search path, for finding `temporal`, `redis-server` and `rabbitmq-server` like `which` does. */
  PATH: z.string().optional(),
  /** The workflow bundle built by `npm run build` (default .tools/workflow-bundle.js); the test set-up writes its own. */
  WORKFLOW_BUNDLE_PATH: z.string().optional(),
  TEMPORAL_TASK_QUEUE: z.string().default('mmm-decisions'),
  /** Eager start needs the worker in this process (the embedded default); a separate API tier turns it off. */
  TEMPORAL_EAGER_START: bool.default(true),
  /**
   * host:port where the Temporal SDK's own Prometheus exporter listens (worker slots, latencies). Unset: a free
   * loopback port. Either way the process's /metrics appends those metrics, so a scrape needs only /metrics.
   */
  TEMPORAL_METRICS_BIND_ADDRESS: z.string().regex(/^[\w.-]+:\d{1,5}$/, 'must be host:port').optional(),
  RUN_WORKER: bool.default(true),
  /**
   * The Temporal SDK's stack capture for every promise a workflow creates, which serves the `__stack_trace` query (the
   * UI's Stack Trace tab). Off by default: it was a sixth of a decision's worker CPU (ADR 0012, "Stack traces off").
   * Switch it on for a worker when a workflow seems stuck and its stack is wanted; everything else works either way.
   */
  WORKFLOW_STACK_TRACES: bool.default(false),
  /**
   * Decisions (ADR 0012): shard workflows per tenant, decisions per shard run before it continues as new (the server
   * allows 2,000 Updates per run), and Updates one API process keeps in flight per shard (the server allows 10).
   */
  DECISION_SHARDS: z.coerce.number().int().min(1).max(1024).default(4),
  DECISION_MAX_PER_RUN: z.coerce.number().int().min(1).max(1900).default(1000),
  /** A shard run continues as new at this age too, so a worker added to the tier takes its share of shards (0: never). */
  DECISION_MAX_RUN_AGE_MS: z.coerce.number().int().min(0).default(300_000),
  DECISION_MAX_IN_FLIGHT_PER_SHARD: z.coerce.number().int().min(1).max(10).default(8),
  RUN_API: bool.default(true),
  /**
   * A process without the API (RUN_API=false, the worker tier) serves /healthz, /readyz and /metrics on HOST at this
   * port, for its probes and its scrape (CONTRACT.md, "Running it"). 0 picks a free port.
   */
  METRICS_PORT: port.default(9464),

  /** Services we call (CONTRACT.md): unset means the embedded default serves. */
  POLICY_BASE_URL: optionalUrl,
  ERIS_BASE_URL: optionalUrl,
  LLM_GATEWAY_BASE_URL: optionalUrl,
  DATA_GOVERNANCE_BASE_URL: optionalUrl,
  UBI_BASE_URL: optionalUrl,
  EDGE_AGENT_BASE_URL: optionalUrl,
  CI_BASE_URL: optionalUrl,
  ALERTING_BASE_URL: optionalUrl,
  /** Sent as `Authorization: Bearer …` on every call to those services. */
  SERVICE_TOKEN: z.string().min(1).optional(),
  /** NFR-6 breaker: open after N consecutive failures, half-open after the window, closed after M successes. */
  CIRCUIT_BREAKER_FAILURES: z.coerce.number().int().min(1).default(5),
  CIRCUIT_BREAKER_HALF_OPEN_MS: z.coerce.number().int().min(1).default(60_000),
  CIRCUIT_BREAKER_SUCCESSES: z.coerce.number().int().min(1).default(2),
  /** FR-11: a policy snapshot is reused 60 s; when the service is down one up to 5 min old serves (not safety-critical). */
  POLICY_CACHE_TTL_MS: z.coerce.number().int().min(0).default(60_000),
  POLICY_STALE_MAX_MS: z.coerce.number().int().min(0).default(300_000),
  /** FR-2: external context (IAM, UBI, data governance answers) is reused for 30 s. */
  CONTEXT_CACHE_TTL_MS: z.coerce.number().int().min(0).default(30_000),
  /** ERIS emission: how often the outbox is looked at when idle, and the longest wait between durable retries. */
  RECEIPT_EMISSION_POLL_MS: z.coerce.number().int().min(10).max(10_000).default(250),
  RECEIPT_EMISSION_MAX_BACKOFF_MS: z.coerce.number().int().min(100).default(300_000),

  RECEIPT_SIGNING_KEY_PEM: z.string().optional(),

  /** UBI feature micro-batcher: idle poll interval and (actor, day) pairs per batch; it runs where the worker runs. */
  UBI_BATCHER_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(200),
  UBI_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Create each tenant's nightly baseline and retention Temporal Schedules (at start, first events, config change). */
  UBI_SCHEDULES_ENABLED: bool.default(true),
  /** Experiments (ADR 0017): how often each tenant's Schedule recomputes weights (the issue: at least every minute). */
  EXPERIMENT_RECOMPUTE_SECONDS: z.coerce.number().int().min(1).max(60).default(60),
  /** Outcomes on an experiment's decisions since its last recompute that trigger the Schedule at once. */
  EXPERIMENT_TRIGGER_OUTCOMES: z.coerce.number().int().min(1).max(100_000).default(50),
  /** `GET /v1/ubi/ready` reports ingestion as stale when pending input is older than this (requirement: p95 < 1 min). */
  UBI_STALE_AFTER_SECONDS: z.coerce.number().min(1).default(60),
  /** The signal bus (ADR 0007, 0011): Redis Streams by default (the runtime's Redis), RabbitMQ, Kafka, or in-process. */
  BUS_TYPE: z.enum(['redis', 'rabbitmq', 'kafka', 'memory']).default('redis'),
  RABBITMQ_URL: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().regex(/^amqps?:\/\//, 'must be an amqp:// or amqps:// URL').optional()),
  /** Kafka (ADR 0014): brokers as `host:port,host:port`; none with BUS_TYPE=kafka starts a private broker (`npm start`). */
  KAFKA_BROKERS: z.preprocess(
    (v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.split(',').map((b) => b.trim()).filter(Boolean)) : v),
    z.array(z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'each broker must be host:port')).min(1).optional(),
  ),
  KAFKA_CLIENT_ID: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits and . _ - only').default('mmm-engine'),
  KAFKA_SASL_MECHANISM: z.preprocess((v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : v.trim().toUpperCase()) : v), z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']).optional()),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  /** TLS to the brokers (the system's CA store). */
  KAFKA_SSL: bool.default(false),
  /** For topics created when absent; a real cluster wants a replication factor of 3. */
  KAFKA_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(6),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(10).default(1),
  /** A consumer silent this long leaves its group and its partitions move (the broker's minimum is 6 s). */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(10_000),
  /**
   * RabbitMQ: consumer groups of `ubi.behavioural_signals.detection` whose queues the publisher declares, so what is
   * published before they first subscribe is kept (a topic exchange drops what no queue is bound to).
   */
  BUS_DETECTION_GROUPS: z
    .string()
    .default('detection')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only'))),
  /** UBI ingests `ubi.events` from the bus too, in batches of this size (or what arrived within the linger). */
  UBI_BUS_INGESTION_ENABLED: bool.default(true),
  UBI_BUS_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(500),
  UBI_BUS_LINGER_MS: z.coerce.number().int().min(1).max(10_000).default(50),
  /** Prepended to topic names, so several deployments (or test files) can share one Redis or broker. */
  BUS_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._:-]*$/, 'letters, digits and . _ : - only').default(''),
  BUS_CONSUMER_GROUP: z.string().regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only').default('mmm-engine'),
  /** A message that failed this many deliveries goes to the dead letter. */
  BUS_MAX_DELIVERIES: z.coerce.number().int().min(1).max(100).default(5),
  /** Unset: sized from the decide path, DECISION_SHARDS × DECISION_MAX_IN_FLIGHT_PER_SHARD / 2 (workers/runtime.ts). */
  BUS_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  /** Redis Streams: approximate stream length kept (`MAXLEN ~`). */
  BUS_STREAM_MAXLEN: z.coerce.number().int().min(100).default(100_000),
  /** Redis Streams: a message unacknowledged this long is re-delivered to another consumer (`XAUTOCLAIM`). */
  BUS_CLAIM_IDLE_MS: z.coerce.number().int().min(10).default(30_000),
  BUS_BLOCK_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  /** The engine consumes `ubi.behavioural_signals` wherever the worker runs. */
  SIGNAL_CONSUMER_ENABLED: bool.default(true),
  /** Where a signal's decision is shown when the triggering playbook's trigger names no surfaces. */
  SIGNAL_CONSUMER_DEFAULT_SURFACES: z
    .string()
    .default('ide')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['ide', 'ci', 'pr', 'alert'])).min(1, 'name at least one surface')),

  /**
   * Tracing (CONTRACT.md "Tracing (FR-15)", ADR 0015), the standard OpenTelemetry variables. An OTLP endpoint turns
   * export on (OTLP/HTTP); without one nothing of the SDK is started. The traces endpoint is used as given, the base
   * endpoint gets `/v1/traces` appended (as the specification says).
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
  /** Overrides OTEL_EXPORTER_OTLP_PROTOCOL for traces, as the specification allows. */
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(['http/protobuf', 'http/json']).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('mmm-engine'),
  OTEL_TRACES_SAMPLER: z
    .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
    .default('parentbased_always_on'),
  /** The ratio of the `*traceidratio` samplers, 0..1 (default 1). */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
  /** `true` turns tracing off whatever else is set (the specification's kill switch). */
  OTEL_SDK_DISABLED: bool.default(false),

  SEED_DEMO: bool.default(true),
  DEMO_TENANT_ID: z.string().default('demo'),
});
export type AppConfig = z.infer<typeof configSchema> & { dataDir: string };

export class ConfigError extends Error {}

/**
 * A variable set to nothing (`PORT=` in an env file, an unset shell variable in a manifest) counts as left out, so it
 * takes its default: coerced as it is, it would be 0 (`PORT=` a random port, `POLICY_CACHE_TTL_MS=` no cache).
 */
function withoutBlanks(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v === undefined || v.trim() !== ''));
}

/** Fails fast, naming every bad variable, before anything is started. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = configSchema.safeParse(withoutBlanks(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  if (parsed.data.DATABASE_POOL_MIN > parsed.data.DATABASE_POOL_MAX)
    throw new ConfigError(`invalid configuration:\n  DATABASE_POOL_MIN: ${parsed.data.DATABASE_POOL_MIN} is above DATABASE_POOL_MAX (${parsed.data.DATABASE_POOL_MAX})`);
  if (parsed.data.BUS_TYPE === 'rabbitmq' && !parsed.data.RABBITMQ_URL)
    throw new ConfigError('invalid configuration:\n  RABBITMQ_URL: required when BUS_TYPE=rabbitmq');
  if (parsed.data.KAFKA_SASL_MECHANISM && !(parsed.data.KAFKA_SASL_USERNAME && parsed.data.KAFKA_SASL_PASSWORD))
    throw new ConfigError('invalid configuration:\n  KAFKA_SASL_USERNAME: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required with KAFKA_SASL_MECHANISM');
  return { ...parsed.data, dataDir: path.resolve(parsed.data.DATA_DIR) };
}
