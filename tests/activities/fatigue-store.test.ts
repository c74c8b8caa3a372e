/**
 * The two FatigueStore implementations against the rule they both claim to implement (domain/fatigue.ts): the Redis
 * store against the suite's real redis-server, the memory store in process. Then the activities that wrap the store
 * and the context read, run in MockActivityEnvironment over fakes.
 */
import Redis from 'ioredis';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createContextActivities } from '../../activities/context/context-activities';
import { createFatigueActivities } from '../../activities/fatigue/fatigue-activities';
import type { FatigueStore } from '../../activities/fatigue/fatigue-store';
import { createMemoryFatigueStore } from '../../activities/fatigue/memory-fatigue-store';
import { createRedisFatigueStore } from '../../activities/fatigue/redis-fatigue-store';
import { emptyFatigueState, reserveNudges, type FatigueState, type FatigueVerdict, type ReserveRequest } from '../../domain/fatigue';
import { DEFAULT_TENANT_POLICY } from '../../domain/model/policy';
import { createFakeRepos, createFakeUnavailableFatigueStore, mirrorPlaybook, recentSignal } from '../support/fakes';
import { requireEnv, uniqueId } from '../support/harness';

const T0 = 1_700_000_000_000;

/** MockActivityEnvironment.run, keeping the activity's result type (run() itself infers `unknown`). */
function runActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(fn, ...args) as Promise<R>;
}
const MINUTE = 60_000;

let redis: Redis;
beforeAll(() => {
  redis = new Redis(requireEnv('TEST_REDIS_URL'), { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await redis?.quit();
});

/** The rule itself, plus the stores' idempotency contract: a decision that already reserved gets its verdicts back. */
function createDomainReference() {
  let state: FatigueState = emptyFatigueState();
  const answered = new Map<string, FatigueVerdict[]>();
  return (req: ReserveRequest): FatigueVerdict[] => {
    const prior = answered.get(req.decision_id);
    if (prior) return prior;
    const next = reserveNudges(state, req);
    state = next.state;
    answered.set(req.decision_id, next.verdicts);
    return next.verdicts;
  };
}

const c = (key: string, cooldown_ms = 0) => ({ key, cooldown_ms });

interface Step {
  req: Omit<ReserveRequest, 'window_ms'> & { window_ms?: number };
  expected: FatigueVerdict[];
}

const scenarios: Array<{ name: string; steps: Step[] }> = [
  {
    name: 'when candidates exceed max, then the first ones are granted and later ones and later decisions hit the limit',
    steps: [
      { req: { decision_id: 'd1', now: T0, max: 2, candidates: [c('a'), c('b'), c('c')] }, expected: ['granted', 'granted', 'fatigue_limit'] },
      { req: { decision_id: 'd2', now: T0 + 1, max: 2, candidates: [c('d')] }, expected: ['fatigue_limit'] },
    ],
  },
  {
    name: 'when a nudge is exactly window_ms old, then it has left the window; one ms earlier it still counts',
    steps: [
      { req: { decision_id: 'd1', now: T0, max: 1, candidates: [c('a')] }, expected: ['granted'] },
      { req: { decision_id: 'd2', now: T0 + 60 * MINUTE - 1, max: 1, candidates: [c('b')] }, expected: ['fatigue_limit'] },
      { req: { decision_id: 'd3', now: T0 + 60 * MINUTE, max: 1, candidates: [c('b')] }, expected: ['granted'] },
      { req: { decision_id: 'd4', now: T0 + 60 * MINUTE + 1, max: 1, candidates: [c('c')] }, expected: ['fatigue_limit'] },
    ],
  },
  {
    name: 'when a key is cooling down, then only that key is blocked, without using a slot, and a candidate without cool-down passes',
    steps: [
      { req: { decision_id: 'd1', now: T0, max: 10, candidates: [c('a', 10 * MINUTE)] }, expected: ['granted'] },
      { req: { decision_id: 'd2', now: T0 + 1000, max: 10, candidates: [c('a', 10 * MINUTE), c('b', 10 * MINUTE)] }, expected: ['cooldown', 'granted'] },
      { req: { decision_id: 'd3', now: T0 + 2000, max: 10, candidates: [c('b', 10 * MINUTE), c('a', 10 * MINUTE)] }, expected: ['cooldown', 'cooldown'] },
      { req: { decision_id: 'd4', now: T0 + 3000, max: 3, candidates: [c('a', 0), c('c', 10 * MINUTE)] }, expected: ['granted', 'fatigue_limit'] },
    ],
  },
  {
    name: 'when two candidates of one decision share a key, then the second is not blocked by the cool-down the first set',
    steps: [{ req: { decision_id: 'd1', now: T0, max: 3, candidates: [c('a', MINUTE), c('a', MINUTE)] }, expected: ['granted', 'granted'] }],
  },
  {
    name: 'when a decision is retried, then it gets the same verdicts and its slot and cool-down are reserved once',
    steps: [
      { req: { decision_id: 'd1', now: T0, max: 2, candidates: [c('a', 10 * MINUTE)] }, expected: ['granted'] },
      { req: { decision_id: 'd1', now: T0, max: 2, candidates: [c('a', 10 * MINUTE)] }, expected: ['granted'] },
      { req: { decision_id: 'd1', now: T0 + 500, max: 2, candidates: [c('a', 10 * MINUTE)] }, expected: ['granted'] },
      { req: { decision_id: 'd2', now: T0 + 1000, max: 2, candidates: [c('a', 10 * MINUTE), c('b'), c('c')] }, expected: ['cooldown', 'granted', 'fatigue_limit'] },
    ],
  },
  {
    name: 'when max is 0, then nothing is granted and nothing is recorded',
    steps: [
      { req: { decision_id: 'd1', now: T0, max: 0, candidates: [c('a', MINUTE), c('b')] }, expected: ['fatigue_limit', 'fatigue_limit'] },
      { req: { decision_id: 'd2', now: T0 + 1, max: 1, candidates: [c('a', MINUTE)] }, expected: ['granted'] },
    ],
  },
  {
    name: 'when there are no candidates, then there are no verdicts and nothing is recorded',
    steps: [
      { req: { decision_id: 'd1', now: T0, max: 1, candidates: [] }, expected: [] },
      { req: { decision_id: 'd2', now: T0 + 1, max: 1, candidates: [c('a')] }, expected: ['granted'] },
    ],
  },
];

describe('FatigueStore: Redis and memory against domain/fatigue.ts', () => {
  it.each(scenarios)('$name', async ({ steps }) => {
    const prefix = uniqueId('fat');
    const tenant = uniqueId('t');
    const stores: FatigueStore[] = [createRedisFatigueStore(redis, prefix), createMemoryFatigueStore()];
    const domain = createDomainReference();
    for (const step of steps) {
      const req: ReserveRequest = { window_ms: 60 * MINUTE, ...step.req };
      const [fromRedis, fromMemory] = await Promise.all(stores.map((s) => s.reserve(tenant, 'actor-1', req)));
      const fromDomain = domain(req);
      expect({ step: req.decision_id, fromRedis, fromMemory, fromDomain }).toEqual({
        step: req.decision_id,
        fromRedis: step.expected,
        fromMemory: step.expected,
        fromDomain: step.expected,
      });
    }
  });

  it('when nudges are reserved, then both stores and the rule report the same remaining budget, and a retry reports it again', async () => {
    const prefix = uniqueId('fat');
    const tenant = uniqueId('t');
    const stores: FatigueStore[] = [createRedisFatigueStore(redis, prefix), createMemoryFatigueStore()];
    const first: ReserveRequest = { decision_id: 'd1', now: T0, window_ms: 60 * MINUTE, max: 3, candidates: [c('a'), c('b')] };
    const second: ReserveRequest = { ...first, decision_id: 'd2', now: T0 + 1, candidates: [c('c'), c('d')] };
    for (const s of stores) {
      expect(await s.reserveWithBudget(tenant, 'actor-1', first)).toEqual({ verdicts: ['granted', 'granted'], remaining: 1 });
      expect(await s.reserveWithBudget(tenant, 'actor-1', second)).toEqual({ verdicts: ['granted', 'fatigue_limit'], remaining: 0 });
      expect(await s.reserveWithBudget(tenant, 'actor-1', first)).toEqual({ verdicts: ['granted', 'granted'], remaining: 1 });
    }
    expect(reserveNudges(emptyFatigueState(), first).remaining).toBe(1);
  });

  it('when a decision is retried, then the Redis nudge log holds its nudge once', async () => {
    const prefix = uniqueId('fat');
    const tenant = uniqueId('t');
    const store = createRedisFatigueStore(redis, prefix);
    const req: ReserveRequest = { decision_id: 'd1', now: T0, window_ms: 60 * MINUTE, max: 5, candidates: [c('a', MINUTE), c('b')] };
    await store.reserve(tenant, 'actor-1', req);
    await store.reserve(tenant, 'actor-1', req);
    expect(await redis.zcard(`${prefix}:fatigue:{${tenant}:actor-1}:nudges`)).toBe(2);
  });

  it('when actors or tenants differ, then their limits are independent', async () => {
    const prefix = uniqueId('fat');
    const store = createRedisFatigueStore(redis, prefix);
    const req: ReserveRequest = { decision_id: 'd1', now: T0, window_ms: 60 * MINUTE, max: 1, candidates: [c('a', MINUTE)] };
    const [t1, t2] = [uniqueId('t'), uniqueId('t')];
    expect(await store.reserve(t1, 'actor-1', req)).toEqual(['granted']);
    expect(await store.reserve(t1, 'actor-2', req)).toEqual(['granted']);
    expect(await store.reserve(t2, 'actor-1', req)).toEqual(['granted']);
  });

  it('when a short cool-down has really elapsed, then both stores and the rule grant the key again', async () => {
    // Redis expires cool-down keys on its own clock, so this case lets real time pass as well as `now` (see below).
    const prefix = uniqueId('fat');
    const tenant = uniqueId('t');
    const stores = [createRedisFatigueStore(redis, prefix), createMemoryFatigueStore()];
    const domain = createDomainReference();
    const start = Date.now();
    const first: ReserveRequest = { decision_id: 'd1', now: start, window_ms: 60 * MINUTE, max: 10, candidates: [c('a', 200)] };
    for (const s of stores) expect(await s.reserve(tenant, 'actor-1', first)).toEqual(['granted']);
    expect(domain(first)).toEqual(['granted']);
    await new Promise((r) => setTimeout(r, 300));
    const second: ReserveRequest = { ...first, decision_id: 'd2', now: start + 300 };
    for (const s of stores) expect(await s.reserve(tenant, 'actor-1', second)).toEqual(['granted']);
    expect(domain(second)).toEqual(['granted']);
  });

  // The Redis script judges a cool-down against the decision's `now`, like the rule, not against Redis's own clock.
  it('when the caller\'s now has passed a cool-down\'s end, then the Redis store grants the key like the rule', async () => {
    const prefix = uniqueId('fat');
    const tenant = uniqueId('t');
    const store = createRedisFatigueStore(redis, prefix);
    const first: ReserveRequest = { decision_id: 'd1', now: T0, window_ms: 60 * MINUTE, max: 10, candidates: [c('a', 10 * MINUTE)] };
    const second: ReserveRequest = { ...first, decision_id: 'd2', now: T0 + 10 * MINUTE };
    const domain = createDomainReference();
    expect(domain(first)).toEqual(['granted']);
    expect(domain(second)).toEqual(['granted']);
    await store.reserve(tenant, 'actor-1', first);
    expect(await store.reserve(tenant, 'actor-1', second)).toEqual(['granted']);
  });

  it('when 20 decisions for one actor reserve at once on several connections with max 3, then exactly 3 are granted', async () => {
    const prefix = uniqueId('fat');
    const tenant = uniqueId('t');
    const url = requireEnv('TEST_REDIS_URL');
    const connections = Array.from({ length: 5 }, () => new Redis(url, { maxRetriesPerRequest: 1 }));
    try {
      const stores = connections.map((conn) => createRedisFatigueStore(conn, prefix));
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          stores[i % stores.length].reserve(tenant, 'actor-1', {
            decision_id: `d${i}`,
            now: T0 + i,
            window_ms: 60 * MINUTE,
            max: 3,
            candidates: [c(`pb-${i}`, MINUTE)],
          }),
        ),
      );
      const verdicts = results.flat();
      expect(verdicts.filter((v) => v === 'granted')).toHaveLength(3);
      expect(verdicts.filter((v) => v === 'fatigue_limit')).toHaveLength(17);
      expect(await redis.zcard(`${prefix}:fatigue:{${tenant}:actor-1}:nudges`)).toBe(3);
    } finally {
      await Promise.all(connections.map((conn) => conn.quit()));
    }
  });
});

describe('reserveNudges activity', () => {
  it('when the fatigue store throws, then the activity returns available: false instead of failing', async () => {
    const store = createFakeUnavailableFatigueStore('redis down');
    const { reserveNudges: activity } = createFatigueActivities({ fatigueStore: store });
    const result = await runActivity(activity, {
      tenant_id: 't1',
      actor_id: 'a1',
      decision_id: 'd1',
      now: T0,
      window_ms: 60 * MINUTE,
      max: 3,
      candidates: [c('pb-a', MINUTE)],
    });
    expect(result).toEqual({ available: false, error: 'redis down' });
    expect(store.calls).toBe(1);
  });

  it('when the fatigue store answers, then the activity passes its verdicts and the remaining budget on for that tenant and actor', async () => {
    const store = createMemoryFatigueStore();
    const { reserveNudges: activity } = createFatigueActivities({ fatigueStore: store });
    const input = { tenant_id: 't1', actor_id: 'a1', decision_id: 'd1', now: T0, window_ms: 60 * MINUTE, max: 1, candidates: [c('pb-a'), c('pb-b')] };
    const result = await runActivity(activity, input);
    expect(result).toEqual({ available: true, verdicts: ['granted', 'fatigue_limit'], remaining: 0 });
    expect(await store.reserve('t1', 'a1', { ...input, decision_id: 'd2' })).toEqual(['fatigue_limit', 'fatigue_limit']);
  });
});

describe('loadDecisionContext activity', () => {
  function arrange() {
    const tenant = uniqueId('t');
    const repos = createFakeRepos();
    repos.setPolicy(tenant, { max_nudges_per_window: 5 });
    repos.setPreferences(tenant, 'a1', { preferred_surfaces: ['ide'] });
    repos.publishPlaybook(tenant, mirrorPlaybook('pb-1'));
    repos.addSignals(tenant, 'a1', [recentSignal('sig-1')]);
    return { tenant, repos };
  }

  it('when every source answers, then all is loaded and nothing is degraded', async () => {
    const { tenant, repos } = arrange();
    const { loadDecisionContext } = createContextActivities(repos);
    const ctx = await runActivity(loadDecisionContext, { tenant_id: tenant, actor_id: 'a1', trigger_kind: 'request' });
    expect(ctx.degraded_reasons).toEqual([]);
    expect(ctx.recent_signals.map((s) => s.signal_id)).toEqual(['sig-1']);
    expect(ctx.policy).toMatchObject({ tenant_id: tenant, max_nudges_per_window: 5 });
    expect(ctx.preferences).toMatchObject({ actor_id: 'a1', preferred_surfaces: ['ide'] });
    expect(ctx.playbooks.map((p) => p.playbook_id)).toEqual(['pb-1']);
  });

  it('when the UBI signal read rejects, then the context degrades with ubi_signals_unavailable and the rest is loaded', async () => {
    const { tenant, repos } = arrange();
    const { loadDecisionContext } = createContextActivities({ ...repos, signals: { recent: () => Promise.reject(new Error('ubi store down')) } });
    const ctx = await runActivity(loadDecisionContext, { tenant_id: tenant, actor_id: 'a1', trigger_kind: 'request' });
    expect(ctx.degraded_reasons).toEqual(['ubi_signals_unavailable']);
    expect(ctx.recent_signals).toEqual([]);
    expect(ctx.policy).toMatchObject({ tenant_id: tenant, max_nudges_per_window: 5, window_minutes: DEFAULT_TENANT_POLICY.window_minutes });
    expect(ctx.preferences).toMatchObject({ actor_id: 'a1', preferred_surfaces: ['ide'] });
    expect(ctx.playbooks.map((p) => p.playbook_id)).toEqual(['pb-1']);
  });

  it('when the UBI signal read hangs past its 1 s budget, then the context degrades after about a second and the rest is loaded', async () => {
    const { tenant, repos } = arrange();
    const { loadDecisionContext } = createContextActivities({ ...repos, signals: { recent: () => new Promise(() => {}) } });
    const started = Date.now();
    const ctx = await runActivity(loadDecisionContext, { tenant_id: tenant, actor_id: 'a1', trigger_kind: 'request' });
    const elapsed = Date.now() - started;
    expect(ctx.degraded_reasons).toEqual(['ubi_signals_unavailable']);
    expect(ctx.recent_signals).toEqual([]);
    expect(ctx.playbooks.map((p) => p.playbook_id)).toEqual(['pb-1']);
    expect(ctx.policy.tenant_id).toBe(tenant);
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(1900);
  });
});
