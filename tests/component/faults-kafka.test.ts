/**
 * Faults on the Kafka bus with the whole engine: the broker restarted mid-stream (no signal lost, none decided twice:
 * decisions are keyed by signal id) and a malformed message (dead-lettered with its reason; the consumer goes on).
 * The broker is this file's own, on a data folder that survives the restart, on the same ports.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKafkaSignalBus } from '../../activities/bus/kafka-signal-bus';
import type { SignalBus } from '../../activities/bus/signal-bus';
import { BEHAVIOURAL_SIGNALS_TOPIC, type BehaviouralSignal } from '../../domain/model/behavioural-signal';
import { startKafkaServer, type KafkaServer } from '../../workers/embedded-kafka';
import { behaviouralSignal, waitFor } from '../support/bus-contract';
import { uniqueId, useTestApp } from '../support/harness';
import { newTenant, publishPlaybook } from './fixtures';

jest.setTimeout(180_000);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmm-kafka-fault-'));
let kafka: KafkaServer;
beforeAll(async () => {
  kafka = await startKafkaServer({ dir });
}, 150_000);
const app = useTestApp(() => ({ BUS_TYPE: 'kafka', KAFKA_BROKERS: kafka.brokers, KAFKA_TOPIC_PARTITIONS: '3', KAFKA_SESSION_TIMEOUT_MS: '6000', BUS_MAX_DELIVERIES: '3' }));
let publisher: SignalBus;
beforeAll(() => {
  publisher = createKafkaSignalBus({
    brokers: [kafka.brokers], clientId: 'test-publisher', topicPrefix: app.taskQueue + '.', maxDeliveries: 3, concurrency: 4, partitions: 3, replicationFactor: 1, sessionTimeoutMs: 6_000,
  });
});
afterAll(async () => {
  await publisher?.close();
  await kafka?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** A publisher retries until the broker has it (at-least-once: the consumer de-duplicates by signal id). */
async function publishUntilStored(signals: BehaviouralSignal[]): Promise<number> {
  let tries = 0;
  for (;;) {
    tries++;
    try {
      await publisher.publish(signals);
      return tries;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function decisions(tenant: string): Promise<{ n: number; actors: number }> {
  const [rows] = await app.runtime.repos.sequelize.query('SELECT count(*)::int AS n, count(DISTINCT actor_id)::int AS actors FROM decisions WHERE tenant_id = :t', { replacements: { t: tenant } });
  return (rows as Array<{ n: number; actors: number }>)[0];
}

test('when the broker restarts mid-stream, then every signal is decided exactly once', async () => {
  const fx = newTenant(app, 'kfault');
  await publishPlaybook(app, fx.admin, {
    name: 'Review turnaround mirror',
    category: 'review_health',
    triggers: [{ source: 'ubi', kind: 'review_turnaround_spike', surfaces: ['ide'] }],
    actions: [{ type: 'mirror', title: 'Review turnaround', body: 'Reviews took {{signal.payload.value}} h.', cooldown_minutes: 0 }],
  });
  const signals = Array.from({ length: 40 }, (_, i) => behaviouralSignal({ tenant_id: fx.tenant, actor_id: `dev-${i}` }));
  for (let i = 0; i < 20; i += 5) await publishUntilStored(signals.slice(i, i + 5));
  await waitFor('the first decisions', async () => (await decisions(fx.tenant)).n >= 3, 60_000);

  await kafka.stop();
  await new Promise((r) => setTimeout(r, 2_000));
  kafka = await startKafkaServer({ dir, port: kafka.port, controllerPort: kafka.controllerPort });

  for (let i = 20; i < 40; i += 5) await publishUntilStored(signals.slice(i, i + 5));
  await waitFor('forty decisions', async () => (await decisions(fx.tenant)).n >= 40, 120_000);
  // Re-deliveries after the restart replay stored decisions; give them time to show up if they did not.
  await new Promise((r) => setTimeout(r, 3_000));
  expect(await decisions(fx.tenant)).toEqual({ n: 40, actors: 40 });
});

test('when a malformed message arrives, then it is dead-lettered with its reason and the consumer goes on', async () => {
  const fx = newTenant(app, 'kpoison');
  await publishPlaybook(app, fx.admin, {
    name: 'Review turnaround mirror',
    category: 'review_health',
    triggers: [{ source: 'ubi', kind: 'review_turnaround_spike', surfaces: ['ide'] }],
    actions: [{ type: 'mirror', title: 'Review turnaround', body: 'Reviews took {{signal.payload.value}} h.', cooldown_minutes: 0 }],
  });
  await publisher.publishRaw(BEHAVIOURAL_SIGNALS_TOPIC, fx.tenant, '{"signal_id": "half a signal"');
  await publisher.publishRaw(BEHAVIOURAL_SIGNALS_TOPIC, fx.tenant, { signal_id: uniqueId('sig'), tenant_id: fx.tenant });
  await publishUntilStored([behaviouralSignal({ tenant_id: fx.tenant, actor_id: 'dev-after' })]);
  await waitFor('the good signal decided', async () => (await decisions(fx.tenant)).n === 1, 60_000);
  const letters = await waitFor('two dead letters', async () => {
    const l = (await publisher.deadLetters(BEHAVIOURAL_SIGNALS_TOPIC, 1000)).filter((d) => d.key === fx.tenant);
    return l.length === 2 ? l : undefined;
  });
  expect(letters.map((l) => l.reason)).toEqual([expect.stringMatching(/^invalid behavioural signal: /), expect.stringMatching(/^invalid behavioural signal: .*actor_id/)]);
  expect(letters.map((l) => l.deliveries)).toEqual([1, 1]);
});
