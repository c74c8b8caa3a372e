/**
 * A Kafka consumer killed (SIGKILL, its own process) while it holds messages: its partitions move to the group's
 * other consumer within 30 s (the session timeout, 6 s here), and the messages it had not finished are handled there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createKafkaSignalBus } from '../../activities/bus/kafka-signal-bus';
import { BEHAVIOURAL_SIGNALS_TOPIC } from '../../domain/model/behavioural-signal';
import { waitFor } from '../support/bus-contract';
import { uniqueId } from '../support/harness';
import { useKafka } from '../support/kafka';

jest.setTimeout(120_000);
const kafka = useKafka();
let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

test('when a consumer is killed holding messages, then within 30 s its partitions move and those messages are handled by the survivor', async () => {
  const prefix = uniqueId('p') + '.';
  const bus = createKafkaSignalBus({ brokers: [kafka.brokers], clientId: 'survivor', topicPrefix: prefix, maxDeliveries: 5, concurrency: 16, partitions: 4, replicationFactor: 1, sessionTimeoutMs: 6_000 });
  const handled = new Set<number>();
  const sub = await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, { group: 'engine', consumer: 'survivor', handler: async (m) => void handled.add((m.payload as { n: number }).n) });
  const taken = new Set<number>();
  let out = '';
  try {
    // node itself with tsx as a loader, not the tsx wrapper: a SIGKILL must reach the process that holds the messages.
    child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/kafka-child-consumer.ts'), kafka.brokers, prefix], { stdio: ['ignore', 'pipe', 'inherit'], cwd: path.join(__dirname, '../..') });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const m of out.matchAll(/took (\d+)/g)) taken.add(Number(m[1]));
    });
    await waitFor('the child in the group', () => out.includes('subscribed'), 60_000);
    // Published until the child holds some: the group's rebalance gives it part of the partitions.
    let n = 0;
    await waitFor(
      'the child holding messages',
      async () => {
        await Promise.all(Array.from({ length: 8 }, () => bus.publishRaw(BEHAVIOURAL_SIGNALS_TOPIC, `tenant-${n % 8}`, { n: n++ })));
        await new Promise((r) => setTimeout(r, 300));
        return taken.size >= 2;
      },
      60_000,
    );
    const killedAt = Date.now();
    child.kill('SIGKILL');
    const unfinished = [...taken];
    await waitFor('everything handled by the survivor', () => handled.size === n, 30_000);
    const moved = Date.now() - killedAt;
    expect(unfinished.every((x) => handled.has(x))).toBe(true);
    expect(moved).toBeLessThan(30_000);
  } finally {
    await sub.stop();
    await bus.close();
  }
});
