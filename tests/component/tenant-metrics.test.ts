/**
 * Tenant metrics (FR-13) through HTTP against the real stack: decisions made through decide, outcomes recorded through
 * the outcome route (including "not useful"), counts aggregated in SQL, and every cell held to the tenant's minimum
 * group size from its UBI config. No actor id ever appears in the answer.
 */
import { useTestApp } from '../support/harness';
import { decide, decideBody, expectEnvelope, fieldsOf, newTenant, publishPlaybook, requestPlaybook, type TenantFixture } from './fixtures';

jest.setTimeout(120000);

const app = useTestApp();

const metricsPath = (fx: TenantFixture, query = '') => `/v1/mmm/tenants/${fx.tenant}/metrics${query}`;

async function decideFor(fx: TenantFixture, actorId: string, surface: string) {
  const res = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: actorId, surface }));
  if (res.status !== 200) throw new Error(`decide gave ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function outcome(fx: TenantFixture, decision: { decision_id: string; actions: Array<{ action_id: string }> }, body: Record<string, unknown>) {
  return app.request('POST', `/v1/mmm/decisions/${decision.decision_id}/outcomes`, { token: fx.service, body: { action_id: decision.actions[0].action_id, ...body } });
}

async function setMinGroupSize(fx: TenantFixture, n: number) {
  const res = await app.request('PUT', `/v1/ubi/tenants/${fx.tenant}/config`, { token: fx.admin, body: { min_group_size: n } });
  if (res.status !== 200) throw new Error(`PUT UBI config gave ${res.status}`);
}

/**
 * Minimum group size 3. Shown: 4 actors on ide, 3 on ci, 1 on pr; 3 more actors on ide are snoozed (suppressed).
 * Accepted by 3 actors, dismissed as not useful by 1.
 */
async function arrange() {
  const fx = newTenant(app, 'metrics');
  await setMinGroupSize(fx, 3);
  await publishPlaybook(app, fx.admin, requestPlaybook({ surfaces: ['ide', 'ci', 'pr'] }));
  const shown = [];
  for (const [actor, surface] of [['a1', 'ide'], ['a2', 'ide'], ['a3', 'ide'], ['a4', 'ide'], ['b1', 'ci'], ['b2', 'ci'], ['b3', 'ci'], ['c1', 'pr']]) shown.push(await decideFor(fx, actor, surface));
  for (const actor of ['s1', 's2', 's3']) {
    expect((await app.request('POST', `/v1/mmm/actors/${actor}/preferences/snooze`, { token: fx.actor(actor), body: { duration_minutes: 60 } })).status).toBe(200);
    expect((await decideFor(fx, actor, 'ide')).outcome).toBe('suppressed');
  }
  for (const d of shown.slice(0, 3)) expect((await outcome(fx, d, { outcome: 'accepted' })).status).toBe(201);
  const notUseful = await outcome(fx, shown[4], { outcome: 'dismissed', reason: 'not_useful' });
  expect(notUseful.status).toBe(201);
  expect(notUseful.body).toEqual(expect.objectContaining({ outcome: 'dismissed', reason: 'not_useful' }));
  return fx;
}

/** What arrange() makes, as the metrics must count it (latency aside). */
const EXPECTED = {
  min_group_size: 3,
  decisions: {
    total: 11,
    by_outcome: { shown: 8, suppressed: 3 },
    // pr covers one actor; ci (the smallest other cell) goes too, else total - ide - ci would give pr back.
    by_surface: { ide: 7 },
  },
  actions: { shown: 8, by_type: { mirror: 8 } },
  suppressed: { snoozed: 3 },
  // Dismissed and not useful cover one actor each.
  outcomes: { accepted: 3, dismissed: null, ignored: 0, snoozed: 0, not_useful: null, acceptance_rate: 0.375 },
  approvals: {},
  experiments: [],
  suppressed_cells: 4,
};

describe('tenant metrics: experiments', () => {
  it("when a tenant runs an experiment, then each arm's shown decisions and acceptance rate in the window are listed, an arm shown to fewer actors than the minimum group size left out and counted", async () => {
    const fx = newTenant(app, 'metrics-exp');
    await setMinGroupSize(fx, 3);
    const { playbook_id } = await publishPlaybook(app, fx.admin, requestPlaybook());
    const created = await app.request('POST', '/v1/mmm/experiments', {
      token: fx.admin,
      body: { name: 'Wording', playbook_id, arms: [{ arm_id: 'many', weight: 1 }, { arm_id: 'few', weight: 1, overrides: [{ action_index: 0, title: 'Other title' }] }] },
    });
    const id = created.body.experiment_id;
    expect((await app.request('POST', `/v1/mmm/experiments/${id}/activate`, { token: fx.admin })).status).toBe(200);
    // Actors are drawn by hash, one decision each: decide until the arms differ in size with the larger at 4 or more,
    // then set the minimum group size between them, so the smaller arm is left out and the larger listed.
    const byArm: Record<string, Array<{ decision_id: string; actions: Array<{ action_id: string }> }>> = { many: [], few: [] };
    for (let i = 0; i < 12 || byArm.many.length === byArm.few.length || Math.max(byArm.many.length, byArm.few.length) < 4; i++) {
      if (i > 200) throw new Error('the arms were not both drawn');
      const d = await decideFor(fx, `x${i}`, 'ide');
      byArm[(d.actions[0] as { experiment: { arm_id: string } }).experiment.arm_id].push(d);
    }
    const [large, small] = byArm.many.length > byArm.few.length ? ['many', 'few'] : ['few', 'many'];
    await setMinGroupSize(fx, byArm[small].length + 1);
    for (const d of byArm[large].slice(0, 3)) expect((await outcome(fx, d, { outcome: 'accepted' })).status).toBe(201);

    const res = await app.request('GET', metricsPath(fx), { token: fx.admin });

    expect(res.status).toBe(200);
    const listed = res.body.experiments.find((e: { experiment_id: string }) => e.experiment_id === id);
    const expected: Record<string, { arm_id: string; shown: number | null; acceptance_rate: number | null }> = {
      [large]: { arm_id: large, shown: byArm[large].length, acceptance_rate: Math.round((3 / byArm[large].length) * 10_000) / 10_000 },
      // Shown to fewer actors than the minimum group size: left out (and counted in suppressed_cells).
      [small]: { arm_id: small, shown: null, acceptance_rate: null },
    };
    expect(listed).toEqual({ experiment_id: id, status: 'active', arms: [expected.many, expected.few] });
    expect(res.body.suppressed_cells).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(res.body)).not.toMatch(/"x\d+"/);
  });
});

describe('tenant metrics', () => {
  let fx: TenantFixture;
  beforeAll(async () => {
    fx = await arrange();
  });

  it('when an admin reads the last 30 days, then the counts are the decisions and outcomes made, cells below the minimum group size left out and counted, and no actor id anywhere', async () => {
    const res = await app.request('GET', metricsPath(fx), { token: fx.admin });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...EXPECTED, tenant_id: fx.tenant, since: expect.any(String), until: expect.any(String), latency_ms: { p50: expect.any(Number), p95: expect.any(Number) } });
    expect(Date.parse(res.body.until) - Date.parse(res.body.since)).toBe(30 * 86_400_000);
    expect(res.body.latency_ms.p95).toBeGreaterThanOrEqual(res.body.latency_ms.p50);
    for (const actor of ['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'b3', 'c1', 's1', 's2', 's3', 'svc-ide']) expect(JSON.stringify(res.body)).not.toMatch(new RegExp(`\\b${actor}\\b`));
  });

  it('when the minimum group size is raised above the tenant\'s actors, then every count is left out, latency too', async () => {
    const big = await arrange();
    await setMinGroupSize(big, 20);

    const res = await app.request('GET', metricsPath(big), { token: big.admin });

    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.objectContaining({
      min_group_size: 20,
      decisions: { total: null, by_outcome: {}, by_surface: {} },
      actions: { shown: null, by_type: {} },
      suppressed: {},
      outcomes: { accepted: null, dismissed: null, ignored: 0, snoozed: 0, not_useful: null, acceptance_rate: null },
      latency_ms: { p50: null, p95: null },
    }));
    // total, 2 outcomes, 3 surfaces, shown, mirror, snoozed, accepted, dismissed, not useful, latency.
    expect(res.body.suppressed_cells).toBe(13);
  });

  it('when the window is before the decisions, then everything is zero and nothing is suppressed', async () => {
    const res = await app.request('GET', metricsPath(fx, '?since=2020-01-01T00:00:00Z&until=2020-02-01T00:00:00Z'), { token: fx.admin });

    expect(res.status).toBe(200);
    expect(res.body).toEqual(expect.objectContaining({
      since: '2020-01-01T00:00:00.000Z',
      until: '2020-02-01T00:00:00.000Z',
      decisions: { total: 0, by_outcome: {}, by_surface: {} },
      outcomes: { accepted: 0, dismissed: 0, ignored: 0, snoozed: 0, not_useful: 0, acceptance_rate: null },
      latency_ms: { p50: null, p95: null },
      suppressed_cells: 0,
    }));
  });

  it.each([
    ['?since=last-week', 'query.since'],
    ['?since=2026-02-30T00:00:00Z', 'query.since'],
    ['?since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z', 'query.until'],
    ['?since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z', 'query.since'],
    ['?actor_id=a1', 'query.actor_id'],
  ])('when the query is %s, then it is 400 naming %s', async (query, field) => {
    const res = await app.request('GET', metricsPath(fx, query), { token: fx.admin });

    expect(res.status).toBe(400);
    expectEnvelope(res.body);
    expect(fieldsOf(res.body)).toEqual([field]);
  });

  it("when a service, an actor or another tenant's admin asks, then it is 403; mmm_admin of the tenant reads it", async () => {
    const other = newTenant(app, 'metrics-other');

    const statuses = await Promise.all([fx.service, fx.actor('a1'), other.admin, app.token({ tenant_id: fx.tenant, sub: 'ops', roles: ['mmm_admin'] })].map(async (token) => (await app.request('GET', metricsPath(fx), { token })).status));

    expect(statuses).toEqual([403, 403, 403, 200]);
  });
});

describe('closed days are rolled up', () => {
  const sql = (statement: string, replacements: Record<string, unknown>) => app.runtime.repos.sequelize.query(statement, { replacements });
  /** Moves the tenant's decisions and outcomes `days` back, as if they had been made then. */
  const shiftBack = (fx: TenantFixture, days: number) =>
    Promise.all([
      sql(`UPDATE decisions SET created_at = created_at - make_interval(days => :days) WHERE tenant_id = :t`, { t: fx.tenant, days }),
      sql(`UPDATE decision_outcomes SET recorded_at = recorded_at - make_interval(days => :days) WHERE tenant_id = :t`, { t: fx.tenant, days }),
    ]);
  const read = async (fx: TenantFixture, query = '') => {
    const res = await app.request('GET', metricsPath(fx, query), { token: fx.admin });
    if (res.status !== 200) throw new Error(`metrics gave ${res.status}: ${JSON.stringify(res.body)}`);
    const { since: _s, until: _u, ...counts } = res.body;
    return counts;
  };

  it('when the decisions lie in closed days, then the rolled-up answer counts them as the raw rows do, read twice, and a window starting inside their day reads it from hour rollups and raw rows', async () => {
    const fx = await arrange();
    // Before any read: a day is rolled up once, when a read first covers it closed (nothing is ever stored in the past).
    await shiftBack(fx, 5);

    const rolled = await read(fx);
    const again = await read(fx);
    const since = new Date(Date.now() - 5 * 86_400_000 - 3_600_000).toISOString();
    const headRaw = await read(fx, `?since=${encodeURIComponent(since)}`);

    const { latency_ms: latency, tenant_id: _t, ...counts } = rolled;
    expect(counts).toEqual(EXPECTED);
    expect(latency.p95).toBeGreaterThanOrEqual(latency.p50);
    expect(again).toEqual(rolled);
    expect(headRaw).toEqual(rolled);
    const [units] = (await sql('SELECT unit, count(*)::int AS n FROM tenant_metrics_periods WHERE tenant_id = :t GROUP BY unit ORDER BY unit', { t: fx.tenant })) as [Array<{ unit: string; n: number }>, unknown];
    // 29 whole days, the hours at both ends of each window.
    expect(units.map((u) => u.unit)).toEqual(['day', 'hour']);
    expect(units[0].n).toBeGreaterThanOrEqual(29);
  });

  it('when the retention purge removes the decisions, then their rolled-up days go too and the metrics are empty', async () => {
    const fx = await arrange();
    await shiftBack(fx, 10);
    expect((await read(fx)).decisions.total).toBe(11);

    await app.runtime.repos.retention.purgeExpired(fx.tenant, new Date(Date.now() - 9 * 86_400_000));

    expect((await read(fx)).decisions).toEqual({ total: 0, by_outcome: {}, by_surface: {} });
  });
});

describe('the "not useful" outcome', () => {
  it('when a reason comes with an outcome other than dismissed, or is unknown, then it is 422 naming reason and nothing is stored', async () => {
    const fx = newTenant(app, 'not-useful');
    await publishPlaybook(app, fx.admin, requestPlaybook());
    const d = await decideFor(fx, 'alice', 'ide');

    const withAccepted = await outcome(fx, d, { outcome: 'accepted', reason: 'not_useful' });
    const unknown = await outcome(fx, d, { outcome: 'dismissed', reason: 'boring' });
    const plain = await outcome(fx, d, { outcome: 'dismissed' });

    expect([withAccepted.status, unknown.status]).toEqual([422, 422]);
    expect(fieldsOf(withAccepted.body)).toEqual(['reason']);
    expect(fieldsOf(unknown.body)).toEqual(['reason']);
    // Neither refused report was stored: the plain dismissal is the action's one outcome.
    expect(plain.status).toBe(201);
    expect(plain.body.reason).toBeNull();
  });

  it('when the IDE card is rendered, then it offers snooze and not useful next to dismiss, each naming the outcome body it posts', async () => {
    const fx = newTenant(app, 'card');
    await publishPlaybook(app, fx.admin, requestPlaybook());
    const d = await decideFor(fx, 'alice', 'ide');
    const buttons = d.actions[0].payload.rendered.ide.buttons;

    expect(buttons.map((b: { id: string }) => b.id)).toEqual(['dismiss', 'snooze', 'not_useful']);
    const notUseful = buttons.find((b: { id: string }) => b.id === 'not_useful');
    const res = await outcome(fx, d, notUseful.records);
    expect(res.status).toBe(201);
    expect(res.body).toEqual(expect.objectContaining({ outcome: 'dismissed', reason: 'not_useful' }));
  });
});
