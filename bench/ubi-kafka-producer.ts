/**
 * The UBI bench's upstream producer, in its own process as a real one would be (its CPU is the load generator's, not
 * the engine's): publishes `n` events of one tenant to `ubi.events` through the same Kafka adapter, 1,000 per
 * request (or, given `rate`, that many a second in 100 ms ticks), and prints `{ started_at, published_at }` (epoch ms) as
 * one JSON line when the last send is acknowledged. Input: the JSON in env PRODUCE (brokers, topicPrefix, partitions,
 * tenant, n, run, rate).
 */
import { createKafkaSignalBus } from '../activities/bus/kafka-signal-bus';
import { UBI_EVENTS_TOPIC } from '../domain/model/ubi-event';
import { ubiEvents } from './ubi-events';

async function main() {
  const spec = JSON.parse(process.env.PRODUCE ?? '{}') as { brokers: string[]; topicPrefix: string; partitions: number; tenant: string; n: number; run: string; rate?: number };
  const bus = createKafkaSignalBus({
    brokers: spec.brokers, clientId: 'bench-ubi-producer', topicPrefix: spec.topicPrefix, maxDeliveries: 5, concurrency: 8,
    partitions: spec.partitions, replicationFactor: 1, sessionTimeoutMs: 10_000,
  });
  const events = ubiEvents(spec.tenant, spec.n, spec.run);
  await bus.ping();
  const startedAt = Date.now();
  const publish = (from: number, to: number) => Promise.all(events.slice(from, to).map((e) => bus.publishRaw(UBI_EVENTS_TOPIC, spec.tenant, e)));
  if (spec.rate) {
    const perTick = Math.max(1, Math.round(spec.rate / 10));
    for (let i = 0, tick = 0; i < events.length; i += perTick, tick++) {
      await publish(i, i + perTick);
      const wait = startedAt + (tick + 1) * 100 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  } else {
    for (let i = 0; i < events.length; i += 1000) await publish(i, i + 1000);
  }
  const publishedAt = Date.now();
  process.stdout.write(JSON.stringify({ started_at: startedAt, published_at: publishedAt }) + '\n');
  await bus.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`[producer] ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
