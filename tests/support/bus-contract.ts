/**
 * What every SignalBus adapter promises (activities/bus/signal-bus.ts), as one suite each adapter's test file runs
 * against its real backend: publish → consume → acknowledge, tenant key, re-delivery after a failure, dead letter
 * after N tries (and at once for poison), a consumer killed before its acknowledgement, the detection topic.
 */
import { PoisonMessageError, type BusMessage, type SignalBus, type Subscription } from '../../activities/bus/signal-bus';
import { BEHAVIOURAL_SIGNALS_TOPIC, DETECTION_SIGNALS_TOPIC, type BehaviouralSignal } from '../../domain/model/behavioural-signal';
import { uniqueId } from './harness';

export const MAX_DELIVERIES = 3;

/** Makes a bus for one test; every bus made for one `prefix` shares topics (separate connections, as separate processes would). */
export type MakeBus = (prefix: string) => SignalBus;

export function behaviouralSignal(over: Partial<BehaviouralSignal> = {}): BehaviouralSignal {
  const now = new Date();
  return {
    signal_id: uniqueId('sig'),
    tenant_id: uniqueId('t'),
    actor_id: 'alice',
    actor_type: 'human',
    team_id: null,
    dimension: 'review_turnaround',
    signal_type: 'review_turnaround_spike',
    severity: 'medium',
    value: 42.5,
    baseline: { mean: 12, spread: 3.5, samples: 28, source: 'personal' },
    score: 71,
    explanation: { direction: 'above', cold_start: 'ready', typical_low: 5, typical_high: 19 },
    window_start: new Date(now.getTime() - 3_600_000).toISOString(),
    window_end: now.toISOString(),
    created_at: now.toISOString(),
    config_version: 1,
    ...over,
  };
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function busContract(name: string, makeBus: MakeBus, caps: { separateProcesses: boolean }) {
  describe(`${name} signal bus`, () => {
    const opened: SignalBus[] = [];
    const subs: Subscription[] = [];
    const open = (prefix: string) => {
      const bus = makeBus(prefix);
      opened.push(bus);
      return bus;
    };
    const subscribe = async (bus: SignalBus, topic: string, group: string, handler: (m: BusMessage) => Promise<void>) => {
      const sub = await bus.subscribe(topic, { group, consumer: uniqueId('c'), handler });
      subs.push(sub);
      return sub;
    };
    /** A consumer that takes a message and never finishes with it: a process that dies holding it. */
    const subscribeDoomed = async (prefix: string) => {
      const bus = open(prefix);
      const held: { message?: BusMessage } = {};
      await bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, {
        group: 'engine',
        consumer: uniqueId('doomed'),
        handler: (m) => {
          held.message = m;
          return new Promise<void>(() => undefined);
        },
      });
      return { bus, taken: () => held.message };
    };
    afterEach(async () => {
      for (const s of subs.splice(0)) await s.stop().catch(() => undefined);
      for (const b of opened.splice(0)) await b.close().catch(() => undefined);
    });

    test('when a signal is published, then a consumer gets it once, keyed by its tenant, and it is acknowledged', async () => {
      const prefix = uniqueId('p') + '.';
      const bus = open(prefix);
      const got: BusMessage[] = [];
      await subscribe(bus, BEHAVIOURAL_SIGNALS_TOPIC, 'engine', async (m) => void got.push(m));
      const signal = behaviouralSignal();
      await bus.publish([signal]);
      await waitFor('the delivery', () => got.length === 1);
      expect(got[0]).toEqual(expect.objectContaining({ topic: BEHAVIOURAL_SIGNALS_TOPIC, key: signal.tenant_id, payload: signal, deliveries: 1 }));
      // Acknowledged: a second consumer of the same group, started later, gets nothing re-delivered.
      await sleep(600);
      await subscribe(open(prefix), BEHAVIOURAL_SIGNALS_TOPIC, 'engine', async (m) => void got.push(m));
      await sleep(800);
      expect(got).toHaveLength(1);
      expect(await bus.deadLetters(BEHAVIOURAL_SIGNALS_TOPIC)).toEqual([]);
    });

    test('when two consumer groups listen, then each gets every message', async () => {
      const bus = open(uniqueId('p') + '.');
      const a: string[] = [];
      const b: string[] = [];
      await subscribe(bus, BEHAVIOURAL_SIGNALS_TOPIC, 'engine', async (m) => void a.push((m.payload as BehaviouralSignal).signal_id));
      await subscribe(bus, BEHAVIOURAL_SIGNALS_TOPIC, 'audit', async (m) => void b.push((m.payload as BehaviouralSignal).signal_id));
      const signals = [behaviouralSignal(), behaviouralSignal(), behaviouralSignal()];
      await bus.publish(signals);
      await waitFor('both groups', () => a.length === 3 && b.length === 3);
      expect(a.sort()).toEqual(signals.map((s) => s.signal_id).sort());
      expect(b.sort()).toEqual(a);
    });

    test('when a high or critical signal is published, then it is on the detection topic too, and a medium one is not', async () => {
      const bus = open(uniqueId('p') + '.');
      const all: BusMessage[] = [];
      const detection: BusMessage[] = [];
      await subscribe(bus, BEHAVIOURAL_SIGNALS_TOPIC, 'engine', async (m) => void all.push(m));
      await subscribe(bus, DETECTION_SIGNALS_TOPIC, 'detection', async (m) => void detection.push(m));
      const high = behaviouralSignal({ severity: 'high' });
      const critical = behaviouralSignal({ severity: 'critical' });
      const medium = behaviouralSignal({ severity: 'medium' });
      await bus.publish([medium, high, critical]);
      await waitFor('all three on the main topic', () => all.length === 3);
      await waitFor('two on detection', () => detection.length === 2);
      await sleep(300);
      expect(detection.map((m) => (m.payload as BehaviouralSignal).signal_id).sort()).toEqual([high.signal_id, critical.signal_id].sort());
      expect(detection.map((m) => m.key).sort()).toEqual([high.tenant_id, critical.tenant_id].sort());
    });

    test('when the handler fails once, then the message is re-delivered and handled', async () => {
      const bus = open(uniqueId('p') + '.');
      const seen: number[] = [];
      await subscribe(bus, BEHAVIOURAL_SIGNALS_TOPIC, 'engine', async (m) => {
        seen.push(m.deliveries);
        if (m.deliveries === 1) throw new Error('decide is down');
      });
      await bus.publish([behaviouralSignal()]);
      await waitFor('the re-delivery', () => seen.length === 2);
      await sleep(500);
      expect(seen).toEqual([1, 2]);
      expect(await bus.deadLetters(BEHAVIOURAL_SIGNALS_TOPIC)).toEqual([]);
    });

    test(`when the handler keeps failing, then after ${MAX_DELIVERIES} tries the message is on the dead letter with the reason`, async () => {
      const bus = open(uniqueId('p') + '.');
      const seen: number[] = [];
      await subscribe(bus, BEHAVIOURAL_SIGNALS_TOPIC, 'engine', async (m) => {
        seen.push(m.deliveries);
        throw new Error(`still failing (try ${m.deliveries})`);
      });
      const signal = behaviouralSignal();
      await bus.publish([signal]);
      const letters = await waitFor('the dead letter', async () => {
        const l = await bus.deadLetters(BEHAVIOURAL_SIGNALS_TOPIC);
        return l.length ? l : undefined;
      });
      await sleep(500);
      expect(seen).toEqual([1, 2, 3]);
      expect(letters).toEqual([
        expect.objectContaining({ group: 'engine', key: signal.tenant_id, payload: signal, deliveries: MAX_DELIVERIES, reason: `still failing (try ${MAX_DELIVERIES})` }),
      ]);
    });

    test('when the handler calls a message poison, then it goes to the dead letter at once and the consumer carries on', async () => {
      const bus = open(uniqueId('p') + '.');
      const handled: unknown[] = [];
      await subscribe(bus, BEHAVIOURAL_SIGNALS_TOPIC, 'engine', async (m) => {
        if (typeof m.payload === 'string') throw new PoisonMessageError('not JSON');
        handled.push(m.payload);
      });
      await bus.publishRaw(BEHAVIOURAL_SIGNALS_TOPIC, 'tenant-x', '{not json');
      const good = behaviouralSignal();
      await bus.publish([good]);
      await waitFor('the good message', () => handled.length === 1);
      const letters = await waitFor('the dead letter', async () => {
        const l = await bus.deadLetters(BEHAVIOURAL_SIGNALS_TOPIC);
        return l.length ? l : undefined;
      });
      expect(letters).toEqual([expect.objectContaining({ key: 'tenant-x', payload: '{not json', deliveries: 1, reason: 'not JSON' })]);
      expect(handled).toEqual([good]);
    });

    if (caps.separateProcesses)
      test('when a consumer dies before acknowledging, then another consumer of the group gets the message', async () => {
        const prefix = uniqueId('p') + '.';
        const doomed = await subscribeDoomed(prefix);
        const signal = behaviouralSignal();
        await open(prefix).publish([signal]);
        await waitFor('the first delivery', doomed.taken);
        await doomed.bus.close();
        const got: BusMessage[] = [];
        await subscribe(open(prefix), BEHAVIOURAL_SIGNALS_TOPIC, 'engine', async (m) => void got.push(m));
        await waitFor('the re-delivery', () => got.length === 1, 20_000);
        expect(got[0]).toEqual(expect.objectContaining({ key: signal.tenant_id, payload: signal }));
        expect(got[0].deliveries).toBeGreaterThanOrEqual(2);
      });

    if (caps.separateProcesses)
      test(`when every consumer dies while holding a message, then after ${MAX_DELIVERIES} deliveries it goes to the dead letter unhandled`, async () => {
        const prefix = uniqueId('p') + '.';
        const signal = behaviouralSignal();
        for (let i = 1; i <= MAX_DELIVERIES; i++) {
          const doomed = await subscribeDoomed(prefix);
          // After the group exists: RabbitMQ drops what is published to an exchange with no queue bound yet.
          if (i === 1) await open(prefix).publish([signal]);
          await waitFor(`delivery ${i}`, doomed.taken, 20_000);
          await doomed.bus.close();
        }
        const handled: BusMessage[] = [];
        const survivor = open(prefix);
        await subscribe(survivor, BEHAVIOURAL_SIGNALS_TOPIC, 'engine', async (m) => void handled.push(m));
        const letters = await waitFor(
          'the dead letter',
          async () => {
            const l = await survivor.deadLetters(BEHAVIOURAL_SIGNALS_TOPIC);
            return l.length ? l : undefined;
          },
          20_000,
        );
        expect(letters).toEqual([expect.objectContaining({ key: signal.tenant_id, payload: signal })]);
        expect(letters[0].reason).toMatch(/without an acknowledgement|delivery_limit/);
        await sleep(500);
        expect(handled).toEqual([]);
      });
  });
}
