/**
 * The RabbitMQ bus against a real, private rabbitmq-server (Debian's package, started on free ports by
 * tests/support/rabbitmq.ts): the shared contract, then what only the broker shows (durable quorum queue, routing key).
 */
import amqp, { type ChannelModel } from 'amqplib';
import { createRabbitSignalBus } from '../../activities/bus/rabbitmq-signal-bus';
import { loadConfig } from '../../config/config';
import { BEHAVIOURAL_SIGNALS_TOPIC, DETECTION_SIGNALS_TOPIC } from '../../domain/model/behavioural-signal';
import { createLogger } from '../../observability/logger';
import { createConfiguredSignalBus } from '../../workers/signal-bus-factory';
import { behaviouralSignal, busContract, MAX_DELIVERIES, waitFor } from '../support/bus-contract';
import { uniqueId } from '../support/harness';
import { useRabbitMq } from '../support/rabbitmq';

const rabbit = useRabbitMq();
const makeBus = (prefix: string) =>
  createRabbitSignalBus({ connect: () => amqp.connect(rabbit.url) }, { topicPrefix: prefix, maxDeliveries: MAX_DELIVERIES, concurrency: 4 });

busContract('RabbitMQ', makeBus, { separateProcesses: true });

describe('RabbitMQ signal bus, on the broker itself', () => {
  let admin: ChannelModel;
  beforeAll(async () => {
    admin = await amqp.connect(rabbit.url);
  });
  afterAll(async () => {
    await admin?.close();
  });

  test("when signals are published before the engine's group ever subscribed, then the group still gets them (declared by the publisher)", async () => {
    const prefix = uniqueId('p') + '.';
    const publisher = createRabbitSignalBus(
      { connect: () => amqp.connect(rabbit.url) },
      { topicPrefix: prefix, maxDeliveries: MAX_DELIVERIES, concurrency: 4, declareGroups: { [BEHAVIOURAL_SIGNALS_TOPIC]: ['engine'] } },
    );
    const consumer = makeBus(prefix);
    const got: string[] = [];
    try {
      const signals = [behaviouralSignal(), behaviouralSignal()];
      await publisher.publish(signals);
      const sub = await consumer.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, { group: 'engine', consumer: 'late', handler: async (m) => void got.push((m.payload as { signal_id: string }).signal_id) });
      await waitFor('both signals', () => got.length === 2);
      expect(got.sort()).toEqual(signals.map((s) => s.signal_id).sort());
      await sub.stop();
    } finally {
      await publisher.close();
      await consumer.close();
    }
  });

  test('when high signals are published before any detection consumer exists, then the configured detection group still gets them', async () => {
    const prefix = uniqueId('p') + '.';
    const config = loadConfig({ BUS_TYPE: 'rabbitmq', RABBITMQ_URL: rabbit.url, BUS_TOPIC_PREFIX: prefix, BUS_MAX_DELIVERIES: String(MAX_DELIVERIES) });
    // The bus the runtime builds: its publisher declares the detection groups' queues (BUS_DETECTION_GROUPS).
    const { bus: publisher } = createConfiguredSignalBus(config, { logger: createLogger('silent') });
    const consumer = makeBus(prefix);
    const got: string[] = [];
    try {
      const high = [behaviouralSignal({ severity: 'high' }), behaviouralSignal({ severity: 'critical' })];
      await publisher.publish(high);
      const sub = await consumer.subscribe(DETECTION_SIGNALS_TOPIC, { group: 'detection', consumer: 'late', handler: async (m) => void got.push((m.payload as { signal_id: string }).signal_id) });
      await waitFor('both detections', () => got.length === 2);
      expect(got.sort()).toEqual(high.map((s) => s.signal_id).sort());
      await sub.stop();
    } finally {
      await publisher.close();
      await consumer.close();
    }
  });

  test('when a group subscribes, then its queue is a durable quorum queue bound to the topic exchange, routed by tenant', async () => {
    const prefix = uniqueId('p') + '.';
    const bus = makeBus(prefix);
    const got: string[] = [];
    const sub = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, { group: 'engine', consumer: 'c1', handler: async (m) => void got.push(m.key) });
    try {
      const ch = await admin.createChannel();
      ch.on('error', () => undefined);
      // Re-declaring with other arguments fails, so a passive check of the exact declaration proves its type.
      await ch.assertQueue(`${prefix}${BEHAVIOURAL_SIGNALS_TOPIC}.engine`, {
        durable: true,
        arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': `${prefix}${BEHAVIOURAL_SIGNALS_TOPIC}.dead_letter`, 'x-delivery-limit': MAX_DELIVERIES },
      });
      // A message published straight to the exchange with the tenant as routing key reaches the group.
      ch.publish(`${prefix}${BEHAVIOURAL_SIGNALS_TOPIC}`, 'tenant-routed', Buffer.from(JSON.stringify(behaviouralSignal())));
      await waitFor('the routed message', () => got.includes('tenant-routed'));
      await ch.close();
    } finally {
      await sub.stop();
      await bus.close();
    }
  });
});
