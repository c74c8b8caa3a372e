/**
 * Runs a local redis-server (the system binary; scripts/ensure.mjs installs it) for the embedded default and tests.
 */
import fs from 'fs';
import net from 'net';
import path from 'path';
import { assertPortFree, findOnPath, getFreePort, spawnServer } from '../temporal/dev-server';

export interface RedisServerOptions {
  /** 0 or undefined picks a free port. */
  port?: number;
  /** When given, data is kept there in an append-only file and survives restarts; otherwise nothing is persisted. */
  dataDir?: string;
  /** Path to redis-server; defaults to the one on the PATH. */
  binary?: string;
}

export interface RedisServer {
  url: string;
  stop(): Promise<void>;
}

// Loading a large append-only file can take a while; an empty server answers in milliseconds.
const STARTUP_TIMEOUT_MS = 30_000;

export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = opts.binary ?? findRedisServer();
  if (!binary) throw new Error('redis-server not found: apt-get install redis-server (or set REDIS_URL to use another Redis)');
  const port = opts.port || (await getFreePort());
  await assertPortFree('127.0.0.1', port, 'redis-server');

  // No RDB snapshots either way: they would fork and write dump.rdb into whatever the working directory is.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  if (opts.dataDir) {
    const dir = path.resolve(opts.dataDir);
    fs.mkdirSync(dir, { recursive: true });
    args.push('--dir', dir, '--appendonly', 'yes');
  } else {
    args.push('--appendonly', 'no');
  }

  const server = spawnServer(`redis-server on port ${port}`, binary, args);
  await server.waitUntilReady(STARTUP_TIMEOUT_MS, () => answersPing(port));
  return { url: `redis://127.0.0.1:${port}`, stop: server.stop };
}

export function findRedisServer(): string | undefined {
  return findOnPath('redis-server');
}

/** Raw RESP PING, so the launcher needs no client library; a server still loading its data answers -LOADING instead. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
