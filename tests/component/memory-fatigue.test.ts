/**
 * The single-node fallback: with REDIS_MODE=memory (what `npm start` uses when no redis-server can be had), fatigue
 * still holds within the process, and readiness says plainly that it is single-node only.
 */
import { useTestApp } from '../support/harness';
import { buildFailuresPlaybook, buildFailuresSignal, decide, decideBody, newTenant, publishPlaybook, putPolicy } from './fixtures';

const app = useTestApp({ REDIS_MODE: 'memory' });

it('when fatigue is kept in process, then ready names the mode and the nudge limit still holds under concurrency', async () => {
  const ready = await app.request('GET', '/v1/mmm/ready');
  expect(ready.status).toBe(200);
  expect(ready.body.dependencies.find((d: { name: string }) => d.name === 'redis').mode).toMatch(/^memory \(single node only/);

  const fx = newTenant(app);
  await putPolicy(app, fx, { max_nudges_per_window: 2 });
  await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
  const results = await Promise.all(
    Array.from({ length: 10 }, () => decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'solo', signal: buildFailuresSignal(4) }))),
  );
  expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
  expect(results.filter((r) => r.body.outcome === 'shown')).toHaveLength(2);
  expect(results.filter((r) => r.body.suppressed.some((s: { reason: string }) => s.reason === 'fatigue_limit'))).toHaveLength(8);
});
