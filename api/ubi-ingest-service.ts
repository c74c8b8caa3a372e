import { DependencyUnavailableError } from '../domain/errors';
import { validateEvent, type UbiEvent } from '../domain/model/ubi-event';
import { EVENT_TYPE_RULES } from '../domain/ubi/privacy';
import type { UbiRepositories } from '../db/repositories/ubi-repositories';
import type { UbiMetrics } from '../observability/metrics';

export interface UbiIngestDeps {
  events: Pick<UbiRepositories['events'], 'insertBatch'>;
  metrics: Pick<UbiMetrics, 'eventsProcessed'>;
  /** Wakes the feature micro-batcher when it runs in this process. */
  onIngested(): void;
  schedules: { ensure(tenantId: string): Promise<unknown> };
}

export interface UbiIngestResult {
  accepted: number;
  duplicates: number;
  rejected: Array<{ index: number; reason: string; field: string }>;
  dropped: Array<{ index: number; fields: Array<{ field: string; reason: string }> }>;
}

/**
 * The one way UBI events come in, over HTTP (`POST /v1/ubi/events`) or from the bus (`ubi.events`): each event is
 * validated and privacy-filtered on its own, the valid ones stored in one statement (a repeated event_id counts once,
 * as a duplicate), and the rest rejected by index with a reason. Nothing is stored when the statement fails.
 */
export async function ingestUbiEvents(deps: UbiIngestDeps, tenantId: string, raws: readonly unknown[], nowMs = Date.now()): Promise<UbiIngestResult> {
  const ok: UbiEvent[] = [];
  const rejected: UbiIngestResult['rejected'] = [];
  const dropped: UbiIngestResult['dropped'] = [];
  const counts = new Map<string, number>();
  const count = (type: string, status: string, n = 1) => counts.set(`${type}\u0000${status}`, (counts.get(`${type}\u0000${status}`) ?? 0) + n);
  raws.forEach((raw, index) => {
    const v = validateEvent(raw, tenantId, nowMs);
    if (v.ok) {
      ok.push(v.event);
      if (v.dropped.length) dropped.push({ index, fields: v.dropped });
    } else {
      rejected.push({ index, reason: v.reason, field: v.field });
      const type = (raw as { event_type?: unknown })?.event_type;
      count(typeof type === 'string' && Object.hasOwn(EVENT_TYPE_RULES, type) ? type : 'invalid', 'rejected');
    }
  });
  let insertedIds: Set<string>;
  try {
    ({ insertedIds } = await deps.events.insertBatch(tenantId, ok));
  } catch (err) {
    // One statement per batch: when it fails nothing was stored, so the whole batch is safe to retry.
    deps.metrics.eventsProcessed.inc({ tenant_id: tenantId, event_type: 'all', status: 'store_unavailable' }, ok.length);
    throw new DependencyUnavailableError('postgres', 'the event store is unavailable: nothing was stored, retry the batch', { cause: err });
  }
  const seen = new Set<string>();
  let duplicates = 0;
  for (const e of ok) {
    const fresh = insertedIds.has(e.event_id) && !seen.has(e.event_id);
    seen.add(e.event_id);
    if (!fresh) duplicates++;
    count(e.event_type, fresh ? 'accepted' : 'duplicate');
  }
  for (const [k, n] of counts) {
    const [event_type, status] = k.split('\u0000');
    deps.metrics.eventsProcessed.inc({ tenant_id: tenantId, event_type, status }, n);
  }
  if (insertedIds.size) {
    deps.onIngested();
    void deps.schedules.ensure(tenantId);
  }
  return { accepted: ok.length, duplicates, rejected, dropped };
}
