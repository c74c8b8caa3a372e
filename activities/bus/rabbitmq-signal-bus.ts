import crypto from 'node:crypto';
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import {
  DEAD_LETTER_SUFFIX,
  PoisonMessageError,
  parseBody,
  serialiseBody,
  reasonOf,
  topicsFor,
  type BusOptions,
  type DeadLetter,
  type SignalBus,
  type SubscribeOptions,
  type Subscription,
} from './signal-bus';
import { sleep } from '../../lib/sleep';

export interface RabbitBusOptions extends BusOptions {
  logger?: { warn(obj: object, msg: string): void };
  /**
   * Consumer groups whose queues the publisher declares too, per topic. A topic exchange drops what arrives while no
   * queue is bound, so without this, signals published before the engine first subscribed would be lost.
   */
  declareGroups?: Record<string, string[]>;
}

export interface RabbitBusDeps {
  /** A new AMQP connection (amqplib `connect(RABBITMQ_URL)`); the bus opens one for publishing and one per subscription. */
  connect(): Promise<ChannelModel>;
}

const LAG_REPORT_MS = 2_000;
const RECONNECT_MS = 1_000;


/**
 * RabbitMQ: a durable topic exchange per topic, routing key = tenant id; each consumer group is a durable quorum
 * queue bound with `#`, consumed with manual acknowledgement and `prefetch = concurrency`. Quorum queues count
 * deliveries (`x-delivery-count`), so a failed message is re-queued until its `maxDeliveries`-th try, then published
 * with its reason to `<topic>.dead_letter` (a topic exchange with one durable queue) and acknowledged. The queue's
 * `x-delivery-limit` is the broker's own backstop for a message whose consumers keep dying before they can decide.
 * Publishing waits for the broker's confirm.
 */
export function createRabbitSignalBus(deps: RabbitBusDeps, options: RabbitBusOptions): SignalBus {
  const exchangeOf = (topic: string) => `${options.topicPrefix}${topic}`;
  const deadLetterOf = (topic: string) => `${exchangeOf(topic)}${DEAD_LETTER_SUFFIX}`;
  const killers = new Set<() => void>();
  let closed = false;

  let publisher: Promise<{ model: ChannelModel; channel: ConfirmChannel; declared: Set<string> }> | undefined;
  function publishChannel() {
    publisher ??= (async () => {
      const model = await deps.connect();
      const reset = () => (publisher = undefined);
      model.on('close', reset);
      model.on('error', reset);
      const channel = await model.createConfirmChannel();
      channel.on('close', reset);
      channel.on('error', reset);
      return { model, channel, declared: new Set<string>() };
    })();
    publisher.catch(() => (publisher = undefined));
    return publisher;
  }

  async function declareTopic(channel: ConfirmChannel, topic: string): Promise<void> {
    await channel.assertExchange(exchangeOf(topic), 'topic', { durable: true });
    await channel.assertExchange(deadLetterOf(topic), 'topic', { durable: true });
    // A dead letter with no queue bound would vanish, so the queue is declared along with the exchange.
    await channel.assertQueue(deadLetterOf(topic), { durable: true });
    await channel.bindQueue(deadLetterOf(topic), deadLetterOf(topic), '#');
  }

  /** A group's durable quorum queue, bound to every tenant's routing key (the same declaration from either side). */
  async function declareGroup(channel: ConfirmChannel, topic: string, group: string): Promise<string> {
    const queue = `${exchangeOf(topic)}.${group}`;
    await channel.assertQueue(queue, {
      durable: true,
      arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': deadLetterOf(topic), 'x-delivery-limit': options.maxDeliveries },
    });
    await channel.bindQueue(queue, exchangeOf(topic), '#');
    return queue;
  }

  async function declareForPublishing(channel: ConfirmChannel, declared: Set<string>, topic: string): Promise<void> {
    if (declared.has(topic)) return;
    await declareTopic(channel, topic);
    for (const group of options.declareGroups?.[topic] ?? []) await declareGroup(channel, topic, group);
    declared.add(topic);
  }

  function confirmPublish(channel: ConfirmChannel, exchange: string, key: string, body: Buffer, headers: Record<string, unknown> = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      channel.publish(
        exchange, key, body,
        { persistent: true, contentType: 'application/json', messageId: crypto.randomUUID(), timestamp: Math.floor(Date.now() / 1000), headers: { tenant: key, ...headers } },
        (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
      );
    });
  }

  async function publishRaw(topic: string, key: string, payload: unknown): Promise<void> {
    const { channel, declared } = await publishChannel();
    await declareForPublishing(channel, declared, topic);
    await confirmPublish(channel, exchangeOf(topic), key, Buffer.from(serialiseBody(payload)));
    options.metrics?.published(topic);
  }

  async function subscribe(topic: string, opts: SubscribeOptions): Promise<Subscription> {
    const queue = `${exchangeOf(topic)}.${opts.group}`;
    let stopped = false;
    let current: { model: ChannelModel; channel: ConfirmChannel; tag: string } | undefined;
    const inFlight = new Set<Promise<void>>();
    let lagTimer: NodeJS.Timeout | undefined;

    async function deadLetterIt(channel: ConfirmChannel, msg: ConsumeMessage, key: string, id: string, reason: string, deliveries: number) {
      await confirmPublish(channel, deadLetterOf(topic), msg.fields.routingKey, msg.content, {
        tenant: key, group: opts.group, reason, deliveries, original_id: id, dead_lettered_at: new Date().toISOString(),
      });
      channel.ack(msg);
    }

    async function onMessage(channel: ConfirmChannel, msg: ConsumeMessage): Promise<void> {
      // x-delivery-count is how often the broker has handed this message out before (quorum queues only).
      const deliveries = Number(msg.properties.headers?.['x-delivery-count'] ?? 0) + 1;
      const payload = parseBody(msg.content.toString('utf8'));
      const key = String(msg.properties.headers?.tenant ?? msg.fields.routingKey);
      const id = String(msg.properties.messageId ?? msg.fields.deliveryTag);
      if (deliveries > options.maxDeliveries) {
        // Returned more often than allowed without being acknowledged or failing: its consumers died while handling
        // it. Not handled again (the same rule as the Redis adapter; x-delivery-limit is the broker's backstop).
        await deadLetterIt(channel, msg, key, id, `delivered ${deliveries} times without an acknowledgement`, deliveries);
        options.metrics?.deadLettered(topic, 'max_deliveries');
        return;
      }
      try {
        await opts.handler({ id, topic, key, payload, deliveries });
      } catch (err) {
        options.metrics?.failed(topic);
        const poison = err instanceof PoisonMessageError;
        if (poison || deliveries >= options.maxDeliveries) {
          await deadLetterIt(channel, msg, key, id, reasonOf(err), deliveries);
          options.metrics?.deadLettered(topic, poison ? 'poison' : 'max_deliveries');
        } else {
          // A short pause before the re-queue, so a failing dependency is not hammered in a tight loop.
          await sleep(Math.min(100 * deliveries, 1_000));
          channel.nack(msg, false, true);
        }
        return;
      }
      channel.ack(msg);
      options.metrics?.consumed(topic);
    }

    async function start(): Promise<void> {
      const model = await deps.connect();
      const channel = await model.createConfirmChannel();
      await declareTopic(channel, topic);
      await declareGroup(channel, topic, opts.group);
      await channel.prefetch(opts.concurrency ?? options.concurrency);
      const { consumerTag } = await channel.consume(queue, (msg) => {
        if (!msg) return; // the broker cancelled the consumer (queue deleted); the close handler reconnects
        const work = onMessage(channel, msg).catch((err) => options.logger?.warn({ err: reasonOf(err), topic }, 'signal bus message left unacknowledged'));
        inFlight.add(work);
        void work.finally(() => inFlight.delete(work));
      });
      current = { model, channel, tag: consumerTag };
      model.on('error', () => undefined); // 'close' follows and handles it
      model.on('close', () => {
        current = undefined;
        if (!stopped && !closed) void reconnect();
      });
    }

    async function reconnect(): Promise<void> {
      while (!stopped && !closed) {
        await sleep(RECONNECT_MS);
        try {
          await start();
          return;
        } catch (err) {
          options.logger?.warn({ err: reasonOf(err), topic, group: opts.group }, 'signal bus reconnect failed; retrying');
        }
      }
    }

    await start();
    if (options.metrics) {
      lagTimer = setInterval(() => {
        current?.channel
          .checkQueue(queue)
          .then((q) => options.metrics?.lag(topic, opts.group, q.messageCount))
          .catch(() => undefined);
      }, LAG_REPORT_MS).unref();
    }
    const kill = () => {
      stopped = true;
      clearInterval(lagTimer);
      // Closing the connection with messages unacknowledged makes the broker re-queue them for other consumers.
      void current?.model.close().catch(() => undefined);
    };
    killers.add(kill);
    return {
      async stop() {
        stopped = true;
        clearInterval(lagTimer);
        const c = current;
        if (c) await c.channel.cancel(c.tag).catch(() => undefined);
        await Promise.allSettled([...inFlight]);
        if (c) await c.model.close().catch(() => undefined);
        killers.delete(kill);
      },
    };
  }

  const bus: SignalBus = {
    kind: 'rabbitmq',
    async publish(signals) {
      // The whole batch goes out before waiting for the broker's confirms (one channel keeps the order).
      const { channel, declared } = await publishChannel();
      for (const topic of new Set(signals.flatMap(topicsFor))) await declareForPublishing(channel, declared, topic);
      await Promise.all(
        signals.flatMap((signal) =>
          topicsFor(signal).map(async (topic) => {
            await confirmPublish(channel, exchangeOf(topic), signal.tenant_id, Buffer.from(JSON.stringify(signal)));
            options.metrics?.published(topic);
          }),
        ),
      );
    },
    publishRaw,
    subscribe,
    async deadLetters(topic, limit = 100) {
      const { model } = await publishChannel();
      // A channel of its own: closing it hands back everything read here unacknowledged, so this only peeks.
      const channel = await model.createChannel();
      try {
        await channel.assertQueue(deadLetterOf(topic), { durable: true });
        const out: DeadLetter[] = [];
        while (out.length < limit) {
          const msg = await channel.get(deadLetterOf(topic), { noAck: false });
          if (!msg) break;
          const h = msg.properties.headers ?? {};
          const payload = parseBody(msg.content.toString('utf8'));
          // Dead-lettered by the broker itself (x-delivery-limit) when there is no reason of ours.
          const death = Array.isArray(h['x-death']) ? (h['x-death'][0] as { reason?: string; count?: number }) : undefined;
          out.push({
            topic,
            group: String(h.group ?? ''),
            key: String(h.tenant ?? msg.fields.routingKey),
            payload,
            reason: String(h.reason ?? (death ? `broker: ${death.reason}` : '')),
            deliveries: Number(h.deliveries ?? death?.count ?? 0),
            original_id: String(h.original_id ?? msg.properties.messageId ?? ''),
            dead_lettered_at: String(h.dead_lettered_at ?? ''),
          });
        }
        return out;
      } finally {
        await channel.close().catch(() => undefined);
      }
    },
    async ping() {
      const { channel } = await publishChannel();
      await channel.checkExchange('amq.topic');
    },
    async close() {
      closed = true;
      for (const kill of killers) kill();
      killers.clear();
      const p = publisher;
      publisher = undefined;
      if (p) await p.then((c) => c.model.close()).catch(() => undefined);
    },
  };
  return bus;
}
