/**
 * Starts the real runtime (API + decision worker) against the suite's shared servers, on a free port and with its
 * own task queue, and gives tests small helpers: unique tenants, tokens, and a JSON HTTP client.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signDevToken } from '../../api/auth';
import { loadConfig } from '../../config/config';
import { createLogger, type Logger } from '../../observability/logger';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../workers/runtime';

export const TEST_JWT_SECRET = 'test-secret-for-the-suite-only-0123456789';

export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through jest (tests/support/global-setup.ts)`);
  return v;
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export interface TestApp {
  runtime: Runtime;
  url: string;
  taskQueue: string;
  token(claims: { tenant_id: string; sub: string; roles?: string[] }, ttlSeconds?: number): string;
  request(method: string, path: string, opts?: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

/** The settings of a test's engine against the suite's shared servers, on its own task queue, topics and data folder. */
export function testAppEnv(taskQueue: string, dataDir: string): Record<string, string> {
  return {
    DATABASE_URL: requireEnv('TEST_DATABASE_URL'),
    REDIS_URL: requireEnv('TEST_REDIS_URL'),
    TEMPORAL_ADDRESS: requireEnv('TEST_TEMPORAL_ADDRESS'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    PORT: '0',
    // A worker-only app (RUN_API=false) serves its ops endpoints on a free port too.
    METRICS_PORT: '0',
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'silent',
    // Many test apps share one PostgreSQL: small pools that open connections only when used.
    DATABASE_POOL_MIN: '0',
    DATABASE_POOL_MAX: '10',
    // Every app start would otherwise ensure the UBI schedules of every tenant earlier tests left in the shared database.
    UBI_SCHEDULES_ENABLED: 'false',
    // Topics of its own on the shared Redis: another file's app (same consumer group) never takes this app's signals.
    BUS_TOPIC_PREFIX: `${taskQueue}.`,
  };
}

/** `logger`: the app's logger (default: one at the config's LOG_LEVEL, silent unless `env` says otherwise). */
export async function startTestApp(env: Record<string, string> = {}, opts: RuntimeOptions = {}, logger?: Logger): Promise<TestApp> {
  const taskQueue = uniqueId('tq');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmm-app-'));
  const config = loadConfig({ ...testAppEnv(taskQueue, dataDir), ...env });
  const runtime = await startRuntime(config, logger ?? createLogger(config.LOG_LEVEL), opts);
  const url = runtime.apiUrl as string;
  return {
    runtime,
    url,
    taskQueue,
    token: (claims, ttl) => signDevToken(TEST_JWT_SECRET, { roles: [], ...claims }, ttl),
    async request(method, p, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      let body: string | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) body = JSON.stringify(opts.body);
      if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      const res = await fetch(url + p, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* non-JSON bodies (e.g. /metrics) stay text */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async stop() {
      await runtime.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * One app for the calling test file: started in beforeAll, stopped in afterAll. `env` may be a function, read when
 * the app starts (after the file's earlier beforeAll hooks, e.g. one that starts a server the app should use).
 */
export function useTestApp(env: Record<string, string> | (() => Record<string, string>) = {}, opts: RuntimeOptions = {}, logger?: Logger): TestApp {
  let current: TestApp | undefined;
  beforeAll(async () => {
    current = await startTestApp(typeof env === 'function' ? env() : env, opts, logger);
  });
  afterAll(async () => {
    await current?.stop();
  });
  return new Proxy({} as TestApp, {
    get(_target, key) {
      if (!current) throw new Error('the test app is not running (use it inside tests, not at module load)');
      const value = (current as unknown as Record<PropertyKey, unknown>)[key];
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}
