/**
 * Redis (fatigue state) goes away while the API runs: decisions keep answering, fail safe (nothing shown, flagged
 * degraded, still receipted), and readiness reports Redis down without taking the API out of service.
 */
import { startRedisServer, type RedisServer } from '../../workers/embedded-redis';
import { useTestApp } from '../support/harness';
import { buildFailuresPlaybook, buildFailuresSignal, decide, decideBody, newTenant, publishPlaybook } from './fixtures';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer({});
});
afterAll(async () => {
  await redis?.stop();
});

// Its own redis-server, so stopping it breaks only this app.
const app = useTestApp(() => ({ REDIS_URL: redis.url }));

it('when Redis stops, then decisions show nothing, say why, still get a receipt, and ready stays 200 with redis down', async () => {
  const fx = newTenant(app);
  await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
  const before = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'a1', signal: buildFailuresSignal(4) }));
  expect(before.body.outcome).toBe('shown');

  await redis.stop();

  const during = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'a2', signal: buildFailuresSignal(4) }));
  expect(during.status).toBe(200);
  expect(during.body.outcome).toBe('suppressed');
  expect(during.body.actions).toEqual([]);
  expect(during.body.suppressed.map((s: { reason: string }) => s.reason)).toEqual(['fatigue_unavailable']);
  expect(during.body.degraded_mode).toBe(true);
  expect(during.body.degraded_reasons).toContain('fatigue_store_unavailable');
  expect(during.body.receipt_id).toMatch(/^rcpt_/);

  // A burst while Redis stays down: every decision answers, none shows anything (fail safe, not open), all receipted.
  const burst = await Promise.all(
    Array.from({ length: 10 }, (_, i) => decide(app, fx.service, decideBody(fx.tenant, { actor_id: `b${i}`, signal: buildFailuresSignal(4) }))),
  );
  expect(burst.map((r) => r.status)).toEqual(Array(10).fill(200));
  expect(burst.flatMap((r) => r.body.actions)).toEqual([]);
  expect(burst.every((r) => r.body.degraded_reasons.includes('fatigue_store_unavailable'))).toBe(true);
  expect(await app.runtime.repos.ledger.chain(fx.tenant)).toHaveLength(12);
  console.log(JSON.stringify({ fault: 'redis_stopped', decisions_during_outage: 11, actions_shown: 0, flagged_degraded: 11, receipts: 11 }));

  const ready = await app.request('GET', '/v1/mmm/ready');
  expect(ready.status).toBe(200);
  expect(ready.body.dependencies.find((d: { name: string }) => d.name === 'redis')).toMatchObject({ status: 'down', required: false });

  const metrics = await app.request('GET', '/metrics');
  expect(metrics.body).toMatch(/mmm_degraded_decisions_total\{reason="fatigue_store_unavailable"\} [1-9]/);
});
