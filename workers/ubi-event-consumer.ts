import crypto from 'node:crypto';
import os from 'node:os';
import { PoisonMessageError, type BusMessage, type SignalBus, type Subscription } from '../activities/bus/signal-bus';
import { ingestUbiEvents, type UbiIngestDeps, type UbiIngestResult } from '../api/ubi-ingest-service';
import { UBI_EVENTS_TOPIC } from '../domain/model/ubi-event';
import type { Logger } from '../observability/logger';
import { sleep } from '../lib/sleep';

export interface UbiEventConsumerDeps {
  bus: SignalBus;
  ingest: UbiIngestDeps;
  group: string;
  /** Unique per process within the group; defaults to host and pid. */
  consumer?: string;
  /** Events per stored batch (one INSERT), as a POST of that many would be; a batch also closes after `lingerMs`. */
  batchSize: number;
  lingerMs: number;
  logger: Logger;
}

interface Waiting {
  raw: unknown;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Collects bus messages into per-tenant batches and stores each with the same use case as `POST /v1/ubi/events`
 * (validation, privacy filter, de-duplication by event_id). A message resolves only once its batch is committed, so
 * the bus acknowledges it after the event is stored; a rejected event becomes poison with the route's reason (the
 * dead letter, with it); a store that is down fails the whole batch, and the bus delivers it again.
 */
export function createUbiEventBatcher(deps: Pick<UbiEventConsumerDeps, 'ingest' | 'batchSize' | 'lingerMs'>) {
  const open = new Map<string, { items: Waiting[]; timer: NodeJS.Timeout }>();

  async function flush(tenant: string): Promise<void> {
    const batch = open.get(tenant);
    if (!batch) return;
    open.delete(tenant);
    clearTimeout(batch.timer);
    let result: UbiIngestResult;
    try {
      result = await ingestUbiEvents(deps.ingest, tenant, batch.items.map((w) => w.raw));
    } catch (err) {
      for (const w of batch.items) w.reject(err);
      return;
    }
    const rejected = new Map(result.rejected.map((r) => [r.index, r]));
    batch.items.forEach((w, index) => {
      const r = rejected.get(index);
      if (r) w.reject(new PoisonMessageError(`event rejected: ${r.reason} (${r.field})`));
      else w.resolve();
    });
  }

  return {
    handle(message: BusMessage): Promise<void> {
      const tenant = message.key;
      if (!tenant) return Promise.reject(new PoisonMessageError('event rejected: the message has no tenant key'));
      return new Promise<void>((resolve, reject) => {
        let batch = open.get(tenant);
        if (!batch) {
          batch = { items: [], timer: setTimeout(() => void flush(tenant), deps.lingerMs) };
          open.set(tenant, batch);
        }
        batch.items.push({ raw: message.payload, resolve, reject });
        if (batch.items.length >= deps.batchSize) void flush(tenant);
      });
    },
  };
}

const RESUBSCRIBE_MS = 2_000;

/**
 * UBI ingesting from `ubi.events` (CONTRACT.md "Buses"), on whichever bus BUS_TYPE names. Unordered, with four
 * batches in hand, so a busy topic fills whole batches; a bus down at start-up is retried in the background.
 */
export async function startUbiEventConsumer(deps: UbiEventConsumerDeps): Promise<Subscription> {
  const batcher = createUbiEventBatcher(deps);
  const subscribe = () =>
    deps.bus.subscribe(UBI_EVENTS_TOPIC, {
      group: deps.group,
      consumer: deps.consumer ?? `${os.hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`,
      handler: (m) => batcher.handle(m),
      // Four batches in hand: the next ones fill while earlier ones are being stored (one INSERT each).
      concurrency: deps.batchSize * 4,
      unordered: true,
    });
  try {
    return await subscribe();
  } catch (err) {
    deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'bus unavailable; the UBI event consumer keeps trying');
  }
  let stopped = false;
  let subscription: Subscription | undefined;
  const retrying = (async () => {
    while (!stopped && !subscription) {
      await sleep(RESUBSCRIBE_MS);
      if (stopped) return;
      subscription = await subscribe().catch(() => undefined);
    }
    if (subscription) deps.logger.info('UBI event consumer subscribed');
  })();
  return {
    async stop() {
      stopped = true;
      await retrying;
      await subscription?.stop();
    },
  };
}
