import type Redis from 'ioredis';
import {
  DEAD_LETTER_SUFFIX,
  PoisonMessageError,
  parseBody,
  serialiseBody,
  topicsFor,
  reasonOf,
  type BusMessage,
  type BusOptions,
  type DeadLetter,
  type SignalBus,
  type SubscribeOptions,
  type Subscription,
} from './signal-bus';
import { sleep } from '../../lib/sleep';

export interface RedisBusOptions extends BusOptions {
  /**
   * Streams are trimmed towards about this many entries, but only of entries every group has acknowledged; past ten
   * times this, the oldest go even if unacknowledged, and are counted as lost.
   */
  maxLen: number;
  /** A message pending (delivered, not acknowledged) this long is claimed by another consumer (`XAUTOCLAIM`). */
  claimIdleMs: number;
  /** How long one `XREADGROUP` blocks waiting for new messages. */
  blockMs: number;
  logger?: { warn(obj: object, msg: string): void };
}

export interface RedisBusDeps {
  /**
   * A new connection. The bus opens one for commands and one per subscription: a blocking `XREADGROUP` holds its
   * connection for up to `blockMs`, so it cannot share the runtime's fast-failing fatigue connection.
   */
  connect(purpose: string): Redis;
}

type Fields = string[];
type StreamEntry = [id: string, fields: Fields | null];

const LAG_REPORT_MS = 2_000;
const TRIM_EVERY_MS = 1_000;
const HARD_CAP_FACTOR = 10;

/** Stream ids are `<ms>-<seq>`; compared as numbers, not as text. */
function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am === bm ? (as === bs ? 0 : as < bs ? -1 : 1) : am < bm ? -1 : 1;
}

function nextId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq ?? '0') + 1n}`;
}

function field(fields: Fields, name: string): string | undefined {
  for (let i = 0; i < fields.length - 1; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * Redis Streams: one stream per topic, each entry tagged with its tenant (`tenant` field), consumer groups for
 * at-least-once delivery. An entry is acknowledged (`XACK`) only after its handler succeeded; one whose consumer died
 * stays pending and is claimed by a live consumer after `claimIdleMs` (`XAUTOCLAIM`, which also counts deliveries);
 * after `maxDeliveries` failed tries, or at once when the handler calls it poison, it moves to `<topic>.dead_letter`
 * in one MULTI with its acknowledgement.
 */
export function createRedisSignalBus(deps: RedisBusDeps, options: RedisBusOptions): SignalBus {
  const commands = deps.connect('bus-commands');
  const subscriptions = new Set<{ kill(): void }>();
  const streamOf = (topic: string) => `${options.topicPrefix}${topic}`;

  // No MAXLEN on XADD: `MAXLEN ~` trims whatever is oldest, also entries delivered and not yet acknowledged (or not
  // yet delivered to a slow group), which would then be lost. Trimming is done by trim() instead.
  function xadd<T extends Pick<Redis, 'xadd'> | ReturnType<Redis['pipeline']>>(target: T, topic: string, key: string, body: string) {
    return target.xadd(streamOf(topic), '*', 'tenant', key, 'payload', body, 'published_at', new Date().toISOString());
  }

  const lastTrim = new Map<string, number>();
  /**
   * Trims a stream past maxLen, but only below the oldest entry some group still needs: its oldest pending entry, or
   * the first one it has not read yet. A stream without groups is trimmed by length (no group was promised anything
   * yet). Past the hard cap (10 x maxLen: a group that stopped acknowledging), the oldest go anyway and are counted.
   */
  async function trim(topic: string): Promise<void> {
    const stream = streamOf(topic);
    const now = Date.now();
    if (now - (lastTrim.get(stream) ?? 0) < TRIM_EVERY_MS) return;
    lastTrim.set(stream, now);
    const length = await commands.xlen(stream);
    if (length <= options.maxLen) return;
    const groups = ((await commands.xinfo('GROUPS', stream)) as Array<Array<string | number | null>>).map((g) => {
      const info = new Map<string, string | number | null>();
      for (let i = 0; i < g.length - 1; i += 2) info.set(String(g[i]), g[i + 1]);
      return info;
    });
    if (!groups.length) {
      await commands.xtrim(stream, 'MAXLEN', '~', options.maxLen);
      return;
    }
    let safe: string | undefined;
    for (const g of groups) {
      let needed: string;
      if (Number(g.get('pending') ?? 0) > 0) {
        const [, oldest] = (await commands.xpending(stream, String(g.get('name')))) as [number, string | null, string | null, unknown];
        needed = oldest ?? '0-0';
      } else needed = nextId(String(g.get('last-delivered-id') ?? '0-0'));
      if (!safe || compareIds(needed, safe) < 0) safe = needed;
    }
    // MINID ~ removes whole nodes below the id only: never an entry at or above it.
    if (safe) await commands.xtrim(stream, 'MINID', '~', safe);
    const hardCap = options.maxLen * HARD_CAP_FACTOR;
    if ((await commands.xlen(stream)) > hardCap) {
      const removed = Number(await commands.xtrim(stream, 'MAXLEN', hardCap));
      if (removed > 0) {
        options.metrics?.lost?.('redis', 'stream_over_hard_cap', removed);
        options.logger?.warn({ topic, removed, hardCap }, 'stream past its hard cap: unacknowledged entries trimmed');
      }
    }
  }
  // Awaited by the publisher (throttled, so nearly always at once): a stream never outgrows its publishers.
  const trimSoon = (topic: string) => trim(topic).catch((err) => options.logger?.warn({ err: reasonOf(err), topic }, 'stream trim failed'));

  async function deadLetter(topic: string, group: string, id: string, fields: Fields, reason: string, deliveries: number, poison: boolean) {
    const stream = streamOf(topic);
    const result = await commands
      .multi()
      .xadd(
        stream + DEAD_LETTER_SUFFIX, 'MAXLEN', '~', String(options.maxLen), '*',
        'tenant', field(fields, 'tenant') ?? '', 'payload', field(fields, 'payload') ?? '', 'group', group,
        'reason', reason, 'deliveries', String(deliveries), 'original_id', id, 'dead_lettered_at', new Date().toISOString(),
      )
      .xack(stream, group, id)
      .exec();
    const failed = result?.find(([err]) => err);
    if (!result || failed) throw failed?.[0] ?? new Error('dead-letter transaction was discarded');
    options.metrics?.deadLettered(topic, poison ? 'poison' : 'max_deliveries');
  }

  async function subscribe(topic: string, opts: SubscribeOptions): Promise<Subscription> {
    const stream = streamOf(topic);
    const concurrency = opts.concurrency ?? options.concurrency;
    const createGroup = async () => {
      try {
        // From id 0, not `$`: signals published before the engine's group existed are still delivered (at-least-once).
        await commands.xgroup('CREATE', stream, opts.group, '0', 'MKSTREAM');
      } catch (err) {
        if (!String((err as Error).message).startsWith('BUSYGROUP')) throw err;
      }
    };
    await createGroup();
    const reader = deps.connect(`bus-consumer:${opts.consumer}`);
    let stopped = false;
    let reading = false;
    // Ends a blocked read at once on stop: a command queued on a connection that is reconnecting when we disconnect it
    // is never settled by ioredis, so the read must not wait for it.
    let wake: () => void = () => undefined;
    const stopSignal = new Promise<null>((resolve) => (wake = () => resolve(null)));
    let claimCursor = '0-0';
    let lastLagReport = 0;

    async function handleOne(id: string, fields: Fields | null, deliveries: number): Promise<void> {
      if (!fields) {
        // Trimmed away while pending (only past the hard cap): nothing left to hand over; counted, then cleared.
        options.metrics?.lost?.('redis', 'trimmed_while_pending', 1);
        await commands.xack(stream, opts.group, id);
        return;
      }
      if (deliveries > options.maxDeliveries) {
        // Handed out more often than allowed without ever being acknowledged or failing: its consumers died while
        // handling it (a message that crashes the process). Not handled again (RabbitMQ's x-delivery-limit does the same).
        await deadLetter(topic, opts.group, id, fields, `delivered ${deliveries} times without an acknowledgement`, deliveries, false);
        return;
      }
      const message: BusMessage = { id, topic, key: field(fields, 'tenant') ?? '', payload: parseBody(field(fields, 'payload')), deliveries };
      try {
        await opts.handler(message);
      } catch (err) {
        options.metrics?.failed(topic);
        const poison = err instanceof PoisonMessageError;
        // Otherwise the entry stays pending: XAUTOCLAIM hands it out again after claimIdleMs (to us or another consumer).
        if (poison || deliveries >= options.maxDeliveries) await deadLetter(topic, opts.group, id, fields, reasonOf(err), deliveries, poison);
        return;
      }
      await commands.xack(stream, opts.group, id);
      options.metrics?.consumed(topic);
    }

    /**
     * Entries pending longer than claimIdleMs, with their delivery counts (XAUTOCLAIM has just counted this one), less
     * those of ours in flight when the claim was sent. An entry of ours still being handled past claimIdleMs (default
     * 30 s, beyond decide's own bounds) is not started a second time; XAUTOCLAIM has still counted it as a delivery, as
     * it would for another consumer. The set is taken before the claim: a handler that finishes while the claim is
     * answered leaves inFlight, yet XAUTOCLAIM took its entry before the XACK, so only the earlier set still knows it.
     */
    async function claim(room: number): Promise<Array<{ id: string; fields: Fields | null; deliveries: number }>> {
      const busy = new Set(inFlight.keys());
      const reply = (await commands.xautoclaim(stream, opts.group, opts.consumer, options.claimIdleMs, claimCursor, 'COUNT', room)) as [string, StreamEntry[], string[]?];
      claimCursor = reply[0];
      const entries = reply[1].filter((e): e is StreamEntry => Array.isArray(e));
      if (!entries.length) return [];
      const pending = (await commands.xpending(stream, opts.group, entries[0][0], entries[entries.length - 1][0], entries.length * 4, opts.consumer)) as Array<[string, string, number, number]>;
      const counts = new Map(pending.map(([id, , , n]) => [id, Number(n)]));
      return entries.filter(([id]) => !busy.has(id)).map(([id, fields]) => ({ id, fields, deliveries: counts.get(id) ?? options.maxDeliveries }));
    }

    async function read(room: number): Promise<Array<{ id: string; fields: Fields | null; deliveries: number }>> {
      reading = true;
      try {
        const pending = reader.xreadgroup('GROUP', opts.group, opts.consumer, 'COUNT', room, 'BLOCK', options.blockMs, 'STREAMS', stream, '>');
        pending.catch(() => undefined); // when the stop signal wins the race below
        const reply = (await Promise.race([pending, stopSignal])) as Array<[string, StreamEntry[]]> | null;
        return (reply?.[0]?.[1] ?? []).map(([id, fields]) => ({ id, fields, deliveries: 1 }));
      } finally {
        reading = false;
      }
    }

    async function reportLag(): Promise<void> {
      if (!options.metrics || Date.now() - lastLagReport < LAG_REPORT_MS) return;
      lastLagReport = Date.now();
      const groups = (await commands.xinfo('GROUPS', stream)) as Array<Array<string | number | null>>;
      for (const g of groups) {
        const info = new Map<string, string | number | null>();
        for (let i = 0; i < g.length - 1; i += 2) info.set(String(g[i]), g[i + 1]);
        if (info.get('name') !== opts.group) continue;
        // Not yet delivered (lag, null when Redis cannot tell) plus delivered and not yet acknowledged (pending).
        options.metrics.lag(topic, opts.group, Number(info.get('lag') ?? 0) + Number(info.get('pending') ?? 0));
      }
    }

    // A sliding window of at most `concurrency` handlers, keyed by entry id: the loop reads more as soon as half of the
    // window is free, instead of waiting for a whole batch's slowest message (a burst of 300 signals ran at the pace of
    // each batch's slowest decision). A failed acknowledgement (Redis away) surfaces in the loop, which then pauses as
    // before; the entry stays pending and is claimed again.
    const inFlight = new Map<string, Promise<void>>();
    const refill = Math.max(1, Math.floor(concurrency / 2));
    let failure: { err: unknown } | undefined;
    const loop = (async () => {
      while (!stopped) {
        try {
          if (failure) {
            const { err } = failure;
            failure = undefined;
            throw err;
          }
          const room = concurrency - inFlight.size;
          if (room < refill) {
            await Promise.race(inFlight.values());
            continue;
          }
          const claimed = await claim(room);
          const batch = claimed.length ? claimed : await read(room);
          for (const m of batch) {
            const running: Promise<void> = handleOne(m.id, m.fields, m.deliveries)
              .catch((err: unknown) => {
                failure ??= { err };
              })
              .finally(() => inFlight.delete(m.id));
            inFlight.set(m.id, running);
          }
          await reportLag();
        } catch (err) {
          if (stopped) break;
          // Redis away or a reply we did not expect: wait a little and carry on; nothing was acknowledged.
          options.logger?.warn({ err: reasonOf(err), topic, group: opts.group }, 'signal bus read failed; retrying');
          await sleep(1_000);
          // A Redis that came back without its data (no persistence, a fail-over) has lost the stream and the group.
          if (String((err as Error)?.message).startsWith('NOGROUP')) await createGroup().catch(() => undefined);
        }
      }
      // Handlers in flight finish (and acknowledge) before the subscription counts as stopped.
      await Promise.allSettled(inFlight.values());
    })();

    const handle = {
      kill() {
        stopped = true;
        wake();
        reader.disconnect();
      },
    };
    subscriptions.add(handle);
    return {
      async stop() {
        stopped = true;
        wake();
        // A read blocked waiting for new messages is cut short; what it might have received stays pending and is
        // claimed by a live consumer later. Handlers in flight finish and acknowledge first.
        if (reading) reader.disconnect();
        await loop;
        reader.disconnect();
        subscriptions.delete(handle);
      },
    };
  }

  const bus: SignalBus = {
    kind: 'redis',
    async publish(signals) {
      // One round trip for the batch; a failed entry fails the call, and the caller's retry may publish the others
      // again (at-least-once: consumers de-duplicate by signal_id).
      const pipeline = commands.pipeline();
      const topics: string[] = [];
      for (const signal of signals)
        for (const topic of topicsFor(signal)) {
          topics.push(topic);
          xadd(pipeline, topic, signal.tenant_id, JSON.stringify(signal));
        }
      if (!topics.length) return;
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([err]) => err);
      if (failed) throw failed[0];
      for (const topic of topics) options.metrics?.published(topic);
      for (const topic of new Set(topics)) await trimSoon(topic);
    },
    async publishRaw(topic, key, payload) {
      await xadd(commands, topic, key, serialiseBody(payload));
      options.metrics?.published(topic);
      await trimSoon(topic);
    },
    subscribe,
    async deadLetters(topic, limit = 100) {
      const entries = (await commands.xrange(streamOf(topic) + DEAD_LETTER_SUFFIX, '-', '+', 'COUNT', limit)) as StreamEntry[];
      return entries.map(([id, f]): DeadLetter => {
        const fields = f ?? [];
        return {
          topic,
          group: field(fields, 'group') ?? '',
          key: field(fields, 'tenant') ?? '',
          payload: parseBody(field(fields, 'payload')),
          reason: field(fields, 'reason') ?? '',
          deliveries: Number(field(fields, 'deliveries') ?? 0),
          original_id: field(fields, 'original_id') ?? id,
          dead_lettered_at: field(fields, 'dead_lettered_at') ?? '',
        };
      });
    },
    async ping() {
      await commands.ping();
    },
    async close() {
      for (const s of subscriptions) s.kill();
      subscriptions.clear();
      commands.disconnect();
    },
  };
  return bus;
}
