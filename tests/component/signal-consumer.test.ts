/**
 * The engine listening on the bus: a BehaviouralSignal published on `ubi.behavioural_signals` (by a separate
 * publisher, as UBI in another process would) → the running app's consumer → a decision for the playbook that signal
 * kind triggers, read back over HTTP. Real Redis Streams, PostgreSQL, Temporal and worker; the app's topics carry a
 * prefix of their own, so other test files' apps never take these messages.
 */
import Redis from 'ioredis';
import { createRedisSignalBus } from '../../activities/bus/redis-signal-bus';
import type { SignalBus } from '../../activities/bus/signal-bus';
import { BEHAVIOURAL_SIGNALS_TOPIC } from '../../domain/model/behavioural-signal';
import { behaviouralSignal, waitFor } from '../support/bus-contract';
import { requireEnv, uniqueId, useTestApp } from '../support/harness';
import { newTenant, publishPlaybook, type PlaybookBody, type TenantFixture } from './fixtures';

const PREFIX = `${uniqueId('consumer')}.`;
const app = useTestApp({ BUS_TYPE: 'redis', BUS_TOPIC_PREFIX: PREFIX, BUS_MAX_DELIVERIES: '3', BUS_CLAIM_IDLE_MS: '500', BUS_BLOCK_MS: '200' });

let publisher: SignalBus;
beforeAll(() => {
  publisher = createRedisSignalBus(
    {
      connect: () => {
        const r = new Redis(requireEnv('TEST_REDIS_URL'), { maxRetriesPerRequest: 1 });
        r.on('error', () => undefined);
        return r;
      },
    },
    { topicPrefix: PREFIX, maxDeliveries: 3, concurrency: 4, maxLen: 10_000, claimIdleMs: 500, blockMs: 200 },
  );
});
afterAll(async () => {
  await publisher?.close();
});

function reviewSpikePlaybook(over: Partial<PlaybookBody> = {}): PlaybookBody {
  return {
    name: 'Review turnaround mirror',
    category: 'review_health',
    triggers: [{ source: 'ubi', kind: 'review_turnaround_spike', min_severity: 'medium', surfaces: ['ide', 'pr'] }],
    conditions: [{ field: 'signal.payload.score', op: 'gte', value: 50 }],
    actions: [
      {
        type: 'mirror',
        title: 'Review turnaround',
        body: 'Reviews took {{signal.payload.value}} h this window; typically {{signal.payload.baseline_mean}} h.',
        surfaces: ['ide', 'pr'],
        cooldown_minutes: 0,
      },
    ],
    ...over,
  };
}

/** The decisions the consumer stored for a tenant (there is no list route; the ids then go over HTTP). */
async function storedDecisions(tenant: string): Promise<Array<{ decision_id: string; surface: string }>> {
  const [rows] = await app.runtime.repos.sequelize.query('SELECT decision_id, surface FROM decisions WHERE tenant_id = :tenant ORDER BY surface', {
    replacements: { tenant },
  });
  return rows as Array<{ decision_id: string; surface: string }>;
}

async function metric(name: string, labels: string): Promise<number> {
  const res = await app.request('GET', '/metrics');
  const line = String(res.body)
    .split('\n')
    .find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function deadLetterFor(predicate: (payload: any) => boolean) {
  return waitFor('the dead letter', async () => (await publisher.deadLetters(BEHAVIOURAL_SIGNALS_TOPIC, 1000)).find((l) => predicate(l.payload)));
}

describe('the engine consuming behavioural signals', () => {
  let fx: TenantFixture;
  beforeEach(() => {
    fx = newTenant(app, 'sig');
  });

  test('when a signal that a published playbook is triggered by arrives on the bus, then the engine decides on the surfaces that playbook names', async () => {
    const { playbook_id } = await publishPlaybook(app, fx.admin, reviewSpikePlaybook());
    const signal = behaviouralSignal({ tenant_id: fx.tenant, actor_id: 'alice', value: 42.5, baseline: { mean: 12, spread: 3.5, samples: 28, source: 'personal' } });
    await publisher.publish([signal]);

    const rows = await waitFor('two decisions', async () => {
      const r = await storedDecisions(fx.tenant);
      return r.length === 2 ? r : undefined;
    });
    expect(rows.map((r) => r.surface)).toEqual(['ide', 'pr']);
    for (const row of rows) {
      const res = await app.request('GET', `/v1/mmm/decisions/${row.decision_id}`, { token: fx.service });
      expect(res.status).toBe(200);
      expect(res.body.actor_id).toBe('alice');
      expect(res.body.actions).toEqual([
        expect.objectContaining({ type: 'mirror', playbook_id, payload: expect.objectContaining({ body: 'Reviews took 42.5 h this window; typically 12 h.' }) }),
      ]);
      expect(res.body.receipt.receipt_id).toBe(res.body.receipt_id);
    }
  });

  test('when the engine decides on a signal, then mmm_decisions_total, the latency histogram and the latency warnings count it as an HTTP decide would be', async () => {
    await publishPlaybook(app, fx.admin, reviewSpikePlaybook({ triggers: [{ source: 'ubi', kind: 'review_turnaround_spike', surfaces: ['ide'] }] }));
    const latencyBefore = await metric('mmm_decision_latency_seconds_count', 'surface="ide",outcome="shown"');
    await publisher.publish([behaviouralSignal({ tenant_id: fx.tenant, actor_id: 'alice' })]);
    const [row] = await waitFor('the decision', async () => {
      const r = await storedDecisions(fx.tenant);
      return r.length === 1 ? r : undefined;
    });
    const decision = (await app.request('GET', `/v1/mmm/decisions/${row.decision_id}`, { token: fx.service })).body;

    // Counted once the decide service has the decision, right after it is stored.
    await waitFor('the count', async () => (await metric('mmm_decisions_total', `tenant_id="${fx.tenant}",surface="ide",outcome="shown"`)) === 1);
    expect(await metric('mmm_decision_latency_seconds_count', 'surface="ide",outcome="shown"')).toBeGreaterThan(latencyBefore);
    const warnings = await metric('mmm_decision_latency_warning_total', 'surface="ide"');
    if (decision.latency_warning) expect(warnings).toBeGreaterThanOrEqual(1);
  });

  test('when the same signal is delivered twice, then it makes exactly one decision per surface', async () => {
    await publishPlaybook(app, fx.admin, reviewSpikePlaybook({ triggers: [{ source: 'ubi', kind: 'review_turnaround_spike', surfaces: ['ide'] }] }));
    const replayedBefore = await metric('mmm_signal_consumer_decisions_total', 'outcome="replayed"');
    const signal = behaviouralSignal({ tenant_id: fx.tenant });
    await publisher.publish([signal]);
    await waitFor('the first decision', async () => (await storedDecisions(fx.tenant)).length === 1);
    await publisher.publish([signal]);
    await waitFor('the second delivery, replayed', async () => (await metric('mmm_signal_consumer_decisions_total', 'outcome="replayed"')) > replayedBefore);
    expect(await storedDecisions(fx.tenant)).toHaveLength(1);
  });

  test('when an invalid message arrives, then it goes to the dead letter with the reason and the consumer keeps going', async () => {
    await publishPlaybook(app, fx.admin, reviewSpikePlaybook());
    const deadBefore = await metric('mmm_bus_messages_dead_lettered_total', `topic="${BEHAVIOURAL_SIGNALS_TOPIC}",reason="poison"`);
    const bad = { ...behaviouralSignal({ tenant_id: fx.tenant }), score: 250, severity: 'apocalyptic' };
    await publisher.publishRaw(BEHAVIOURAL_SIGNALS_TOPIC, fx.tenant, bad);
    await publisher.publishRaw(BEHAVIOURAL_SIGNALS_TOPIC, fx.tenant, 'this is not JSON');
    const good = behaviouralSignal({ tenant_id: fx.tenant });
    await publisher.publish([good]);

    const letter = await deadLetterFor((p) => p?.signal_id === bad.signal_id);
    expect(letter.reason).toMatch(/^invalid behavioural signal: .*severity/);
    expect(letter.reason).toMatch(/score/);
    expect(letter.deliveries).toBe(1);
    expect(letter.key).toBe(fx.tenant);
    const notJson = await deadLetterFor((p) => p === 'this is not JSON');
    expect(notJson.reason).toMatch(/^invalid behavioural signal/);
    await waitFor('the good signal decided', async () => (await storedDecisions(fx.tenant)).length === 2);
    expect(await metric('mmm_bus_messages_dead_lettered_total', `topic="${BEHAVIOURAL_SIGNALS_TOPIC}",reason="poison"`)).toBe(deadBefore + 2);
  });

  test("when a message's tenant key does not match the signal's tenant, then it is dead-lettered and decides nothing", async () => {
    await publishPlaybook(app, fx.admin, reviewSpikePlaybook());
    const other = newTenant(app, 'other');
    const signal = behaviouralSignal({ tenant_id: fx.tenant });
    await publisher.publishRaw(BEHAVIOURAL_SIGNALS_TOPIC, other.tenant, signal);
    const letter = await deadLetterFor((p) => p?.signal_id === signal.signal_id);
    expect(letter.reason).toContain('does not match');
    expect(await storedDecisions(fx.tenant)).toEqual([]);
  });

  test('when no published playbook is triggered by the signal kind, then nothing is decided and the message is acknowledged', async () => {
    await publishPlaybook(app, fx.admin, reviewSpikePlaybook());
    const before = await metric('mmm_signal_consumer_decisions_total', 'outcome="no_playbook"');
    await publisher.publish([behaviouralSignal({ tenant_id: fx.tenant, signal_type: 'ci_retry_burst', dimension: 'ci_retries' })]);
    await waitFor('the no-playbook outcome', async () => (await metric('mmm_signal_consumer_decisions_total', 'outcome="no_playbook"')) > before);
    expect(await storedDecisions(fx.tenant)).toEqual([]);
  });

  test('when ready is asked, then it reports the bus and its mode', async () => {
    const res = await app.request('GET', '/v1/mmm/ready');
    expect(res.body.dependencies).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'bus', status: 'up', required: false, mode: 'redis streams' })]));
  });
});
