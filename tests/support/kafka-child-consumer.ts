/**
 * A Kafka consumer in a process of its own, for the kill test (tests/activities/bus-kafka-consumer-kill.test.ts):
 * joins the group, prints `took <n>` for each message and never finishes one, until it is killed.
 * Run: node --import tsx tests/support/kafka-child-consumer.ts <brokers> <topic prefix>
 */
import { createKafkaSignalBus } from '../../activities/bus/kafka-signal-bus';
import { BEHAVIOURAL_SIGNALS_TOPIC } from '../../domain/model/behavioural-signal';

const [brokers, prefix] = process.argv.slice(2);
const bus = createKafkaSignalBus({ brokers: [brokers], clientId: 'child', topicPrefix: prefix, maxDeliveries: 5, concurrency: 16, partitions: 4, replicationFactor: 1, sessionTimeoutMs: 6_000 });
void bus
  .subscribe(BEHAVIOURAL_SIGNALS_TOPIC, {
    group: 'engine',
    consumer: `child-${process.pid}`,
    handler: (m) => {
      process.stdout.write(`took ${(m.payload as { n: number }).n}\n`);
      return new Promise<void>(() => undefined);
    },
  })
  .then(() => process.stdout.write('subscribed\n'));
