/**
 * The whole loop with nothing in between played by a fake: developer-activity events over HTTP → features and
 * baselines → an anomaly → the signal stored and published on the real bus (Redis Streams) → the engine's own
 * consumer → a decision for the playbook that signal kind triggers, once, with the signal as its evidence.
 */
import { useTestApp } from '../support/harness';
import { waitFor } from '../support/bus-contract';
import { failingToday, ingestEvents, recompute, steadyHistory } from '../support/ubi-fakes';
import { newTenant, publishPlaybook } from './fixtures';

jest.setTimeout(90000);

const app = useTestApp({ BUS_TYPE: 'redis', BUS_BLOCK_MS: '200' });

async function decisionsOf(tenant: string): Promise<Array<{ decision_id: string; surface: string; outcome: string }>> {
  const [rows] = await app.runtime.repos.sequelize.query('SELECT decision_id, surface, outcome FROM decisions WHERE tenant_id = :tenant', { replacements: { tenant } });
  return rows as Array<{ decision_id: string; surface: string; outcome: string }>;
}

test('when an actor with a steady history fails every build today, then UBI publishes one signal and the engine decides on it once, on the surfaces its playbook names', async () => {
  const fx = newTenant(app);
  const dev = { tenant_id: fx.tenant, actor_id: 'dev-1', team_id: 'team-a' };
  await publishPlaybook(app, fx.admin, {
    name: 'Failing builds mirror',
    category: 'build_health',
    triggers: [{ source: 'ubi', kind: 'build_failure_rate_high', min_severity: 'low', surfaces: ['ide', 'ci'] }],
    actions: [{ type: 'mirror', title: 'Builds today', body: 'Most builds on {{repo_id}} failed today.', surfaces: ['ide', 'ci'], cooldown_minutes: 0 }],
  });
  await ingestEvents(app, fx.service, steadyHistory(dev));
  await app.runtime.ubi.batcher?.drain();
  await recompute(app, fx);
  expect(await decisionsOf(fx.tenant)).toEqual([]); // a steady history signals nothing

  await ingestEvents(app, fx.service, failingToday(dev));
  await app.runtime.ubi.batcher?.drain();
  const signals = (await app.request('GET', '/v1/ubi/signals?actor_id=dev-1', { token: fx.admin })).body.signals as any[];
  expect(signals.map((s) => s.signal_type)).toEqual(['build_failure_rate_high']);

  await waitFor('two decisions from the consumer', async () => (await decisionsOf(fx.tenant)).length === 2 || undefined, 20_000);
  const stored = await decisionsOf(fx.tenant);
  expect(stored.map((d) => d.surface).sort()).toEqual(['ci', 'ide']);
  for (const { decision_id } of stored) {
    const res = await app.request('GET', `/v1/mmm/decisions/${decision_id}`, { token: fx.service });
    expect(res.status).toBe(200);
    expect(res.body.actions).toHaveLength(1);
    expect(res.body.context.signal).toMatchObject({ signal_id: signals[0].signal_id, source: 'ubi', kind: 'build_failure_rate_high', severity: signals[0].severity });
    expect(res.body.context.recent_signals.map((r: any) => r.signal_id)).toContain(signals[0].signal_id);
  }

  // More failures in the same window: the same signal, not a new one, and so no new decision.
  await ingestEvents(app, fx.service, failingToday(dev, 2));
  await app.runtime.ubi.batcher?.drain();
  await new Promise((r) => setTimeout(r, 1000));
  expect(await decisionsOf(fx.tenant)).toHaveLength(2);
});
