import path from 'node:path';
import { z } from 'zod';

/**
 * The one configuration schema. Parsed once at start-up; every other module receives the parsed object.
 * Unset external addresses mean "start the embedded default" (ARCHITECTURE.md, Embedded defaults).
 */
const port = z.coerce.number().int().min(0).max(65535);
/** Unset or empty means "not configured" (use the embedded default). */
const optionalUrl = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.url().optional());
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(8080),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default('./.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  AUTH_JWT_SECRET: z.string().min(16, 'AUTH_JWT_SECRET must be at least 16 characters').optional(),
  /** Token verification through the IAM service is not in this release: refusing it beats silently not using it. */
  IAM_BASE_URL: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.undefined({ error: 'IAM_BASE_URL is not supported yet: tokens are verified locally with AUTH_JWT_SECRET (unset IAM_BASE_URL)' }).optional()),

  DATABASE_URL: optionalUrl,
  DATABASE_POOL_MIN: z.coerce.number().int().min(0).default(2),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).default(20),
  EMBEDDED_POSTGRES_PORT: port.default(54329),

  REDIS_URL: optionalUrl,
  /** `memory` is the single-node fallback when no redis-server is available. */
  REDIS_MODE: z.enum(['auto', 'redis', 'memory']).default('auto'),

  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_CLI_PATH: z.string().optional(),
  TEMPORAL_TASK_QUEUE: z.string().default('mmm-decisions'),
  /** Eager start needs the worker in this process (the embedded default); a separate API tier turns it off. */
  TEMPORAL_EAGER_START: bool.default(true),
  /** host:port for the Temporal SDK's own Prometheus metrics (worker slots, latencies); off when unset. */
  TEMPORAL_METRICS_BIND_ADDRESS: z.string().regex(/^[\w.-]+:\d{1,5}$/, 'must be host:port').optional(),
  RUN_WORKER: bool.default(true),
  RUN_API: bool.default(true),

  RECEIPT_SIGNING_KEY_PEM: z.string().optional(),

  /** The signal bus (ADR 0007): Redis Streams by default (the runtime's Redis), RabbitMQ, or in-process. */
  BUS_TYPE: z.enum(['redis', 'rabbitmq', 'memory']).default('redis'),
  RABBITMQ_URL: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().regex(/^amqps?:\/\//, 'must be an amqp:// or amqps:// URL').optional()),
  /** Prepended to topic names, so several deployments (or test files) can share one Redis or broker. */
  BUS_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._:-]*$/, 'letters, digits and . _ : - only').default(''),
  BUS_CONSUMER_GROUP: z.string().regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only').default('mmm-engine'),
  /** A message that failed this many deliveries goes to the dead letter. */
  BUS_MAX_DELIVERIES: z.coerce.number().int().min(1).max(100).default(5),
  BUS_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
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

  SEED_DEMO: bool.default(true),
  DEMO_TENANT_ID: z.string().default('demo'),
});
export type AppConfig = z.infer<typeof configSchema> & { dataDir: string };

export class ConfigError extends Error {}

/** Fails fast, naming every bad variable, before anything is started. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  if (parsed.data.BUS_TYPE === 'rabbitmq' && !parsed.data.RABBITMQ_URL)
    throw new ConfigError('invalid configuration:\n  RABBITMQ_URL: required when BUS_TYPE=rabbitmq');
  return { ...parsed.data, dataDir: path.resolve(parsed.data.DATA_DIR) };
}
