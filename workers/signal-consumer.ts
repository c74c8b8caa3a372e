import crypto from 'node:crypto';
import os from 'node:os';
import { PoisonMessageError, type BusMessage, type SignalBus, type Subscription } from '../activities/bus/signal-bus';
import type { DecideService } from '../api/decide-service';
import { surfacesForSignal, toEngineSignal } from '../domain/behavioural-signal-mapping';
import { AppError } from '../domain/errors';
import { BEHAVIOURAL_SIGNALS_TOPIC, behaviouralSignalSchema } from '../domain/model/behavioural-signal';
import type { Surface } from '../domain/model/common';
import { decideRequestSchema } from '../domain/model/decision';
import type { PublishedPlaybook } from '../domain/model/playbook';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { sleep } from '../lib/sleep';
import { createTtlCache } from '../lib/ttl-cache';
import { createDecidePrivacyFilter, type DecidePrivacyFilter } from '../lib/decide-privacy';
import { inConsumerSpan } from '../observability/trace-context';

export interface SignalConsumerDeps {
  bus: SignalBus;
  decide: Pick<DecideService, 'decide'>;
  /** The published playbooks with a trigger of this kind (db decision-context reader: one query). */
  playbooks: { publishedWithTrigger(tenantId: string, triggerKind: string): Promise<PublishedPlaybook[]> };
  /**
   * How long the consumer keeps a tenant's playbooks of one trigger kind for routing signals to surfaces (default
   * 1,000 ms): a burst of signals of one kind reads them once. The decision itself always reads them fresh, so a
   * playbook published or archived within this time only changes which surfaces are asked, for that long.
   */
  routingCacheMs?: number;
  group: string;
  /** Unique per process within the group; defaults to host and pid. */
  consumer?: string;
  defaultSurfaces: readonly Surface[];
  metrics?: Pick<Metrics, 'signalDecisions'>;
  logger: Logger;
  /** The decide request's privacy filter (ADR 0013); the same one as POST /v1/mmm/decide. */
  privacy?: DecidePrivacyFilter;
}

/** The Idempotency-Key of the decision a signal makes on one surface: a re-delivered message replays it. */
export function signalIdempotencyKey(signalId: string, surface: Surface): string {
  return `ubi-signal:${signalId}:${surface}`;
}

function problems(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(message)'}: ${i.message}`)
    .join('; ');
}

/**
 * The engine listening (FR-1): consumes `ubi.behavioural_signals`, validates each message, maps it to the decide
 * request's `signal` and runs decide through the same service as `POST /v1/mmm/decide`, once per surface that a
 * playbook triggered by this signal kind names (ADR 0007). A message that can never succeed (it does not parse, its
 * tenant key does not match, a 4xx from decide) goes to the dead letter with the reason; a transient failure (Temporal,
 * PostgreSQL) is thrown so the bus re-delivers it. The Idempotency-Key derives from the signal id, so a message
 * delivered twice makes one decision per surface.
 */
export function createSignalHandler(deps: Omit<SignalConsumerDeps, 'bus' | 'group' | 'consumer'>) {
  const routing = createTtlCache<PublishedPlaybook[]>({ ttlMs: deps.routingCacheMs ?? 1_000, maxEntries: 1_000 });
  return (message: BusMessage): Promise<void> => inConsumerSpan(BEHAVIOURAL_SIGNALS_TOPIC, { 'messaging.message.id': message.id }, () => handle(message));

  async function handle(message: BusMessage): Promise<void> {
    const parsed = behaviouralSignalSchema.safeParse(message.payload);
    if (!parsed.success) throw new PoisonMessageError(`invalid behavioural signal: ${problems(parsed.error.issues)}`);
    const b = parsed.data;
    if (message.key !== b.tenant_id) throw new PoisonMessageError(`tenant key "${message.key}" does not match the signal's tenant_id "${b.tenant_id}"`);

    const signal = toEngineSignal(b);
    const playbooks = await routing.get(`${b.tenant_id}\u0000${signal.kind}`, () => deps.playbooks.publishedWithTrigger(b.tenant_id, signal.kind));
    const surfaces = surfacesForSignal(playbooks, { actor_type: b.actor_type, signal }, deps.defaultSurfaces);
    if (!surfaces.length) {
      deps.metrics?.signalDecisions.inc({ outcome: 'no_playbook' });
      deps.logger.debug({ tenant_id: b.tenant_id, signal_id: b.signal_id, kind: signal.kind }, 'no published playbook is triggered by this signal');
      return;
    }
    for (const surface of surfaces) {
      const request = decideRequestSchema.safeParse({ tenant_id: b.tenant_id, actor_id: b.actor_id, actor_type: b.actor_type, surface, signal });
      if (!request.success) throw new PoisonMessageError(`signal does not make a valid decide request: ${problems(request.error.issues)}`);
      try {
        const { request: filtered, droppedFields } = await (deps.privacy ?? createDecidePrivacyFilter())(request.data);
        const { decision, replayed } = await deps.decide.decide(filtered, {
          droppedFields,
          idempotencyKey: signalIdempotencyKey(b.signal_id, surface),
          actorRoles: [],
          receivedAtMs: Date.now(),
        });
        deps.metrics?.signalDecisions.inc({ outcome: replayed ? 'replayed' : 'decided' });
        deps.logger.info(
          { tenant_id: b.tenant_id, signal_id: b.signal_id, surface, decision_id: decision.decision_id, replayed, actions: decision.actions.length },
          'signal decided',
        );
      } catch (err) {
        // A 4xx will not change on a retry (e.g. the signal id was reused for another signal); 5xx and the rest may.
        if (err instanceof AppError && err.status < 500) throw new PoisonMessageError(`decide refused the signal: ${err.code}: ${err.message}`);
        throw err;
      }
    }
  }
}

const RESUBSCRIBE_MS = 2_000;

/**
 * Subscribes the handler to `ubi.behavioural_signals`. A bus that is down at start-up does not stop the process (decide
 * over HTTP does not need it): the consumer keeps trying in the background, and `ready` shows the bus down meanwhile.
 */
export async function startSignalConsumer(deps: SignalConsumerDeps): Promise<Subscription> {
  const subscribe = () =>
    deps.bus.subscribe(BEHAVIOURAL_SIGNALS_TOPIC, {
      group: deps.group,
      consumer: deps.consumer ?? `${os.hostname()}-${process.pid}-${crypto.randomUUID().slice(0, 8)}`,
      handler: createSignalHandler(deps),
    });
  try {
    return await subscribe();
  } catch (err) {
    deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'signal bus unavailable; the signal consumer keeps trying');
  }
  let stopped = false;
  let subscription: Subscription | undefined;
  const retrying = (async () => {
    while (!stopped && !subscription) {
      await sleep(RESUBSCRIBE_MS);
      if (stopped) return;
      subscription = await subscribe().catch(() => undefined);
    }
    if (subscription) deps.logger.info('signal consumer subscribed');
  })();
  return {
    async stop() {
      stopped = true;
      await retrying;
      await subscription?.stop();
    },
  };
}
