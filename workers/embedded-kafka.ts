/**
 * Runs a private Apache Kafka broker (KRaft, one node as broker and controller, no ZooKeeper) for tests, benchmarks and
 * `npm start` with BUS_TYPE=kafka and no KAFKA_BROKERS. Its jars come from Maven Central, fetched once into the
 * per-user cache by scripts/ensure.mjs (the same place and version as kafkaLibsDir() below). Free ports, data and logs
 * in one folder, a small heap; nothing listens on a fixed port.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { assertPortFree, findOnPath, getFreePort, spawnServer } from '../temporal/dev-server';

/** Keep in sync with KAFKA_VERSION in scripts/ensure.mjs. */
export const KAFKA_VERSION = '4.1.1';
// Two JVM start-ups (format, then the broker) take ~5 s each here idle and 15-25 s on a loaded 2-core machine.
const STARTUP_TIMEOUT_MS = 120_000;
const FORMAT_TIMEOUT_MS = 90_000;

export interface KafkaServerOptions {
  /** Data, config and logs; kept when given (a restart on the same folder and ports keeps every topic and offset). */
  dir?: string;
  /** The client port; 0 or undefined picks a free one. A restart passes the ports of the first start. */
  port?: number;
  controllerPort?: number;
  /** JVM heap ceiling (default 512m). */
  heap?: string;
}

export interface KafkaServer {
  /** `host:port`, for KAFKA_BROKERS. */
  brokers: string;
  port: number;
  controllerPort: number;
  dir: string;
  stop(): Promise<void>;
}

/** Where ensure.mjs puts the broker's jars (XDG cache, as for the Temporal CLI). */
export function kafkaLibsDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'mmm-engine', `kafka-${KAFKA_VERSION}`, 'libs');
}

export function findKafkaLibs(): string | undefined {
  const dir = kafkaLibsDir();
  return fs.existsSync(path.join(dir, `kafka_2.13-${KAFKA_VERSION}.jar`)) ? dir : undefined;
}

/** A KRaft cluster id: 16 random bytes, base64url without padding (what `kafka-storage random-uuid` prints). */
function clusterId(): string {
  for (;;) {
    const id = crypto.randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id; // Kafka's Uuid.randomUuid() avoids these too: they read as a CLI flag
  }
}

function serverProperties(dir: string, port: number, controllerPort: number): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${path.join(dir, 'data')}`,
    // One node: every internal topic with one replica.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Consumers joining one after another are assigned at once, not after the default 3 s wait.
    'group.initial.rebalance.delay.ms=0',
    // The adapter creates its topics with the partitions and replication factor it is configured with.
    'auto.create.topics.enable=false',
    'log.segment.bytes=16777216',
    'num.network.threads=2',
    'num.io.threads=2',
    '',
  ].join('\n');
}

const LOG4J = [
  'rootLogger.level=WARN',
  'rootLogger.appenderRef.stdout.ref=STDOUT',
  'appender.console.type=Console',
  'appender.console.name=STDOUT',
  'appender.console.layout.type=PatternLayout',
  'appender.console.layout.pattern=[%d] %p %m (%c)%n',
  '',
].join('\n');

function javaArgs(libs: string, dir: string, heap: string): string[] {
  return [
    `-Xmx${heap}`,
    '-Xms64m',
    // A test broker: quick start-up over peak throughput, one GC thread on a 2-core machine.
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${path.join(dir, 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${path.join(dir, 'logs')}`,
    '-cp',
    `${libs}/*`,
  ];
}

export async function startKafkaServer(opts: KafkaServerOptions = {}): Promise<KafkaServer> {
  const libs = findKafkaLibs();
  if (!libs) throw new Error(`Kafka ${KAFKA_VERSION} jars not found in ${kafkaLibsDir()}: run \`node scripts/ensure.mjs test\` (or set KAFKA_BROKERS)`);
  const java = findOnPath('java');
  if (!java) throw new Error('java not found: Kafka needs Java 17 (apt-get install openjdk-17-jre-headless)');
  const ownDir = !opts.dir;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mmm-kafka-'));
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const port = opts.port || (await getFreePort());
  const controllerPort = opts.controllerPort || (await getFreePort());
  await assertPortFree('127.0.0.1', port, 'kafka');
  await assertPortFree('127.0.0.1', controllerPort, 'kafka controller');
  const heap = opts.heap ?? '512m';
  const props = path.join(dir, 'server.properties');
  fs.writeFileSync(props, serverProperties(dir, port, controllerPort));
  fs.writeFileSync(path.join(dir, 'log4j2.properties'), LOG4J);

  if (!fs.existsSync(path.join(dir, 'data', 'meta.properties'))) {
    // `kafka-storage format --standalone`: this node is the whole controller quorum.
    const format = spawnSync(java, [...javaArgs(libs, dir, '256m'), 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId(), '-c', props], {
      encoding: 'utf8',
      timeout: FORMAT_TIMEOUT_MS,
    });
    if (format.status !== 0) {
      if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`kafka storage format failed (${format.status ?? format.signal}):\n${format.stderr}${format.stdout}`);
    }
  }

  const server = spawnServer(`kafka on port ${port}`, java, [...javaArgs(libs, dir, heap), 'kafka.Kafka', props], { cwd: dir });
  const cleanUp = () => {
    if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await server.waitUntilReady(STARTUP_TIMEOUT_MS, () => answersApiVersions(port));
  } catch (err) {
    cleanUp();
    throw err;
  }
  return {
    brokers: `127.0.0.1:${port}`,
    port,
    controllerPort,
    dir,
    async stop() {
      await server.stop();
      cleanUp();
    },
  };
}

/**
 * Ready means the broker answers a Kafka ApiVersions request (v0, which every broker version accepts), not only an
 * open port: the listener opens while the broker is still catching up with its own metadata log.
 */
export function answersApiVersions(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const clientId = Buffer.from('mmm-ready');
    // Request header v1: api_key 18 (ApiVersions), api_version 0, correlation id, client id; no body.
    const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
    body.writeInt16BE(18, 0);
    body.writeInt16BE(0, 2);
    body.writeInt32BE(7, 4);
    body.writeInt16BE(clientId.length, 8);
    clientId.copy(body, 10);
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    let reply = Buffer.alloc(0);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(Buffer.concat([size, body])));
    socket.on('data', (chunk) => {
      reply = Buffer.concat([reply, chunk]);
      // size(4) correlation id(4) error code(2): 0 once the broker serves requests.
      if (reply.length >= 10) done(reply.readInt32BE(4) === 7 && reply.readInt16BE(8) === 0);
    });
  });
}
