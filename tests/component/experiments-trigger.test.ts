/**
 * "Sooner after enough new outcomes" (issue 9, ADR 0017): with the Schedule's interval at its longest (60 s), the
 * outcome that brings an experiment's pending count to EXPERIMENT_TRIGGER_OUTCOMES triggers the tenant's Schedule at
 * once. A triggered run is told apart from the interval's by its scheduled time, which is off the minute grid.
 */
import { experimentScheduleId } from '../../temporal/experiment-schedules';
import { useTestApp } from '../support/harness';
import { newTenant, publishPlaybook, requestPlaybook } from './fixtures';

jest.setTimeout(120000);

const app = useTestApp({ EXPERIMENT_RECOMPUTE_SECONDS: '60', EXPERIMENT_TRIGGER_OUTCOMES: '4' });

it('when the outcomes since the last recompute reach the threshold, then the Schedule runs at once (off the minute grid) and the weights are recomputed', async () => {
  const fx = newTenant(app, 'exp-trig');
  const { playbook_id } = await publishPlaybook(app, fx.admin, requestPlaybook());
  const created = await app.request('POST', '/v1/mmm/experiments', { token: fx.admin, body: { name: 'Trigger', playbook_id, strategy: 'thompson', burn_in: 1, arms: [{ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1 }] } });
  const id = created.body.experiment_id;
  const activated = await app.request('POST', `/v1/mmm/experiments/${id}/activate`, { token: fx.admin });
  expect(activated.status).toBe(200);
  const schedule = app.runtime.temporal.client.schedule.getHandle(experimentScheduleId(fx.tenant));
  const offGrid = async () => (await schedule.describe()).info.recentActions.filter((a) => a.scheduledAt.getTime() % 60_000 !== 0);
  expect((await schedule.describe()).spec.intervals).toEqual([expect.objectContaining({ every: 60_000 })]);

  const record = async (i: number) => {
    const d = await app.request('POST', '/v1/mmm/decide', { token: fx.service, body: { tenant_id: fx.tenant, actor_id: `t-${i}`, actor_type: 'human', surface: 'ide' } });
    const action = d.body.actions[0];
    const res = await app.request('POST', `/v1/mmm/decisions/${d.body.decision_id}/outcomes`, { token: fx.service, body: { action_id: action.action_id, outcome: action.experiment.arm_id === 'a' ? 'accepted' : 'ignored' } });
    expect(res.status).toBe(201);
  };
  for (let i = 0; i < 3; i++) await record(i);
  expect(await offGrid()).toEqual([]);

  await record(3);

  const deadline = Date.now() + 20_000;
  while ((await offGrid()).length === 0) {
    if (Date.now() > deadline) throw new Error('the Schedule was not triggered');
    await new Promise((r) => setTimeout(r, 200));
  }
  for (;;) {
    const body = (await app.request('GET', `/v1/mmm/experiments/${id}`, { token: fx.admin })).body;
    if (body.results.weights_updated_at !== activated.body.results.weights_updated_at) {
      expect(body.results.arms.every((a: { probability_best: number | null }) => a.probability_best !== null)).toBe(true);
      break;
    }
    if (Date.now() > deadline) throw new Error('the triggered run did not recompute the weights');
    await new Promise((r) => setTimeout(r, 200));
  }
  const [row] = await app.runtime.repos.sequelize.query<{ pending_outcomes: number }>('SELECT pending_outcomes FROM experiments WHERE experiment_id = :id', { replacements: { id }, type: 'SELECT' as never });
  expect(row.pending_outcomes).toBe(0);
});
