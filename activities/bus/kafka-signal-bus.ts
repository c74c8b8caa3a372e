import crypto from 'node:crypto';
import {
  Admin,
  Consumer,
  Producer,
  ProduceAcks,
  kGetApi,
  kGetConnection,
  stringDeserializers,
  stringSerializers,
  type Broker,
  type ConnectionOptions,
  type Message,
} from '@platformatic/kafka';
import {
  DEAD_LETTER_SUFFIX,
  PoisonMessageError,
  parseBody,
  reasonOf,
  serialiseBody,
  topicsFor,
  type BusOptions,
  type DeadLetter,
  type SignalBus,
  type SubscribeOptions,
  type Subscription,
} from './signal-bus';
import { sleep } from '../../lib/sleep';

export interface KafkaBusOptions extends BusOptions {
  /** `host:port` of one or more brokers. */
  brokers: string[];
  clientId: string;
  /** For topics this bus creates when absent (dead letters always get one partition, so they read oldest first). */
  partitions: number;
  replicationFactor: number;
  /** A consumer not heard from this long is dropped from its group and its partitions move (broker minimum: 6 s). */
  sessionTimeoutMs: number;
  /** SASL and TLS for real clusters (config KAFKA_SASL_* and KAFKA_SSL). */
  sasl?: { mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512'; username: string; password: string };
  tls?: boolean;
  logger?: { warn(obj: object, msg: string): void };
}

type Msg = Message<string, string, string, string>;
type Api = { async(connection: unknown, ...args: unknown[]): Promise<unknown> };
interface OffsetFetchResult {
  groups: Array<{ topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; committedOffset: bigint; metadata: string | null }> }> }>;
}

const LAG_REPORT_MS = 2_000;
const RESTART_MS = 1_000;
const TOPIC_READY_MS = 30_000;
/** Produce requests stay well under the broker's default 1 MiB message batch with signal-sized bodies. */
const MAX_MESSAGES_PER_SEND = 1_000;
/** Broker error codes met while topics are created or the cluster restarts. */
const TOPIC_ALREADY_EXISTS = /TOPIC_ALREADY_EXISTS|already exists/i;

function callback<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

/** One partition's messages in hand, in offset order: what may be committed is everything below the first unfinished one. */
interface PartitionTrack {
  inFlight: Map<bigint, { deliveries: number; done: boolean }>;
  /** Per tenant key, the tail of its chain: one tenant's messages are handled in order, other tenants' beside them. */
  keyTails: Map<string, Promise<void>>;
  /** The offset the group has committed (the next to handle), and how often the message there was handed out. */
  committed?: { offset: bigint; deliveries: number };
  /** Read from the group's commit metadata when the partition was (re)assigned. */
  loaded?: Promise<void>;
  commits: Promise<void>;
  /** Whether this consumer has handed out a message of the partition yet (in this generation). */
  started?: boolean;
  /** A commit waiting for the one on the wire; requests meanwhile join it. */
  queued?: Promise<void>;
}

/**
 * Kafka: one topic per bus topic, keyed by tenant (so one tenant's signals keep their order within a partition),
 * consumer groups with offsets committed only after the handler succeeded (at-least-once). Kafka re-delivers by
 * position, not by message, so a failed message is re-tried in place (with a short pause) while the partition's
 * later messages of other tenants go on; the committed offset never passes an unfinished message. How often the
 * message at the committed offset was handed out is kept in the commit's own metadata, so a consumer that takes the
 * partition over after a crash knows, and one that keeps killing its consumers goes to the dead letter after
 * `maxDeliveries`, like the Redis and RabbitMQ adapters. Dead letters go to `<topic>.dead_letter` (one partition) with
 * the reason in headers before the offset moves past them. The producer is idempotent with acks=all.
 */
export function createKafkaSignalBus(options: KafkaBusOptions): SignalBus {
  const topicOf = (topic: string) => `${options.topicPrefix}${topic}`;
  const connection: ConnectionOptions = {
    ...(options.tls ? { tls: {} } : {}),
    ...(options.sasl ? { sasl: { mechanism: options.sasl.mechanism, username: options.sasl.username, password: options.sasl.password } } : {}),
  };
  // Metadata (partition leaders and their epochs) refreshed every few seconds: a fetch that sends a stale leader epoch
  // is fenced by the broker (FENCED_LEADER_EPOCH) and the client's stream ends on it.
  const base = { bootstrapBrokers: options.brokers, ...connection, retries: 5, retryDelay: 500, metadataMaxAge: 5_000 };
  const closers = new Set<() => Promise<void>>();
  let closed = false;

  let producer: Producer<string, string, string, string> | undefined;
  const producerOf = () =>
    (producer ??= new Producer({
      ...base,
      clientId: `${options.clientId}-producer`,
      serializers: stringSerializers,
      // Idempotent with acks=all: a retried send is written once, and only after every in-sync replica has it.
      idempotent: true,
      acks: ProduceAcks.ALL,
    }));

  let admin: Admin | undefined;
  const ensured = new Map<string, Promise<void>>();
  /** Creates the topic when absent (once per process); a failed attempt is forgotten so the next call tries again. */
  function ensureTopic(name: string, partitions = options.partitions): Promise<void> {
    let p = ensured.get(name);
    if (!p) {
      admin ??= new Admin({ ...base, clientId: `${options.clientId}-admin` });
      const a = admin;
      p = (async () => {
        try {
          await a.createTopics({ topics: [name], partitions, replicas: options.replicationFactor });
        } catch (err) {
          if (!TOPIC_ALREADY_EXISTS.test(describe(err))) throw err;
        }
        // A topic just created has no leaders for a moment; a consumer that fetches then stalls until its request
        // times out, so nothing is used before every partition has one.
        const deadline = Date.now() + TOPIC_READY_MS;
        for (;;) {
          const info = (await a.metadata({ topics: [name], forceUpdate: true })).topics.get(name);
          if (info && info.partitions.length && info.partitions.every((p) => p.leader >= 0)) return;
          if (Date.now() > deadline) throw new Error(`kafka topic ${name} has partitions without a leader`);
          await sleep(100);
        }
      })();
      ensured.set(name, p);
      p.catch(() => ensured.delete(name));
    }
    return p;
  }
  const ensureTopics = (topic: string) => Promise.all([ensureTopic(topicOf(topic)), ensureTopic(topicOf(topic) + DEAD_LETTER_SUFFIX, 1)]);

  type Outgoing = { topic: string; key: string; value: string; headers?: Record<string, string> };
  const outbox: Array<{ messages: Outgoing[]; resolve(): void; reject(err: unknown): void }> = [];
  let sending = false;
  /**
   * One produce request at a time, with whatever callers queued meanwhile merged into it. Not only for throughput:
   * @platformatic/kafka 1.35's idempotent producer gives concurrent sends the same sequence numbers, and the broker
   * then drops all but the first as duplicates while every caller is told it succeeded (measured: 6 concurrent sends,
   * 2 stored; ADR 0014). Sent one after another, each gets its own sequence and every message is stored.
   */
  function send(messages: Outgoing[]): Promise<void> {
    if (closed) return Promise.reject(new Error('the Kafka bus is closed'));
    return new Promise<void>((resolve, reject) => {
      outbox.push({ messages, resolve, reject });
      void drain();
    });
  }
  async function drain(): Promise<void> {
    if (sending) return;
    sending = true;
    try {
      while (outbox.length) {
        const batch: typeof outbox = [];
        let count = 0;
        while (outbox.length && count < MAX_MESSAGES_PER_SEND) {
          const next = outbox.shift() as (typeof outbox)[number];
          batch.push(next);
          count += next.messages.length;
        }
        try {
          await producerOf().send({ messages: batch.flatMap((b) => b.messages.map((m) => ({ ...m, headers: { tenant: m.key, ...m.headers } }))) });
          for (const b of batch) b.resolve();
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      sending = false;
    }
  }

  async function publishRaw(topic: string, key: string, payload: unknown): Promise<void> {
    await ensureTopics(topic);
    await send([{ topic: topicOf(topic), key, value: serialiseBody(payload) }]);
    options.metrics?.published(topic);
  }

  async function subscribe(topic: string, opts: SubscribeOptions): Promise<Subscription> {
    const name = topicOf(topic);
    const concurrency = opts.concurrency ?? options.concurrency;
    await ensureTopics(topic);
    let stopped = false;
    let consumer: Consumer<string, string, string, string> | undefined;
    let stream: Awaited<ReturnType<Consumer<string, string, string, string>['consume']>> | undefined;
    /** Bumped on every (re)join: tracks of an earlier assignment are dropped, their messages come again from the commit. */
    let generation = 0;
    let tracks = new Map<number, PartitionTrack>();
    let inFlight = 0;
    const running = new Set<Promise<void>>();
    let lagTimer: NodeJS.Timeout | undefined;
    let restarting: Promise<void> | undefined;

    /**
     * The group coordinator's API, called directly: the client's own commit cannot carry metadata. The coordinator's
     * connection and the API versions are looked up once per consumer and again after a failure.
     */
    const coordinator = new WeakMap<object, Promise<{ conn: unknown; apis: Map<string, Promise<Api>> }>>();
    async function groupApi(c: Consumer<string, string, string, string>, api: 'OffsetCommit' | 'OffsetFetch', args: unknown[]): Promise<unknown> {
      let found = coordinator.get(c);
      if (!found) {
        found = (async () => {
          const coordinatorId = await c.findGroupCoordinator();
          const metadata = await c.metadata({ topics: [name] });
          const broker = metadata.brokers.get(coordinatorId) as Broker;
          const conn = await callback<unknown>((cb) => (c as unknown as Record<symbol, (b: Broker, cb: unknown) => void>)[kGetConnection](broker, cb));
          return { conn, apis: new Map<string, Promise<Api>>() };
        })();
        coordinator.set(c, found);
      }
      try {
        const { conn, apis } = await found;
        let fn = apis.get(api);
        if (!fn) apis.set(api, (fn = callback<Api>((cb) => (c as unknown as Record<symbol, (n: string, cb: unknown) => void>)[kGetApi](api, cb))));
        return await (await fn).async(conn, ...args);
      } catch (err) {
        coordinator.delete(c); // the coordinator moved, or its connection closed: look it up again next time
        throw err;
      }
    }

    async function commit(c: Consumer<string, string, string, string>, partition: number, offset: bigint, deliveries: number): Promise<void> {
      await groupApi(c, 'OffsetCommit', [
        opts.group,
        c.generationId,
        c.memberId,
        null,
        [{ name, partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: JSON.stringify({ deliveries }) }] }],
      ]);
    }

    /** The group's commit for a partition just assigned; without one, the first message fetched is where it stands. */
    async function loadCommitted(c: Consumer<string, string, string, string>, partition: number, first: bigint, track: PartitionTrack): Promise<void> {
      track.committed = { offset: first, deliveries: 0 };
      const reply = (await groupApi(c, 'OffsetFetch', [[{ groupId: opts.group, memberId: null, memberEpoch: -1, topics: [{ name, partitionIndexes: [partition] }] }], false])) as OffsetFetchResult;
      const p = reply.groups[0]?.topics[0]?.partitions.find((x) => x.partitionIndex === partition);
      if (!p || p.committedOffset < 0n) return;
      let deliveries = 0;
      try {
        deliveries = Number((JSON.parse(p.metadata ?? '{}') as { deliveries?: number }).deliveries ?? 0);
      } catch {
        // A commit made by another client, without our metadata: its count is unknown, taken as none.
      }
      track.committed = { offset: p.committedOffset, deliveries };
    }

    /**
     * Commits below the first unfinished message (with its delivery count). Coalesced per partition: while one commit
     * is on the wire, later requests share the next one, which reads the state as it is when it starts.
     */
    function advance(c: Consumer<string, string, string, string>, partition: number, track: PartitionTrack): Promise<void> {
      if (track.queued) return track.queued;
      const previous = track.commits;
      const next = previous.then(async () => {
        track.queued = undefined;
        let head: bigint | undefined;
        let last: bigint | undefined;
        for (const [offset, state] of track.inFlight) {
          last = offset;
          if (!state.done && head === undefined) head = offset;
        }
        if (last === undefined) return;
        head ??= last + 1n;
        for (const [offset, state] of track.inFlight) {
          if (offset >= head) break;
          if (state.done) track.inFlight.delete(offset);
        }
        const deliveries = track.inFlight.get(head)?.deliveries ?? 0;
        if (track.committed && track.committed.offset === head && track.committed.deliveries === deliveries) return;
        await commit(c, partition, head, deliveries);
        track.committed = { offset: head, deliveries };
      });
      track.queued = next;
      // One failed commit (a rebalance, the broker away) must not stop the later ones: they commit past it anyway.
      track.commits = next.catch(() => undefined);
      return next;
    }

    /** Parks the message with its reason; retried until it is written, since the offset may not move past it before. */
    async function deadLetter(gen: number, m: Msg, reason: string, deliveries: number): Promise<void> {
      for (;;) {
        try {
          await sendDeadLetter(m, reason, deliveries);
          return;
        } catch (err) {
          if (stopped || gen !== generation) throw err;
          options.logger?.warn({ err: reasonOf(err), topic, group: opts.group }, 'dead letter not written; retrying');
          await sleep(RESTART_MS);
        }
      }
    }

    async function sendDeadLetter(m: Msg, reason: string, deliveries: number): Promise<void> {
      await send([
        {
          topic: name + DEAD_LETTER_SUFFIX,
          key: m.key ?? '',
          value: m.value ?? '',
          headers: {
            group: opts.group,
            reason,
            deliveries: String(deliveries),
            original_id: `${m.partition}-${m.offset}`,
            dead_lettered_at: new Date().toISOString(),
          },
        },
      ]);
    }

    /** Hands one message to the handler until it succeeds, is poison, or has had its tries; then it may be committed. */
    async function handle(c: Consumer<string, string, string, string>, gen: number, m: Msg, track: PartitionTrack): Promise<void> {
      const id = `${m.partition}-${m.offset}`;
      const key = m.key ?? '';
      const state = track.inFlight.get(m.offset) as { deliveries: number; done: boolean };
      const previously = track.committed?.offset === m.offset ? track.committed.deliveries : 0;
      state.deliveries = previously;
      for (;;) {
        if (stopped || gen !== generation) return; // left for the partition's next owner, from the committed offset
        const deliveries = ++state.deliveries;
        if (deliveries > options.maxDeliveries) {
          // Handed out more often than allowed without an acknowledgement or a failure: its consumers died while
          // handling it. Not handled again (the same rule as the other adapters).
          await deadLetter(gen, m, `delivered ${deliveries} times without an acknowledgement`, deliveries);
          options.metrics?.deadLettered(topic, 'max_deliveries');
          break;
        }
        // The message at the committed offset carries its count in the commit before the handler sees it, when it may
        // have been handed out before: it is the first this consumer takes from the partition (its last owner may have
        // died holding it), or a retry. A message this consumer fetched itself while owning the partition is new: its
        // first delivery is not written ahead (a crash then costs it one extra delivery, counted from the next owner on).
        if (track.committed?.offset === m.offset && (deliveries > 1 || !track.started)) await advance(c, m.partition, track).catch(() => undefined);
        track.started = true;
        try {
          await opts.handler({ id, topic, key, payload: parseBody(m.value ?? undefined), deliveries });
          options.metrics?.consumed(topic);
          break;
        } catch (err) {
          options.metrics?.failed(topic);
          const poison = err instanceof PoisonMessageError;
          if (poison || deliveries >= options.maxDeliveries) {
            await deadLetter(gen, m, reasonOf(err), deliveries);
            options.metrics?.deadLettered(topic, poison ? 'poison' : 'max_deliveries');
            break;
          }
          // A short pause before the next try, so a failing dependency is not hammered in a tight loop.
          await sleep(Math.min(100 * deliveries, 1_000));
        }
      }
      state.done = true;
      // Not awaited: the tenant's next message need not wait for this commit (commits stay in order per partition,
      // and stop() waits for them); until it lands, a crash re-delivers this one (at-least-once).
      if (gen === generation && !stopped)
        advance(c, m.partition, track).catch((err) => options.logger?.warn({ err: reasonOf(err), topic, group: opts.group }, 'kafka offset not committed'));
    }

    function onMessage(c: Consumer<string, string, string, string>, m: Msg): void {
      const gen = generation;
      let track = tracks.get(m.partition);
      if (!track) {
        track = { inFlight: new Map(), keyTails: new Map(), commits: Promise.resolve() };
        const t = track;
        track.loaded = loadCommitted(c, m.partition, m.offset, t).catch((err) =>
          options.logger?.warn({ err: reasonOf(err), topic, group: opts.group }, 'kafka commit metadata unreadable; counting deliveries from 1'),
        );
        tracks.set(m.partition, track);
      }
      if (track.inFlight.has(m.offset)) return; // fetched again after a refresh while still in hand
      track.inFlight.set(m.offset, { deliveries: 0, done: false });
      const t = track;
      // Unordered: every message its own chain, so a batching handler gets a whole fetch at once.
      const key = opts.unordered ? `${m.offset}` : (m.key ?? '');
      inFlight++;
      if (inFlight >= concurrency) stream?.pause();
      const previous = t.keyTails.get(key) ?? Promise.resolve();
      const work = previous
        .then(() => t.loaded)
        .then(() => handle(c, gen, m, t))
        .catch((err) => {
          // A commit that failed (a rebalance, the broker away): the message comes again unless a later commit passes it.
          if (!stopped) options.logger?.warn({ err: reasonOf(err), topic, group: opts.group }, 'kafka offset not committed');
        })
        .finally(() => {
          inFlight--;
          running.delete(work);
          if (t.keyTails.get(key) === work) t.keyTails.delete(key);
          if (inFlight < concurrency && !stopped) stream?.resume();
        });
      t.keyTails.set(key, work);
      running.add(work);
    }

    async function start(): Promise<void> {
      const c = new Consumer<string, string, string, string>({
        ...base,
        clientId: `${options.clientId}-${opts.consumer}`,
        groupId: opts.group,
        deserializers: stringDeserializers,
        sessionTimeout: options.sessionTimeoutMs,
        heartbeatInterval: Math.max(100, Math.floor(options.sessionTimeoutMs / 4)),
        rebalanceTimeout: Math.max(options.sessionTimeoutMs, 10_000),
      });
      consumer = c;
      c.on('consumer:group:join', () => {
        // A new assignment: the stream starts again from the committed offsets, so in-hand tracks are stale.
        generation++;
        tracks = new Map();
      });
      try {
        // From the committed offset, or the earliest one for a new group: signals published before the group existed
        // are still delivered (as a Redis group created at id 0).
        const s = await c.consume({ topics: [name], autocommit: false, mode: 'committed', fallbackMode: 'earliest', maxWaitTime: 500 });
        stream = s;
        s.on('data', (m: Msg) => onMessage(c, m));
        s.on('error', (err: unknown) => {
          if (stopped || closed) return;
          options.logger?.warn({ err: describe(err).slice(0, 2000), topic, group: opts.group }, 'kafka consumer failed; restarting');
          void restart();
        });
      } catch (err) {
        await closeNow(c);
        throw err;
      }
    }

    /** A broker gone away ends the client's stream: drop this consumer and join again (nothing was committed for it). */
    function restart(): Promise<void> {
      restarting ??= (async () => {
        generation++;
        tracks = new Map();
        const old = consumer;
        consumer = undefined;
        stream = undefined;
        await closeNow(old);
        while (!stopped && !closed) {
          await sleep(RESTART_MS);
          try {
            await start();
            break;
          } catch (err) {
            options.logger?.warn({ err: reasonOf(err), topic, group: opts.group }, 'kafka consumer restart failed; retrying');
          }
        }
      })().finally(() => (restarting = undefined));
      return restarting;
    }

    await start();
    /** The group's lag on the topic: end offsets minus the group's commits, over every partition (whoever holds it). */
    async function groupLag(c: Consumer<string, string, string, string>): Promise<number> {
      const ends = (await c.listOffsets({ topics: [name] })).get(name) ?? [];
      const reply = (await groupApi(c, 'OffsetFetch', [[{ groupId: opts.group, memberId: null, memberEpoch: -1, topics: [{ name, partitionIndexes: ends.map((_, i) => i) }] }], false])) as OffsetFetchResult;
      const committed = new Map((reply.groups[0]?.topics[0]?.partitions ?? []).map((p) => [p.partitionIndex, p.committedOffset]));
      return ends.reduce((sum, end, i) => {
        const at = committed.get(i) ?? -1n;
        return sum + Number(end - (at >= 0n ? at : 0n) > 0n ? end - (at >= 0n ? at : 0n) : 0n);
      }, 0);
    }
    if (options.metrics) {
      lagTimer = setInterval(() => {
        if (!consumer) return;
        groupLag(consumer)
          .then((lag) => options.metrics?.lag(topic, opts.group, lag))
          .catch(() => undefined);
      }, LAG_REPORT_MS).unref();
    }

    const kill = async () => {
      stopped = true;
      clearInterval(lagTimer);
      // Leaving the group at once hands the partitions over; whatever was in hand is not committed and comes again.
      await closeNow(consumer);
    };
    closers.add(kill);
    return {
      async stop() {
        stream?.pause();
        await Promise.allSettled([...running]);
        await Promise.allSettled([...tracks.values()].map((t) => t.commits));
        await kill();
        closers.delete(kill);
      },
    };
  }

  const readerOf = () => new Consumer<string, string, string, string>({ ...base, clientId: `${options.clientId}-reader`, groupId: `mmm-dead-letter-reader-${crypto.randomUUID()}` });

  const bus: SignalBus = {
    kind: 'kafka',
    async publish(signals) {
      // One produce request for the batch (the client batches per partition leader); a failure fails the call and
      // the caller's retry may publish some again (at-least-once: consumers de-duplicate by signal_id).
      const messages = signals.flatMap((signal) => topicsFor(signal).map((topic) => ({ topic, key: signal.tenant_id, value: JSON.stringify(signal) })));
      if (!messages.length) return;
      await Promise.all([...new Set(messages.map((m) => m.topic))].map(ensureTopics));
      await send(messages.map((m) => ({ ...m, topic: topicOf(m.topic) })));
      for (const m of messages) options.metrics?.published(m.topic);
    },
    publishRaw,
    subscribe,
    async deadLetters(topic, limit = 100) {
      const name = topicOf(topic) + DEAD_LETTER_SUFFIX;
      await ensureTopic(name, 1);
      // Fetched by position without joining a group, so reading never moves anything (nor anyone's partitions).
      const reader = readerOf();
      try {
        const metadata = await reader.metadata({ topics: [name], forceUpdate: true });
        const info = metadata.topics.get(name);
        if (!info) return [];
        const out: DeadLetter[] = [];
        let offset = 0n;
        for (;;) {
          const response = await reader.fetch({
            node: info.partitions[0].leader,
            topics: [{ topicId: info.id, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1_048_576, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
            maxWaitTime: 0,
            minBytes: 0,
            maxBytes: 1_048_576,
          });
          const partition = response.responses[0]?.partitions[0];
          const batches = partition?.records ?? [];
          let got = 0;
          for (const batch of batches)
            for (const record of batch.records) {
              const at = batch.firstOffset + BigInt(record.offsetDelta);
              if (at < offset) continue;
              offset = at + 1n;
              got++;
              const headers = new Map(record.headers.map(([k, v]) => [k?.toString('utf8') ?? '', v?.toString('utf8') ?? '']));
              out.push({
                topic,
                group: headers.get('group') ?? '',
                key: record.key?.toString('utf8') ?? headers.get('tenant') ?? '',
                payload: parseBody(record.value?.toString('utf8')),
                reason: headers.get('reason') ?? '',
                deliveries: Number(headers.get('deliveries') ?? 0),
                original_id: headers.get('original_id') ?? '',
                dead_lettered_at: headers.get('dead_lettered_at') ?? '',
              });
              if (out.length >= limit) return out;
            }
          if (!got || (partition && offset >= partition.highWatermark)) return out;
        }
      } finally {
        await closeNow(reader);
      }
    },
    async ping() {
      admin ??= new Admin({ ...base, clientId: `${options.clientId}-admin` });
      await admin.metadata({ topics: [], forceUpdate: true });
    },
    async close() {
      closed = true;
      await Promise.allSettled([...closers].map((kill) => kill()));
      closers.clear();
      await Promise.allSettled([producer?.close(), admin?.close()]);
      producer = undefined;
      admin = undefined;
    },
  };
  return bus;
}

/** Closes a consumer at once (leaving its group, not waiting for its streams); never throws. */
async function closeNow(c: Consumer<string, string, string, string> | undefined): Promise<void> {
  if (!c) return;
  await callback<void>((cb) => c.close(true, cb)).catch(() => undefined);
}

function describe(err: unknown): string {
  const e = err as { message?: string; errors?: unknown[]; apiCode?: number; apiId?: string; response?: unknown };
  const inner = Array.isArray(e?.errors) ? e.errors.map(describe).join('; ') : '';
  return `${e?.message ?? String(err)} ${e?.apiId ?? ''} ${inner} ${e?.response ? JSON.stringify(e.response, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) : ''}`;
}
