/**
 * The Redis Streams bus against the suite's real redis-server (TEST_REDIS_URL): the shared contract, then what only
 * streams have (tenant field on the entry, bounded length, the consumer group's pending list).
 */
import Redis from 'ioredis';
import { createRedisSignalBus } from '../../activities/bus/redis-signal-bus';
import { BEHAVIOURAL_SIGNALS_TOPIC } from '../../domain/model/behavioural-signal';
import { behaviouralSignal, busContract, MAX_DELIVERIES, waitFor } from '../support/bus-contract';
import { requireEnv, uniqueId } from '../support/harness';

const connections: Redis[] = [];
afterAll(async () => {
  for (const c of connections) c.disconnect();
});
function connect(): Redis {
  const r = new Redis(requireEnv('TEST_REDIS_URL'), { maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  return r;
}
const makeBus = (prefix: string, over: { maxLen?: number } = {}) =>
  createRedisSignalBus({ connect }, { topicPrefix: prefix, maxDeliveries: MAX_DELIVERIES, concurrency: 4, maxLen: over.maxLen ?? 1000, claimIdleMs: 300, blockMs: 200 });

busContract('Redis Streams', (prefix) => makeBus(prefix), { separateProcesses: true });

describe('Redis Streams signal bus, on the stream itself', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = connect();
    connections.push(redis);
  });

  test('when signals are published, then each entry carries its tenant and the stream stays bounded (MAXLEN ~)', async () => {
    const prefix = uniqueId('p') + '.';
    const bus = makeBus(prefix, { maxLen: 100 });
    try {
      const signals = Array.from({ length: 400 }, () => behaviouralSignal());
      await bus.publish(signals);
      const stream = prefix + BEHAVIOURAL_SIGNALS_TOPIC;
      const length = await redis.xlen(stream);
      expect(length).toBeGreaterThanOrEqual(100);
      expect(length).toBeLessThan(400);
      const [[, fields]] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
      expect(fields[fields.indexOf('tenant') + 1]).toBe(signals[399].tenant_id);
      expect(JSON.parse(fields[fields.indexOf('payload') + 1])).toEqual(signals[399]);
    } finally {
      await bus.close();
    }
  });

  test('when a message has been handled, then the group has nothing pending for it', async () => {
    const prefix = uniqueId('p') + '.';
    const bus = makeBus(prefix);
    const handled: string[] = [];
    const sub = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, { group: 'engine', consumer: 'c1', handler: async (m) => void handled.push(m.id) });
    try {
      await bus.publish([behaviouralSignal(), behaviouralSignal()]);
      await waitFor('both handled', () => handled.length === 2);
      await waitFor('nothing pending', async () => ((await redis.xpending(prefix + BEHAVIOURAL_SIGNALS_TOPIC, 'engine')) as [number])[0] === 0);
    } finally {
      await sub.stop();
      await bus.close();
    }
  });
});
