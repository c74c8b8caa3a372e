/**
 * What every benchmark shares: the whole embedded runtime (PostgreSQL, Redis, Temporal dev server, worker and API) in
 * a throwaway folder on free ports, and one way to print the figures (JSON on stdout; progress and errors on stderr).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type AppConfig } from '../config/config';
import { createLogger } from '../observability/logger';
import { startRuntime, type Runtime } from '../workers/runtime';

export interface BenchRuntime {
  rt: Runtime;
  config: AppConfig;
  stop(): Promise<void>;
}

export async function startBenchRuntime(prefix: string, env: Record<string, string> = {}): Promise<BenchRuntime> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  // As root, PostgreSQL runs as the `postgres` user, which must be able to enter this folder.
  fs.chmodSync(dataDir, 0o755);
  const config = loadConfig({
    ...process.env,
    DATA_DIR: dataDir,
    PORT: '0',
    TEMPORAL_DEV_PORT: '0',
    TEMPORAL_UI_PORT: '0',
    EMBEDDED_POSTGRES_PORT: '0',
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    ...env,
  });
  const rt = await startRuntime(config, createLogger('warn'));
  return {
    rt,
    config,
    async stop() {
      await rt.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs a benchmark's main and prints what it returns as JSON; a failure exits 1 with the stack on stderr. */
export function runBench(main: () => Promise<unknown>): void {
  main().then(
    (out) => process.stdout.write(JSON.stringify(out, null, 2) + '\n'),
    (err: unknown) => {
      process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
