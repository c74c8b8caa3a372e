import amqp from 'amqplib';
import Redis from 'ioredis';
import fs from 'node:fs';
import path from 'node:path';
import { createKafkaSignalBus } from '../activities/bus/kafka-signal-bus';
import { createMemorySignalBus } from '../activities/bus/memory-signal-bus';
import { createRabbitSignalBus } from '../activities/bus/rabbitmq-signal-bus';
import { createRedisSignalBus } from '../activities/bus/redis-signal-bus';
import type { BusOptions, SignalBus } from '../activities/bus/signal-bus';
import type { AppConfig } from '../config/config';
import { BEHAVIOURAL_SIGNALS_TOPIC, DETECTION_SIGNALS_TOPIC } from '../domain/model/behavioural-signal';
import type { Logger } from '../observability/logger';
import { busMetricsOf, type Metrics } from '../observability/metrics';
import { startKafkaServer } from './embedded-kafka';

/**
 * Signals handled at once, sized from the decide path (ADR 0012): half the Updates one process may keep in flight
 * over its shards, so a burst of signals keeps every shard busy and leaves the other half to HTTP decides.
 */
export function signalConsumerConcurrency(config: Pick<AppConfig, 'DECISION_SHARDS' | 'DECISION_MAX_IN_FLIGHT_PER_SHARD'>): number {
  return Math.min(256, Math.max(8, Math.floor((config.DECISION_SHARDS * config.DECISION_MAX_IN_FLIGHT_PER_SHARD) / 2)));
}

/**
 * Builds the bus `BUS_TYPE` names (ADR 0007). Redis Streams reuse the runtime's Redis (the configured REDIS_URL or the
 * embedded redis-server) on connections of their own; without any Redis the bus is in-process and says so.
 */
export function createConfiguredSignalBus(
  config: AppConfig,
  deps: { redisUrl?: string; kafkaBrokers?: string[]; metrics?: Metrics; logger: Logger },
): { bus: SignalBus; mode: string } {
  const logger = deps.logger.child({ component: 'signal-bus' });
  const options: BusOptions = {
    topicPrefix: config.BUS_TOPIC_PREFIX,
    maxDeliveries: config.BUS_MAX_DELIVERIES,
    concurrency: config.BUS_CONSUMER_CONCURRENCY ?? signalConsumerConcurrency(config),
    metrics: deps.metrics ? busMetricsOf(deps.metrics) : undefined,
  };
  if (config.BUS_TYPE === 'rabbitmq') {
    const url = config.RABBITMQ_URL as string; // loadConfig requires it for BUS_TYPE=rabbitmq
    // The engine's queue, and the detection groups' queues, exist from the first publish on, even before anyone has
    // subscribed: a topic exchange drops what no queue is bound to (ADR 0007).
    const declareGroups: Record<string, string[]> = {
      [BEHAVIOURAL_SIGNALS_TOPIC]: config.SIGNAL_CONSUMER_ENABLED ? [config.BUS_CONSUMER_GROUP] : [],
      [DETECTION_SIGNALS_TOPIC]: config.BUS_DETECTION_GROUPS,
    };
    const bus = createRabbitSignalBus({ connect: () => amqp.connect(url) }, { ...options, logger, declareGroups });
    return { bus, mode: 'rabbitmq' };
  }
  if (config.BUS_TYPE === 'kafka') {
    const brokers = deps.kafkaBrokers ?? config.KAFKA_BROKERS;
    if (!brokers?.length) throw new Error('BUS_TYPE=kafka needs KAFKA_BROKERS or the embedded broker (startEmbeddedKafka)');
    const sasl = config.KAFKA_SASL_MECHANISM
      ? { mechanism: config.KAFKA_SASL_MECHANISM, username: config.KAFKA_SASL_USERNAME as string, password: config.KAFKA_SASL_PASSWORD as string }
      : undefined;
    const bus = createKafkaSignalBus({
      ...options,
      brokers,
      clientId: config.KAFKA_CLIENT_ID,
      partitions: config.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
      sasl,
      tls: config.KAFKA_SSL,
      logger,
    });
    return { bus, mode: `kafka (${brokers.join(',')})` };
  }
  if (config.BUS_TYPE === 'redis' && deps.redisUrl) {
    const url = deps.redisUrl;
    const bus = createRedisSignalBus(
      {
        connect: (purpose) => {
          const r = new Redis(url, { connectionName: purpose, maxRetriesPerRequest: 1 });
          r.on('error', (err) => logger.debug({ err: err.message, purpose }, 'redis error'));
          return r;
        },
      },
      { ...options, maxLen: config.BUS_STREAM_MAXLEN, claimIdleMs: config.BUS_CLAIM_IDLE_MS, blockMs: config.BUS_BLOCK_MS, logger },
    );
    return { bus, mode: 'redis streams' };
  }
  if (config.BUS_TYPE === 'redis') logger.warn('no Redis available: the signal bus is in-process, single node only');
  return {
    bus: createMemorySignalBus(options),
    mode: config.BUS_TYPE === 'memory' ? 'memory (single process)' : 'memory (no Redis: single process only)',
  };
}

/** A private Kafka broker (workers/embedded-kafka.ts) in the data folder, for `npm start` with no KAFKA_BROKERS. */
export async function startEmbeddedKafka(config: AppConfig, logger: Logger, stops: Array<() => Promise<unknown>>): Promise<string[]> {
  logger.info('starting embedded Kafka broker');
  const dir = path.join(config.dataDir, 'kafka');
  // The same ports as last time when the folder has them, so a restart keeps the broker's own advertised address.
  const server = await startKafkaServer({ dir, ...readPorts(dir) }).catch(() => startKafkaServer({ dir })); // the old ports taken
  writePorts(dir, server.port, server.controllerPort);
  stops.push(() => server.stop());
  return [server.brokers];
}

function readPorts(dir: string): { port?: number; controllerPort?: number } {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'ports.json'), 'utf8')) as { port?: number; controllerPort?: number };
  } catch {
    return {};
  }
}

function writePorts(dir: string, port: number, controllerPort: number): void {
  fs.writeFileSync(path.join(dir, 'ports.json'), JSON.stringify({ port, controllerPort }));
}
