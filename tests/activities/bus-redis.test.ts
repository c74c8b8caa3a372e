/**
 * The Redis Streams bus against the suite's real redis-server (TEST_REDIS_URL): the shared contract, then what only
 * streams have (tenant field on the entry, bounded length, the consumer group's pending list).
 */
import Redis from 'ioredis';
import { createRedisSignalBus } from '../../activities/bus/redis-signal-bus';
import type { BusMessage, BusMetrics } from '../../activities/bus/signal-bus';
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
const makeBus = (prefix: string, over: { maxLen?: number; metrics?: BusMetrics } = {}) =>
  createRedisSignalBus({ connect }, { topicPrefix: prefix, maxDeliveries: MAX_DELIVERIES, concurrency: 4, maxLen: over.maxLen ?? 1000, claimIdleMs: 300, blockMs: 200, metrics: over.metrics });

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

  test('when a stream passes its length while a group still holds an unacknowledged entry, then trimming keeps that entry and it is handled later', async () => {
    const prefix = uniqueId('p') + '.';
    const lost: number[] = [];
    const metrics: BusMetrics = { published: () => undefined, consumed: () => undefined, failed: () => undefined, deadLettered: () => undefined, lag: () => undefined, lost: (_b, _r, n) => void lost.push(n) };
    const bus = makeBus(prefix, { maxLen: 100, metrics });
    const stream = prefix + BEHAVIOURAL_SIGNALS_TOPIC;
    // A consumer of the engine group takes the first signal and dies holding it.
    const doomed = makeBus(prefix, { maxLen: 100 });
    let held: BusMessage | undefined;
    await doomed.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, { group: 'engine', consumer: 'doomed', handler: (m) => ((held = m), new Promise<void>(() => undefined)) });
    const first = behaviouralSignal();
    await bus.publish([first]);
    await waitFor('the first delivery', () => held);
    await doomed.close();
    // Another group reads everything, so only the engine's pending entry holds the stream back.
    const audited: string[] = [];
    const audit = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, { group: 'audit', consumer: 'a1', handler: async (m) => void audited.push(m.id) });
    try {
      for (let i = 0; i < 6; i++) {
        await bus.publish(Array.from({ length: 100 }, () => behaviouralSignal()));
        await new Promise((r) => setTimeout(r, 1_100)); // past the trim throttle
      }
      await waitFor('audit has read all', () => audited.length === 601);
      await bus.publish([behaviouralSignal()]);
      const [[oldest]] = (await redis.xrange(stream, '-', '+', 'COUNT', 1)) as Array<[string, string[]]>;
      expect(oldest).toBe(held?.id);
      // The engine group's new consumer claims the held entry and gets it whole.
      const got: BusMessage[] = [];
      const engine = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, { group: 'engine', consumer: 'c2', handler: async (m) => void got.push(m) });
      await waitFor('the held signal', () => got.find((m) => m.id === held?.id));
      expect(got.find((m) => m.id === held?.id)?.payload).toEqual(first);
      await engine.stop();
      expect(lost).toEqual([]);
    } finally {
      await audit.stop();
      await bus.close();
    }
  }, 60_000);

  test('when every group has acknowledged, then the stream is trimmed back towards its length', async () => {
    const prefix = uniqueId('p') + '.';
    const bus = makeBus(prefix, { maxLen: 100 });
    const handled: string[] = [];
    const sub = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, { group: 'engine', consumer: 'c1', handler: async (m) => void handled.push(m.id) });
    try {
      await bus.publish(Array.from({ length: 500 }, () => behaviouralSignal()));
      await waitFor('all handled', () => handled.length === 500);
      await waitFor('nothing pending', async () => ((await redis.xpending(prefix + BEHAVIOURAL_SIGNALS_TOPIC, 'engine')) as [number])[0] === 0);
      // The bus trims on a publish at most once a second: publish until one trims (a loaded machine may take several).
      await waitFor('the stream trimmed', async () => {
        await new Promise((r) => setTimeout(r, 1_100));
        await bus.publish([behaviouralSignal()]);
        return (await redis.xlen(prefix + BEHAVIOURAL_SIGNALS_TOPIC)) < 300;
      });
      expect(await redis.xlen(prefix + BEHAVIOURAL_SIGNALS_TOPIC)).toBeLessThan(300);
    } finally {
      await sub.stop();
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
  test('when a held message finishes while a claim that took it is being answered, then it is not started a second time', async () => {
    const prefix = uniqueId('p') + '.';
    const stream = prefix + BEHAVIOURAL_SIGNALS_TOPIC;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let armed = false;
    // The one place the race can fall: XAUTOCLAIM has taken the held entry (still pending) and the bus asks XPENDING for
    // its delivery count. The handler is let go exactly then, and its XACK lands before the bus decides what to start.
    const connectRacing = (purpose: string): Redis => {
      const r = connect();
      if (purpose === 'bus-commands') {
        const xpending = r.xpending.bind(r) as (...args: unknown[]) => Promise<unknown>;
        (r as unknown as { xpending: (...args: unknown[]) => Promise<unknown> }).xpending = async (...args: unknown[]) => {
          if (armed && args.length === 6) {
            armed = false;
            release();
            await waitFor('the held entry acknowledged', async () => ((await redis.xpending(stream, 'engine')) as [number])[0] === 0);
          }
          return xpending(...args);
        };
      }
      return r;
    };
    const bus = createRedisSignalBus({ connect: connectRacing }, { topicPrefix: prefix, maxDeliveries: MAX_DELIVERIES, concurrency: 4, maxLen: 1000, claimIdleMs: 300, blockMs: 200 });
    const starts: string[] = [];
    const sub = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, {
      group: 'engine',
      consumer: 'c1',
      handler: async (m) => {
        starts.push(m.id);
        if (starts.length === 1) await held;
      },
    });
    try {
      await bus.publish([behaviouralSignal()]);
      await waitFor('the first start', () => starts.length === 1);
      armed = true; // the next claim of the held entry (idle past claimIdleMs) springs it
      await waitFor('the race sprung', () => !armed);
      await new Promise((r) => setTimeout(r, 800));
      expect(starts).toHaveLength(1);
    } finally {
      release();
      await sub.stop();
      await bus.close();
    }
  });
  test('when one message is slow, then the consumer keeps taking new ones beside it (a sliding window, not batch by batch), and the slow one is not started twice', async () => {
    const prefix = uniqueId('p') + '.';
    const bus = makeBus(prefix); // concurrency 4, claimIdleMs 300
    const starts = new Map<string, number>();
    const done: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let slow: string | undefined;
    const sub = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, {
      group: 'engine',
      consumer: 'c1',
      handler: async (m) => {
        starts.set(m.id, (starts.get(m.id) ?? 0) + 1);
        if (!slow) slow = m.id;
        if (m.id === slow) await held;
        done.push(m.id);
      },
    });
    try {
      await bus.publish(Array.from({ length: 12 }, () => behaviouralSignal()));
      // Batch by batch, the first read's 3 others would finish and the consumer would wait for the slow one.
      await waitFor('the other 11 handled while the slow one is held', () => done.length === 11);
      await new Promise((r) => setTimeout(r, 700)); // past claimIdleMs: the held entry is due to be claimed
      expect(starts.get(slow as string)).toBe(1);
      release();
      await waitFor('all 12 handled', () => done.length === 12);
      expect([...starts.values()].every((n) => n === 1)).toBe(true);
      await waitFor('nothing pending', async () => ((await redis.xpending(prefix + BEHAVIOURAL_SIGNALS_TOPIC, 'engine')) as [number])[0] === 0);
    } finally {
      release();
      await sub.stop();
      await bus.close();
    }
  });
});
