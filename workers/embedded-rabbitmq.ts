/**
 * Runs a private RabbitMQ node (Debian's rabbitmq-server; scripts/ensure.mjs installs it) for tests and benchmarks:
 * free ports, its own epmd, data and logs in one folder, no plugins. Nothing it starts listens on a fixed port, so it
 * never meets a system RabbitMQ (5672) or the system epmd (4369).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { assertPortFree, findOnPath, getFreePort, spawnServer, startOnFreshPorts } from '../temporal/dev-server';

/** Where Debian's package puts the real start script (/usr/sbin/rabbitmq-server only wraps it, su-ing to `rabbitmq`). */
const DEBIAN_SERVER_SCRIPT = '/usr/lib/rabbitmq/bin/rabbitmq-server';
// A cold node boots its Mnesia schema and feature flags in ~5 s here; a loaded machine needs more.
const STARTUP_TIMEOUT_MS = 90_000;

export interface RabbitMqServer {
  url: string;
  nodeName: string;
  /** The private epmd's port (ERL_EPMD_PORT), so nothing touches the system's 4369. */
  epmdPort: number;
  stop(): Promise<void>;
}

export function findRabbitMqServer(): string | undefined {
  return fs.existsSync(DEBIAN_SERVER_SCRIPT) ? DEBIAN_SERVER_SCRIPT : findOnPath('rabbitmq-server');
}

export async function startRabbitMqServer(opts: { dir?: string } = {}): Promise<RabbitMqServer> {
  const script = findRabbitMqServer();
  if (!script) throw new Error('rabbitmq-server not found: apt-get install rabbitmq-server (or set RABBITMQ_URL to use another broker)');
  const epmdBinary = findOnPath('epmd');
  if (!epmdBinary) throw new Error('epmd (Erlang) not found: apt-get install rabbitmq-server installs it');
  // It binds seconds after it starts, a wide window for another process to take a port it was given (eaddrinuse).
  return startOnFreshPorts(() => startOnce(script, epmdBinary, opts), { choseThePorts: true });
}

async function startOnce(script: string, epmdBinary: string, opts: { dir?: string }): Promise<RabbitMqServer> {
  const ownDir = !opts.dir;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mmm-rabbitmq-'));
  fs.mkdirSync(dir, { recursive: true });
  const [nodePort, distPort, epmdPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
  await assertPortFree('127.0.0.1', nodePort, 'rabbitmq-server');
  const nodeName = `mmm-${crypto.randomUUID().slice(0, 8)}@localhost`;

  // Our own epmd on a free port (ERL_EPMD_PORT), in the foreground so it stops with us; the default 4369 may be taken.
  const epmd = spawnServer(`epmd on port ${epmdPort}`, epmdBinary, ['-port', String(epmdPort)]);

  const enabledPlugins = path.join(dir, 'enabled_plugins');
  fs.writeFileSync(enabledPlugins, '[].\n'); // no management plugin (and no port of its own)
  const envFile = path.join(dir, 'rabbitmq-env.conf');
  fs.writeFileSync(envFile, ''); // not /etc/rabbitmq/rabbitmq-env.conf
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir, // the Erlang cookie is written there
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(nodePort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_ENABLED_PLUGINS_FILE: enabledPlugins,
    RABBITMQ_CONF_ENV_FILE: envFile,
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
    RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
    // Makes the script exec the Erlang VM instead of wrapping it, so stop() signals the broker itself.
    RUNNING_UNDER_SYSTEMD: 'true',
  };
  const url = `amqp://guest:guest@127.0.0.1:${nodePort}`;
  const server = spawnServer(`rabbitmq-server ${nodeName} on port ${nodePort}`, script, [], { env, cwd: dir });
  const stopEpmd = async () => {
    await epmd.stop();
    if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await server.waitUntilReady(STARTUP_TIMEOUT_MS, () => answersAmqp(url));
  } catch (err) {
    await stopEpmd();
    throw err;
  }
  return {
    url,
    nodeName,
    epmdPort,
    async stop() {
      await server.stop();
      await stopEpmd();
    },
  };
}

/** Ready means an AMQP handshake succeeds, not just an open port (the listener opens before boot has finished). */
async function answersAmqp(url: string): Promise<boolean> {
  try {
    const conn = await amqp.connect(url, { timeout: 2_000 });
    conn.on('error', () => undefined);
    await conn.close();
    return true;
  } catch {
    return false;
  }
}
