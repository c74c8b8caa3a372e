/**
 * From a bus message to decide calls: the pure mapping (domain/behavioural-signal-mapping.ts) with known values, then
 * the consumer's handler (workers/signal-consumer.ts) over a fake decide service and fake playbook reader.
 */
import { PoisonMessageError, type BusMessage } from '../../activities/bus/signal-bus';
import { surfacesForSignal, toEngineSignal } from '../../domain/behavioural-signal-mapping';
import { ConflictError, DependencyUnavailableError } from '../../domain/errors';
import { behaviouralSignalSchema, BEHAVIOURAL_SIGNALS_TOPIC } from '../../domain/model/behavioural-signal';
import type { DecideRequest } from '../../domain/model/decision';
import { playbookInputSchema, type PublishedPlaybook } from '../../domain/model/playbook';
import { signalSchema } from '../../domain/model/signal';
import { createLogger } from '../../observability/logger';
import { createSignalHandler, signalIdempotencyKey } from '../../workers/signal-consumer';
import { behaviouralSignal } from '../support/bus-contract';

function playbook(id: string, triggers: unknown[], extra: Record<string, unknown> = {}): PublishedPlaybook {
  return {
    playbook_id: id,
    version: 1,
    definition: playbookInputSchema.parse({ name: id, category: 'c', triggers, actions: [{ type: 'mirror', title: 't', body: 'b' }], ...extra }),
  };
}

describe('toEngineSignal', () => {
  test('when a behavioural signal is mapped, then kind, severity, time and the scalar explanation land in the decide signal', () => {
    const b = behaviouralSignal({
      signal_id: 'sig-1',
      signal_type: 'review_turnaround_spike',
      severity: 'high',
      value: 42.5,
      score: 88,
      baseline: { mean: 12, spread: 3.5, samples: 28, source: 'team' },
      explanation: { direction: 'above', cold_start: 'warming', typical_low: 5, nested: { no: 1 }, list: [1, 2], 'bad key': 1, value: 'ignored' },
      created_at: '2026-11-24T01:00:00.000Z',
      window_start: '2026-11-24T00:00:00.000Z',
      window_end: '2026-11-24T01:00:00.000Z',
      config_version: 7,
    });
    const s = toEngineSignal(b);
    expect(s).toEqual({
      signal_id: 'sig-1',
      source: 'ubi',
      kind: 'review_turnaround_spike',
      severity: 'high',
      occurred_at: '2026-11-24T01:00:00.000Z',
      payload: {
        dimension: 'review_turnaround', value: 42.5, score: 88, baseline_mean: 12, baseline_spread: 3.5, baseline_samples: 28, baseline_source: 'team',
        window_start: '2026-11-24T00:00:00.000Z', window_end: '2026-11-24T01:00:00.000Z', config_version: 7,
        direction: 'above', cold_start: 'warming', typical_low: 5,
      },
    });
    expect(signalSchema.safeParse(s).success).toBe(true);
  });

  test('when the explanation has many keys, then the payload stays within the 32 keys decide accepts', () => {
    const explanation = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i]));
    const s = toEngineSignal(behaviouralSignal({ explanation }));
    expect(Object.keys(s.payload)).toHaveLength(32);
    expect(signalSchema.safeParse(s).success).toBe(true);
  });
});

describe('surfacesForSignal', () => {
  const signal = toEngineSignal(behaviouralSignal({ signal_type: 'ci_retry_burst', severity: 'medium', score: 60 }));

  test('when playbooks trigger on the kind, then their named surfaces are chosen, in surface order, and other kinds add none', () => {
    const playbooks = [
      playbook('a', [{ source: 'ubi', kind: 'ci_retry_burst', surfaces: ['pr', 'ci'] }]),
      playbook('b', [{ kind: 'ci_retry_burst', surfaces: ['ide'] }]),
      playbook('c', [{ kind: 'something_else', surfaces: ['alert'] }]),
    ];
    expect(surfacesForSignal(playbooks, { actor_type: 'human', signal }, ['ide'])).toEqual(['ide', 'ci', 'pr']);
  });

  test('when a trigger names no surfaces, then the configured defaults are used', () => {
    expect(surfacesForSignal([playbook('a', [{ kind: 'ci_retry_burst' }])], { actor_type: 'human', signal }, ['alert', 'ide'])).toEqual(['ide', 'alert']);
  });

  test('when severity, source, actor type or a condition rule the playbook out, then there is no surface to decide on', () => {
    const none = (p: PublishedPlaybook) => surfacesForSignal([p], { actor_type: 'human', signal }, ['ide']);
    expect(none(playbook('sev', [{ kind: 'ci_retry_burst', min_severity: 'high' }]))).toEqual([]);
    expect(none(playbook('src', [{ kind: 'ci_retry_burst', source: 'detection' }]))).toEqual([]);
    expect(none(playbook('agent', [{ kind: 'ci_retry_burst' }], { actor_types: ['ai_agent'] }))).toEqual([]);
    expect(none(playbook('cond', [{ kind: 'ci_retry_burst' }], { conditions: [{ field: 'signal.payload.score', op: 'gte', value: 70 }] }))).toEqual([]);
    expect(none(playbook('cond-ok', [{ kind: 'ci_retry_burst' }], { conditions: [{ field: 'signal.payload.score', op: 'gte', value: 50 }] }))).toEqual(['ide']);
  });
});

describe('the signal consumer handler', () => {
  const logger = createLogger('silent');
  function setup(playbooks: PublishedPlaybook[] | (() => PublishedPlaybook[]), decideImpl?: (r: DecideRequest) => Promise<void>, routingCacheMs?: number) {
    const calls: Array<{ request: DecideRequest; key: string | null }> = [];
    const lookups: string[] = [];
    const handler = createSignalHandler({
      playbooks: {
        publishedWithTrigger: async (tenantId, kind) => {
          lookups.push(`${tenantId}/${kind}`);
          return typeof playbooks === 'function' ? playbooks() : playbooks;
        },
      },
      ...(routingCacheMs !== undefined ? { routingCacheMs } : {}),
      decide: {
        async decide(request, opts) {
          calls.push({ request, key: opts.idempotencyKey });
          await decideImpl?.(request);
          return { decision: { decision_id: 'dec_1', actions: [] } as never, replayed: false };
        },
      },
      defaultSurfaces: ['ide'],
      logger,
    });
    return { handler, calls, lookups };
  }
  const message = (payload: unknown, key: string): BusMessage => ({ id: '1-0', topic: BEHAVIOURAL_SIGNALS_TOPIC, key, payload: JSON.parse(JSON.stringify(payload)), deliveries: 1 });

  test('when a valid signal arrives, then decide runs once per surface with a key derived from the signal id', async () => {
    const b = behaviouralSignal({ signal_type: 'ci_retry_burst', actor_type: 'ai_agent', actor_id: 'bot-7' });
    const { handler, calls } = setup([playbook('a', [{ kind: 'ci_retry_burst', surfaces: ['ci', 'pr'] }])]);
    await handler(message(b, b.tenant_id));
    expect(calls.map((c) => [c.request.surface, c.key])).toEqual([
      ['ci', signalIdempotencyKey(b.signal_id, 'ci')],
      ['pr', signalIdempotencyKey(b.signal_id, 'pr')],
    ]);
    expect(calls[0].request).toEqual(expect.objectContaining({ tenant_id: b.tenant_id, actor_id: 'bot-7', actor_type: 'ai_agent', signal: toEngineSignal(behaviouralSignalSchema.parse(b)) }));
  });

  test('when a burst of signals of one kind arrives, then their playbooks are read once for routing, and again after the cache time', async () => {
    let published = [playbook('a', [{ kind: 'ci_retry_burst', surfaces: ['ci'] }])];
    const { handler, calls, lookups } = setup(() => published, undefined, 200);
    const tenant = 't-burst';
    const burst = Array.from({ length: 20 }, () => behaviouralSignal({ signal_type: 'ci_retry_burst', tenant_id: tenant }));
    await Promise.all(burst.map((b) => handler(message(b, b.tenant_id))));
    const other = behaviouralSignal({ signal_type: 'ci_retry_burst', tenant_id: 't-other' });
    await handler(message(other, other.tenant_id));
    expect(calls).toHaveLength(21);
    expect(lookups).toEqual([`${tenant}/ci_retry_burst`, 't-other/ci_retry_burst']);
    // A playbook archived: within the cache time the old routing holds, after it the new one.
    published = [];
    const soon = behaviouralSignal({ signal_type: 'ci_retry_burst', tenant_id: tenant });
    await handler(message(soon, tenant));
    expect(calls).toHaveLength(22);
    await new Promise((r) => setTimeout(r, 250));
    const later = behaviouralSignal({ signal_type: 'ci_retry_burst', tenant_id: tenant });
    await handler(message(later, tenant));
    expect(calls).toHaveLength(22);
    expect(lookups.filter((l) => l === `${tenant}/ci_retry_burst`)).toHaveLength(2);
  });

  test('when the message is not a valid signal, then it is poison naming the field, and decide is not called', async () => {
    const { handler, calls } = setup([]);
    const bad = { ...behaviouralSignal(), value: 'lots' };
    await expect(handler(message(bad, bad.tenant_id))).rejects.toThrow(PoisonMessageError);
    await expect(handler(message(bad, bad.tenant_id))).rejects.toThrow(/invalid behavioural signal: value/);
    expect(calls).toEqual([]);
  });

  test('when decide refuses (4xx), then the message is poison; when decide is unavailable, then it is retried', async () => {
    const b = behaviouralSignal({ signal_type: 'ci_retry_burst' });
    const pbs = [playbook('a', [{ kind: 'ci_retry_burst' }])];
    const refused = setup(pbs, async () => {
      throw new ConflictError('idempotency_key_reused', 'used for another request');
    });
    await expect(refused.handler(message(b, b.tenant_id))).rejects.toThrow(PoisonMessageError);
    const down = setup(pbs, async () => {
      throw new DependencyUnavailableError('temporal', 'down');
    });
    const err = await down.handler(message(b, b.tenant_id)).catch((e) => e);
    expect(err).toBeInstanceOf(DependencyUnavailableError);
    expect(err).not.toBeInstanceOf(PoisonMessageError);
  });
});
