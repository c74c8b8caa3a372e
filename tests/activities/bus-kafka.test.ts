/**
 * The Kafka bus against a real, private Apache Kafka broker (KRaft, started on free ports by tests/support/kafka.ts):
 * the shared contract, then what only Kafka shows (tenant as message key and partition order, topics created with the
 * configured partitions, the group's committed offsets).
 */
import { Admin } from '@platformatic/kafka';
import { createKafkaSignalBus } from '../../activities/bus/kafka-signal-bus';
import type { BusMetrics } from '../../activities/bus/signal-bus';
import { BEHAVIOURAL_SIGNALS_TOPIC } from '../../domain/model/behavioural-signal';
import { behaviouralSignal, busContract, MAX_DELIVERIES, waitFor } from '../support/bus-contract';
import { uniqueId } from '../support/harness';
import { useKafka } from '../support/kafka';

const kafka = useKafka();
const makeKafkaBus = (prefix: string, over: { partitions?: number; metrics?: BusMetrics } = {}) =>
  createKafkaSignalBus({
    brokers: [kafka.brokers],
    clientId: 'mmm-test',
    topicPrefix: prefix,
    maxDeliveries: MAX_DELIVERIES,
    concurrency: 4,
    partitions: over.partitions ?? 3,
    replicationFactor: 1,
    sessionTimeoutMs: 6_000,
    metrics: over.metrics,
  });

busContract('Kafka', (prefix) => makeKafkaBus(prefix), { separateProcesses: true });

describe('Kafka signal bus, on the broker itself', () => {
  test('when topics are first used, then they are created with the configured partitions, the dead letter with one', async () => {
    const prefix = uniqueId('p') + '.';
    const bus = makeKafkaBus(prefix, { partitions: 5 });
    const admin = new Admin({ clientId: 'mmm-test-admin', bootstrapBrokers: [kafka.brokers] });
    try {
      await bus.publish([behaviouralSignal()]);
      const metadata = await admin.metadata({ topics: [prefix + BEHAVIOURAL_SIGNALS_TOPIC, prefix + BEHAVIOURAL_SIGNALS_TOPIC + '.dead_letter'] });
      expect(metadata.topics.get(prefix + BEHAVIOURAL_SIGNALS_TOPIC)?.partitionsCount).toBe(5);
      expect(metadata.topics.get(prefix + BEHAVIOURAL_SIGNALS_TOPIC + '.dead_letter')?.partitionsCount).toBe(1);
    } finally {
      await admin.close();
      await bus.close();
    }
  });

  test("when one tenant's signals arrive while the handler is slow, then they are handled one at a time in publish order, beside other tenants", async () => {
    const bus = makeKafkaBus(uniqueId('p') + '.', { partitions: 2 });
    const order: string[] = [];
    let busyForA = 0;
    let overlapA = false;
    const sub = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, {
      group: 'engine',
      consumer: 'c1',
      handler: async (m) => {
        const s = m.payload as { signal_id: string; tenant_id: string };
        if (s.tenant_id === 'tenant-a') {
          if (busyForA++) overlapA = true;
          await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
          busyForA--;
          order.push(s.signal_id);
        }
      },
    });
    try {
      const a = Array.from({ length: 15 }, () => behaviouralSignal({ tenant_id: 'tenant-a' }));
      const others = Array.from({ length: 15 }, () => behaviouralSignal());
      await bus.publish(a.flatMap((s, i) => [s, others[i]]));
      await waitFor('all of tenant-a', () => order.length === a.length);
      expect(order).toEqual(a.map((s) => s.signal_id));
      expect(overlapA).toBe(false);
    } finally {
      await sub.stop();
      await bus.close();
    }
  });

  test('when many publishes run at once, then every message is stored and delivered (the idempotent producer sends one request at a time)', async () => {
    const bus = makeKafkaBus(uniqueId('p') + '.', { partitions: 2 });
    const got = new Set<string>();
    const sub = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, { group: 'engine', consumer: 'c1', concurrency: 64, unordered: true, handler: async (m) => void got.add((m.payload as { n: string }).n) });
    try {
      await Promise.all(Array.from({ length: 300 }, (_, i) => bus.publishRaw(BEHAVIOURAL_SIGNALS_TOPIC, `tenant-${i % 7}`, { n: `m${i}` })));
      await waitFor('all 300', () => got.size === 300, 20_000);
    } finally {
      await sub.stop();
      await bus.close();
    }
  });

  test('when messages wait behind a busy handler, then the lag metric counts them, and it falls to zero once they are committed', async () => {
    const lags: number[] = [];
    const metrics: BusMetrics = { published: () => undefined, consumed: () => undefined, failed: () => undefined, deadLettered: () => undefined, lag: (_t, _g, n) => void lags.push(n) };
    const bus = makeKafkaBus(uniqueId('p') + '.', { partitions: 1, metrics });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let handled = 0;
    const sub = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, { group: 'engine', consumer: 'c1', handler: async () => { await gate; handled++; } });
    try {
      await bus.publish(Array.from({ length: 5 }, () => behaviouralSignal({ tenant_id: 'tenant-lag' })));
      await waitFor('a lag of five', () => lags.includes(5), 10_000);
      release();
      await waitFor('all handled', () => handled === 5);
      await waitFor('no lag', () => lags[lags.length - 1] === 0, 10_000);
    } finally {
      await sub.stop();
      await bus.close();
    }
  });
});
