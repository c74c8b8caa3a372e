import {
  PoisonMessageError,
  parseBody,
  serialiseBody,
  publishEach,
  reasonOf,
  type BusOptions,
  type DeadLetter,
  type SignalBus,
  type SubscribeOptions,
  type Subscription,
} from './signal-bus';

interface Entry {
  id: string;
  key: string;
  body: string;
}
interface Delivery {
  entry: Entry;
  deliveries: number;
}
interface Consumer {
  options: SubscribeOptions;
  inFlight: number;
  stopped: boolean;
  idle: Array<() => void>;
}
interface Group {
  ready: Delivery[];
  consumers: Consumer[];
  turn: number;
}

/**
 * The bus in one process, for unit tests and the single-node fallback: the same semantics as the Redis and RabbitMQ
 * adapters (consumer groups, at-least-once, acknowledgement after the handler, dead letter after N tries), nothing
 * shared between processes. Bodies are kept as JSON text so consumers see what a real bus would hand them.
 */
export function createMemorySignalBus(options: Partial<BusOptions> = {}): SignalBus {
  const maxDeliveries = options.maxDeliveries ?? 5;
  const concurrency = options.concurrency ?? 8;
  const logs = new Map<string, Entry[]>();
  const groups = new Map<string, Map<string, Group>>();
  const deadLetters = new Map<string, DeadLetter[]>();
  let seq = 0;
  let closed = false;

  const groupsOf = (topic: string) => {
    let g = groups.get(topic);
    if (!g) groups.set(topic, (g = new Map()));
    return g;
  };

  function pump(topic: string, group: Group): void {
    while (group.ready.length) {
      const live = group.consumers.filter((c) => !c.stopped && c.inFlight < (c.options.concurrency ?? concurrency));
      if (!live.length || closed) return;
      const consumer = live[group.turn++ % live.length];
      const delivery = group.ready.shift() as Delivery;
      void handle(topic, group, consumer, delivery);
    }
  }

  async function handle(topic: string, group: Group, consumer: Consumer, delivery: Delivery): Promise<void> {
    consumer.inFlight++;
    const deliveries = ++delivery.deliveries;
    const payload = parseBody(delivery.entry.body);
    try {
      await consumer.options.handler({ id: delivery.entry.id, topic, key: delivery.entry.key, payload, deliveries });
      options.metrics?.consumed(topic);
    } catch (err) {
      options.metrics?.failed(topic);
      const poison = err instanceof PoisonMessageError;
      if (poison || deliveries >= maxDeliveries) {
        const letters = deadLetters.get(topic) ?? [];
        deadLetters.set(topic, letters);
        letters.push({
          topic,
          group: consumer.options.group,
          key: delivery.entry.key,
          payload,
          reason: reasonOf(err),
          deliveries,
          original_id: delivery.entry.id,
          dead_lettered_at: new Date().toISOString(),
        });
        options.metrics?.deadLettered(topic, poison ? 'poison' : 'max_deliveries');
      } else group.ready.push(delivery);
    } finally {
      consumer.inFlight--;
      if (consumer.inFlight === 0) for (const resolve of consumer.idle.splice(0)) resolve();
      setImmediate(() => pump(topic, group));
    }
  }

  const bus: SignalBus = {
    kind: 'memory',
    publish: (signals) => publishEach(bus, signals),
    async publishRaw(topic, key, payload) {
      if (closed) throw new Error('the in-memory bus is closed');
      const entry: Entry = { id: `${Date.now()}-${seq++}`, key, body: serialiseBody(payload) };
      const log = logs.get(topic) ?? [];
      logs.set(topic, log);
      log.push(entry);
      options.metrics?.published(topic);
      for (const group of groupsOf(topic).values()) {
        group.ready.push({ entry, deliveries: 0 });
        pump(topic, group);
      }
    },
    async subscribe(topic, opts): Promise<Subscription> {
      const byName = groupsOf(topic);
      let group = byName.get(opts.group);
      if (!group) {
        // Like a Redis group created at id 0: what was published before the group existed is delivered too.
        group = { ready: (logs.get(topic) ?? []).map((entry) => ({ entry, deliveries: 0 })), consumers: [], turn: 0 };
        byName.set(opts.group, group);
      }
      const consumer: Consumer = { options: opts, inFlight: 0, stopped: false, idle: [] };
      group.consumers.push(consumer);
      const g = group;
      setImmediate(() => pump(topic, g));
      return {
        async stop() {
          consumer.stopped = true;
          if (consumer.inFlight > 0) await new Promise<void>((resolve) => consumer.idle.push(resolve));
        },
      };
    },
    async deadLetters(topic, limit = 100) {
      return (deadLetters.get(topic) ?? []).slice(0, limit);
    },
    async ping() {
      if (closed) throw new Error('the in-memory bus is closed');
    },
    async close() {
      closed = true;
    },
  };
  return bus;
}
