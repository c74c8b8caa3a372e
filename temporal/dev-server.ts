/**
 * Launches a local Temporal dev server (`temporal server start-dev`) from the Temporal CLI binary.
 *
 * We spawn the CLI ourselves instead of using the SDK's TestWorkflowEnvironment download because the download needs
 * the internet; see "Getting the Temporal CLI without the internet" in ARCHITECTURE.md. The small process helpers
 * exported at the bottom are shared with the Postgres and Redis launchers.
 */
import { ChildProcess, SpawnOptions, spawn } from 'child_process';
import fs from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { loadConfig } from '../config/config';

const TEMPORAL_CLI_VERSION = '1.5.1';
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface TemporalDevServerOptions {
  /** Path to the `temporal` binary; defaults to resolveTemporalCliPath(). */
  cliPath?: string;
  ip?: string;
  /** gRPC port; 0 or undefined picks a free one. */
  port?: number;
  /** Web UI port: a number (0 = free port) enables the UI, null or undefined runs headless. */
  uiPort?: number | null;
  /** SQLite file for state that survives restarts; in-memory when omitted. */
  dbFilename?: string;
  namespace?: string;
  searchAttributes?: Array<{ name: string; type: SearchAttributeType }>;
  logLevel?: string;
}

export interface TemporalDevServer {
  address: string;
  uiUrl: string | null;
  namespace: string;
  stop(): Promise<void>;
}

// Features the engine relies on. All five keys exist in Temporal Server 1.29 (bundled with CLI 1.5.1); note that the
// CLI does not validate keys, so a misspelt one would be silently ignored rather than rejected.
const DYNAMIC_CONFIG = [
  'frontend.enableServerVersionCheck=false', // no phoning home from an offline machine
  'system.enableActivityEagerExecution=true',
  'system.enableEagerWorkflowStart=true',
  'frontend.enableUpdateWorkflowExecution=true',
  'frontend.enableExecuteMultiOperation=true', // update-with-start
];

export async function startTemporalDevServer(opts: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const cliPath = opts.cliPath ?? resolveTemporalCliPath();
  if (!cliPath) {
    throw new Error(
      `Temporal CLI v${TEMPORAL_CLI_VERSION} not found: run \`node scripts/ensure.mjs start\` (builds it with Go), ` +
        'put `temporal` on the PATH, or set TEMPORAL_CLI_PATH',
    );
  }
  // The server binds ports of its own next to the one we chose, so a clash on any of them is retried on fresh ones.
  return startOnFreshPorts(() => startOnce(cliPath, opts), { choseThePorts: !opts.port && !opts.uiPort });
}

/**
 * Starts a server whose ports we picked as free (getFreePort): a port can be taken by another process, any outgoing
 * connection among them, between that check and the server's bind. A start that fails on an address in use is tried
 * again (`start` picks fresh ports each time), at most 3 times; a port the caller chose is its own business.
 */
export async function startOnFreshPorts<T>(start: () => Promise<T>, opts: { choseThePorts: boolean }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!opts.choseThePorts || attempt >= 3 || !isAddressInUse(err)) throw err;
    }
  }
}

/** What a server that lost its port says (Go's and PostgreSQL's wording, and Erlang's eaddrinuse). */
export function isAddressInUse(err: unknown): boolean {
  return /address already in use|eaddrinuse/i.test(err instanceof Error ? err.message : String(err));
}

async function startOnce(cliPath: string, opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port || (await getFreePort(ip));
  await assertPortFree(ip, port, 'Temporal dev server');
  const uiPort = opts.uiPort == null ? null : opts.uiPort || (await getFreePort(ip));
  const namespace = opts.namespace ?? 'default';

  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port)];
  args.push(...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (opts.dbFilename) {
    fs.mkdirSync(path.dirname(opts.dbFilename), { recursive: true });
    args.push('--db-filename', opts.dbFilename);
    // WAL with synchronous=NORMAL: durable across a process crash (what a dev server needs), without an fsync per
    // commit, which otherwise caps the whole server at a few dozen workflow starts a second.
    for (const pragma of ['journal_mode=wal', 'synchronous=normal']) args.push('--sqlite-pragma', pragma);
  }
  args.push('--namespace', namespace, '--log-level', opts.logLevel ?? 'warn');
  for (const { name, type } of opts.searchAttributes ?? []) args.push('--search-attribute', `${name}=${type}`);
  for (const kv of DYNAMIC_CONFIG) args.push('--dynamic-config-value', kv);

  const address = `${ip}:${port}`;
  const server = spawnServer(`Temporal dev server at ${address}`, cliPath, args);
  await server.waitUntilReady(STARTUP_TIMEOUT_MS, () => isTemporalReady(ip, port, address));
  return { address, uiUrl: uiPort === null ? null : `http://${ip}:${uiPort}`, namespace, stop: server.stop };
}

/**
 * Where the Temporal CLI is, in the same order as findTemporalCli() in scripts/ensure.mjs: the configured path or
 * TEMPORAL_CLI_PATH, `temporal` on the PATH, then the per-user build cache. Never builds anything.
 */
export function resolveTemporalCliPath(configured: { TEMPORAL_CLI_PATH?: string; XDG_CACHE_HOME?: string } = loadConfig()): string | undefined {
  if (configured.TEMPORAL_CLI_PATH && isExecutableFile(configured.TEMPORAL_CLI_PATH)) return configured.TEMPORAL_CLI_PATH;
  const cacheHome = configured.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const cached = path.join(cacheHome, 'mmm-engine', `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'temporal');
  return findOnPath('temporal') ?? (isExecutableFile(cached) ? cached : undefined);
}

async function isTemporalReady(host: string, port: number, address: string): Promise<boolean> {
  // A cheap TCP probe first: creating a gRPC connection to a closed port is slow and noisy.
  if (!(await canConnect(host, port))) return false;
  // The port opens before the frontend serves requests; getSystemInfo proves the server really answers.
  // Loaded lazily so the Postgres and Redis launchers, which import the helpers below, don't pull in gRPC.
  const { Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address, connectTimeout: 2_000 }).catch(() => undefined);
  if (!connection) return false;
  try {
    // A deadline, so a server that accepted the connection but hangs cannot stall us past the startup timeout.
    await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}

// ---- process helpers shared by the infrastructure launchers (db/embedded-postgres.ts, workers/embedded-redis.ts) ----

/** A port that was free a moment ago: the OS picks it for a throwaway listener that we close straight away. */
export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Fails fast when a fixed port is taken: the readiness probe would otherwise be answered by whatever already listens
 * there, and we would report success for a server that is about to exit with "address already in use".
 */
export async function assertPortFree(host: string, port: number, what: string): Promise<void> {
  if (await canConnect(host, port)) throw new Error(`${what}: port ${port} on ${host} is already in use`);
}

/** First executable called `name` on the PATH, like `which`. */
export function findOnPath(name: string, searchPath: string | undefined = loadConfig().PATH): string | undefined {
  for (const dir of (searchPath ?? '').split(path.delimiter)) {
    if (dir && isExecutableFile(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function canConnect(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface SpawnedServer {
  child: ChildProcess;
  /** Polls `ready` until it says yes; stops the child and throws, with its last output, on early exit or timeout. */
  waitUntilReady(timeoutMs: number, ready: () => Promise<boolean>): Promise<void>;
  /** SIGTERM, SIGKILL after a grace period; resolves once the process is gone. Safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Spawns a long-running server process and keeps its first and last output lines for error messages. Reading the pipes matters
 * on its own too: a child whose pipe buffer fills up blocks on its next write. If our own process exits without
 * calling stop(), the child is killed so that no orphan keeps holding the port.
 */
export function spawnServer(what: string, command: string, args: string[], options: SpawnOptions = {}): SpawnedServer {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  // First and last lines: CLIs print the actual error first and usage text after it; servers die with it at the end.
  const head: string[] = [];
  const tail: string[] = [];
  let dropped = 0;
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      if (head.length < 10) head.push(line);
      else if (tail.push(line) > 30) dropped += tail.splice(0, 1).length;
    }
  };
  const output = () => [...head, ...(dropped ? [`... (${dropped} lines left out)`] : []), ...tail].join('\n');
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let spawnError: Error | undefined;
  const gone = () => spawnError !== undefined || child.exitCode !== null || child.signalCode !== null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    // Without an 'error' listener a failed spawn (e.g. ENOENT) would crash the whole process.
    child.once('error', (err) => {
      spawnError = err;
      resolve();
    });
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  const waitUntilReady = async (timeoutMs: number, ready: () => Promise<boolean>) => {
    const deadline = Date.now() + timeoutMs;
    let problem: string | undefined;
    while (!problem) {
      if (gone()) {
        problem = spawnError
          ? `could not be started (${spawnError.message})`
          : `exited early (code ${child.exitCode}, signal ${child.signalCode})`;
      } else if (await ready()) {
        return;
      } else if (Date.now() > deadline) {
        problem = `not ready after ${timeoutMs / 1000}s`;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    await stop();
    throw new Error(`${what} ${problem}:\n${output()}`);
  };

  return { child, waitUntilReady, stop };
}
