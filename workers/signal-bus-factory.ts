import amqp from 'amqplib';
import Redis from 'ioredis';
import { createMemorySignalBus } from '../activities/bus/memory-signal-bus';
import { createRabbitSignalBus } from '../activities/bus/rabbitmq-signal-bus';
import { createRedisSignalBus } from '../activities/bus/redis-signal-bus';
import type { BusOptions, SignalBus } from '../activities/bus/signal-bus';
import type { AppConfig } from '../config/config';
import { BEHAVIOURAL_SIGNALS_TOPIC } from '../domain/model/behavioural-signal';
import type { Logger } from '../observability/logger';
import { busMetricsOf, type Metrics } from '../observability/metrics';

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
  deps: { redisUrl?: string; metrics?: Metrics; logger: Logger },
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
    // The engine's queue exists from the first publish on, even before any engine has subscribed.
    const declareGroups: Record<string, string[]> = config.SIGNAL_CONSUMER_ENABLED ? { [BEHAVIOURAL_SIGNALS_TOPIC]: [config.BUS_CONSUMER_GROUP] } : {};
    const bus = createRabbitSignalBus({ connect: () => amqp.connect(url) }, { ...options, logger, declareGroups });
    return { bus, mode: 'rabbitmq' };
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
