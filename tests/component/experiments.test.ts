/**
 * Experiments on playbooks through HTTP against the real stack (issue 9, FR-9): the routes and every bad input as a
 * 4xx naming the field, the audit log, one active experiment per playbook, then the decide path (arms, holdouts,
 * `experiment` on actions and receipts, `payload.why`), the Schedule's recompute and guardrails, and the behaviour
 * effect against the holdout.
 */
import { useTestApp } from '../support/harness';
import { buildDay, ingestEvents } from '../support/ubi-fakes';
import { expectEnvelope, fieldsOf, newTenant, publishPlaybook, requestPlaybook, type TenantFixture } from './fixtures';

jest.setTimeout(120000);

const app = useTestApp({ EXPERIMENT_RECOMPUTE_SECONDS: '1', EXPERIMENT_TRIGGER_OUTCOMES: '5' });

type AuditRow = { action: string; actor_id: string; resource_type: string; resource_id: string; before: any; after: any };
/** The tenant's audit log through its route, newest first; its hash chain must verify. */
async function auditOf(tenant: string): Promise<AuditRow[]> {
  const token = app.token({ tenant_id: tenant, sub: 'auditor', roles: ['tenant_admin'] });
  const res = await app.request('GET', `/v1/mmm/tenants/${tenant}/audit?limit=500`, { token });
  expect(res.status).toBe(200);
  expect(res.body.chain_ok).toBe(true);
  return res.body.entries;
}

const twoArms = (playbookId: string, over: Record<string, unknown> = {}) => ({
  name: 'Wording test',
  playbook_id: playbookId,
  arms: [
    { arm_id: 'control', weight: 1 },
    { arm_id: 'short', weight: 1, overrides: [{ action_index: 0, title: 'Short title', priority: 70 }] },
  ],
  ...over,
});

async function setUp(): Promise<{ fx: TenantFixture; playbookId: string }> {
  const fx = newTenant(app, 'exp');
  const { playbook_id } = await publishPlaybook(app, fx.admin, requestPlaybook());
  return { fx, playbookId: playbook_id };
}

const post = (fx: TenantFixture, path: string, body?: unknown) => app.request('POST', path, { token: fx.admin, body });

describe('experiment routes', () => {
  it('when an experiment is created, read, listed, edited, activated and deactivated, then each answer is what the contract says and each change is audited', async () => {
    const { fx, playbookId } = await setUp();

    const created = await post(fx, '/v1/mmm/experiments', twoArms(playbookId));
    expect(created.status).toBe(201);
    expect(created.body).toEqual(expect.objectContaining({
      experiment_id: expect.stringMatching(/^exp_/), tenant_id: fx.tenant, playbook_id: playbookId, status: 'draft', strategy: 'fixed', min_share: 0.01,
      metric: { kind: 'outcome', outcome: 'accepted' }, burn_in: 50, guardrails: null, created_at: expect.any(String), updated_at: expect.any(String),
    }));
    expect(created.body.results.arms.map((a: any) => [a.arm_id, a.assigned, a.shown, a.current_weight, a.probability_best, a.paused_reason])).toEqual([
      ['control', 0, 0, 0.5, null, null],
      ['short', 0, 0, 0.5, null, null],
    ]);
    const id = created.body.experiment_id;

    const edited = await app.request('PUT', `/v1/mmm/experiments/${id}`, { token: fx.admin, body: twoArms(playbookId, { name: 'Wording test 2', arms: [{ arm_id: 'control', weight: 3 }, { arm_id: 'short', weight: 1 }] }) });
    expect(edited.status).toBe(200);
    expect(edited.body.name).toBe('Wording test 2');
    expect(edited.body.results.arms.map((a: any) => a.current_weight)).toEqual([0.75, 0.25]);

    const active = await post(fx, `/v1/mmm/experiments/${id}/activate`);
    expect(active.status).toBe(200);
    expect(active.body.status).toBe('active');
    const again = await post(fx, `/v1/mmm/experiments/${id}/activate`);
    expect(again.status).toBe(409);
    expectEnvelope(again.body, 'experiment_state_conflict');
    const editActive = await app.request('PUT', `/v1/mmm/experiments/${id}`, { token: fx.admin, body: twoArms(playbookId) });
    expect(editActive.status).toBe(409);

    const list = await app.request('GET', '/v1/mmm/experiments?status=active', { token: fx.admin });
    expect(list.body.experiments.map((e: any) => e.experiment_id)).toEqual([id]);
    const one = await app.request('GET', `/v1/mmm/experiments/${id}`, { token: fx.admin });
    expect(one.body.status).toBe('active');

    const done = await post(fx, `/v1/mmm/experiments/${id}/deactivate`);
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('completed');
    expect((await post(fx, `/v1/mmm/experiments/${id}/activate`)).status).toBe(409);

    const audit = (await auditOf(fx.tenant)).filter((r) => r.resource_type === 'experiment');
    expect(audit.map((r) => r.action)).toEqual(['experiment.deactivate', 'experiment.activate', 'experiment.update', 'experiment.create']);
    expect(audit.every((r) => r.resource_id === id && r.actor_id === 'admin-1')).toBe(true);
    expect(audit[0].before.status).toBe('active');
    expect(audit[0].after.status).toBe('completed');
  });

  it('when a second experiment on the same playbook is activated, then it is 409 and the first stays active', async () => {
    const { fx, playbookId } = await setUp();
    const a = await post(fx, '/v1/mmm/experiments', twoArms(playbookId));
    const b = await post(fx, '/v1/mmm/experiments', twoArms(playbookId, { name: 'Second' }));
    expect((await post(fx, `/v1/mmm/experiments/${a.body.experiment_id}/activate`)).status).toBe(200);

    const second = await post(fx, `/v1/mmm/experiments/${b.body.experiment_id}/activate`);

    expect(second.status).toBe(409);
    expectEnvelope(second.body, 'experiment_already_active');
    expect((await app.request('GET', `/v1/mmm/experiments/${b.body.experiment_id}`, { token: fx.admin })).body.status).toBe('draft');
    expect((await app.request('GET', `/v1/mmm/experiments/${a.body.experiment_id}`, { token: fx.admin })).body.status).toBe('active');
  });

  it('when an experiment id is unknown, or another tenant asks for it, then it is 404 and 403', async () => {
    const { fx, playbookId } = await setUp();
    const other = newTenant(app, 'exp-other');
    const created = await post(fx, '/v1/mmm/experiments', twoArms(playbookId));

    const unknown = await app.request('GET', '/v1/mmm/experiments/exp_nope', { token: fx.admin });
    const foreign = await app.request('GET', `/v1/mmm/experiments/${created.body.experiment_id}`, { token: other.admin });
    const foreignActivate = await post(other, `/v1/mmm/experiments/${created.body.experiment_id}/activate`);

    expect(unknown.status).toBe(404);
    expectEnvelope(unknown.body, 'experiment_not_found');
    expect(foreign.status).toBe(403);
    expect(foreignActivate.status).toBe(403);
  });
});

describe('bad input is a 4xx naming the field, and writes nothing', () => {
  let fx: TenantFixture;
  let playbookId: string;
  let draftId: string;
  let unpublishedId: string;
  let mirrorAndMentorId: string;
  beforeAll(async () => {
    ({ fx, playbookId } = await setUp());
    const draft = await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook({}, { name: 'Never published' }) });
    unpublishedId = draft.body.playbook_id;
    const other = newTenant(app, 'exp-foreign');
    ({ playbook_id: draftId } = await publishPlaybook(app, other.admin, requestPlaybook()));
    ({ playbook_id: mirrorAndMentorId } = await publishPlaybook(app, fx.admin, requestPlaybook({}, {
      name: 'Two actions',
      actions: [
        { type: 'mirror', title: 'Recent activity', body: 'Activity on {{surface}} today.', cooldown_minutes: 0 },
        { type: 'mentor', title: 'A suggestion', body: 'Splitting the change may help.', cooldown_minutes: 0 },
      ],
    })));
  });

  const arms = (...list: Array<Record<string, unknown>>) => ({ arms: list });
  it.each<[string, (pb: { playbookId: string; unpublishedId: string; draftId: string; mirrorAndMentorId: string }) => Record<string, unknown>, number, string]>([
    ['fewer than 2 arms', (p) => twoArms(p.playbookId, arms({ arm_id: 'a', weight: 1 })), 422, 'arms'],
    ['more than 10 arms', (p) => twoArms(p.playbookId, { arms: Array.from({ length: 11 }, (_, i) => ({ arm_id: `a${i}`, weight: 1 })) }), 422, 'arms'],
    ['a negative weight', (p) => twoArms(p.playbookId, arms({ arm_id: 'a', weight: -0.5 }, { arm_id: 'b', weight: 1 })), 422, 'arms.0.weight'],
    ['an unknown playbook', () => twoArms('pb_missing'), 422, 'playbook_id'],
    ['an unpublished playbook', (p) => twoArms(p.unpublishedId), 422, 'playbook_id'],
    ["another tenant's playbook", (p) => twoArms(p.draftId), 422, 'playbook_id'],
    ['an override of an action index that does not exist', (p) => twoArms(p.playbookId, arms({ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1, overrides: [{ action_index: 3, title: 'x' }] })), 422, 'arms.1.overrides.0.action_index'],
    ['an unknown strategy', (p) => twoArms(p.playbookId, { strategy: 'epsilon_greedy' }), 422, 'strategy'],
    ['an unknown metric', (p) => twoArms(p.playbookId, { metric: { kind: 'revenue' } }), 422, 'metric.kind'],
    ['an unknown outcome metric', (p) => twoArms(p.playbookId, { metric: { kind: 'outcome', outcome: 'clicked' } }), 422, 'metric.outcome'],
    ['prescriptive mirror override text', (p) => twoArms(p.mirrorAndMentorId, arms({ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1, overrides: [{ action_index: 0, body: 'You should fix the build' }] })), 422, 'arms.1.overrides.0.body'],
    ['a mirror override with an exclamation mark', (p) => twoArms(p.mirrorAndMentorId, arms({ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1, overrides: [{ action_index: 0, title: 'Builds failed!' }] })), 422, 'arms.1.overrides.0.title'],
    ['an override surface that does not exist', (p) => twoArms(p.playbookId, arms({ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1, overrides: [{ action_index: 0, surfaces: ['email'] }] })), 422, 'arms.1.overrides.0.surfaces.0'],
    ['an unknown field', (p) => twoArms(p.playbookId, { colour: 'blue' }), 422, '(body)'],
  ])('when the body has %s, then it is refused', async (_what, body, status, field) => {
    const before = (await auditOf(fx.tenant)).length;

    const res = await post(fx, '/v1/mmm/experiments', body({ playbookId, unpublishedId, draftId, mirrorAndMentorId }));

    expect(res.status).toBe(status);
    expectEnvelope(res.body, 'validation_failed');
    if (field === '(body)') expect(JSON.stringify(res.body.error.details)).toContain('colour');
    else expect(fieldsOf(res.body)).toContain(field);
    expect((await auditOf(fx.tenant)).length).toBe(before);
    expect((await app.request('GET', '/v1/mmm/experiments', { token: fx.admin })).body.experiments).toEqual([]);
  });

  it('when a mentor action is overridden with advice, then it is accepted (only mirrors are held to the mirror rules)', async () => {
    const res = await post(fx, '/v1/mmm/experiments', twoArms(mirrorAndMentorId, arms({ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1, overrides: [{ action_index: 1, body: 'Consider splitting the change.' }] })));
    expect(res.status).toBe(201);
    await post(fx, `/v1/mmm/experiments/${res.body.experiment_id}/deactivate`);
  });

  it('when a PUT has bad input, then it is 422 naming the field and the draft is unchanged', async () => {
    const created = await post(fx, '/v1/mmm/experiments', twoArms(playbookId, { name: 'Kept' }));
    const res = await app.request('PUT', `/v1/mmm/experiments/${created.body.experiment_id}`, { token: fx.admin, body: twoArms(playbookId, { name: 'Changed', arms: [{ arm_id: 'a', weight: 1 }] }) });
    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toContain('arms');
    expect((await app.request('GET', `/v1/mmm/experiments/${created.body.experiment_id}`, { token: fx.admin })).body.name).toBe('Kept');
  });
});

const decideFor = (fx: TenantFixture, actorId: string, over: Record<string, unknown> = {}) =>
  app.request('POST', '/v1/mmm/decide', { token: fx.service, body: { tenant_id: fx.tenant, actor_id: actorId, actor_type: 'human', surface: 'ide', ...over } });
const actors = (n: number, prefix = 'dev') => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

async function activeExperiment(fx: TenantFixture, body: Record<string, unknown>): Promise<string> {
  const created = await post(fx, '/v1/mmm/experiments', body);
  if (created.status !== 201) throw new Error(`creating the experiment gave ${created.status}: ${JSON.stringify(created.body)}`);
  const activated = await post(fx, `/v1/mmm/experiments/${created.body.experiment_id}/activate`);
  if (activated.status !== 200) throw new Error(`activating gave ${activated.status}: ${JSON.stringify(activated.body)}`);
  return created.body.experiment_id;
}

const results = async (fx: TenantFixture, id: string) => (await app.request('GET', `/v1/mmm/experiments/${id}`, { token: fx.admin })).body;
const armOf = (body: any, arm: string) => body.results.arms.find((a: any) => a.arm_id === arm);

async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('experiments in the decision', () => {
  it('when a fixed experiment is active, then each action carries its arm (in the receipt too), the override arm shows its wording, an actor keeps its arm, and the results count it', async () => {
    const { fx, playbookId } = await setUp();
    const id = await activeExperiment(fx, twoArms(playbookId));

    const first = new Map<string, string>();
    const tally: Record<string, number> = { control: 0, short: 0 };
    const decideAndCheck = async (a: string) => {
      const res = await decideFor(fx, a);
      expect(res.status).toBe(200);
      expect(res.body.actions).toHaveLength(1);
      const action = res.body.actions[0];
      expect(action.experiment).toEqual({ experiment_id: id, arm_id: expect.stringMatching(/^(control|short)$/) });
      expect(action.payload.title).toBe(action.experiment.arm_id === 'short' ? 'Short title' : 'Recent activity');
      expect(action.priority).toBe(action.experiment.arm_id === 'short' ? 70 : 50);
      expect(action.payload.why.experiment).toEqual(action.experiment);
      tally[action.experiment.arm_id]++;
      return res.body;
    };
    for (const a of actors(30)) first.set(a, (await decideAndCheck(a)).actions[0].experiment.arm_id);
    // Both arms got actors, and each actor keeps its arm.
    expect(new Set(first.values())).toEqual(new Set(['control', 'short']));
    for (const a of actors(10)) expect((await decideAndCheck(a)).actions[0].experiment.arm_id).toBe(first.get(a));

    const one = await decideAndCheck('dev-3');
    const receipt = await app.request('GET', `/v1/mmm/receipts/${one.receipt_id}`, { token: fx.service });
    expect(receipt.body.payload.actions[0].experiment).toEqual({ experiment_id: id, arm_id: first.get('dev-3') });

    const r = await results(fx, id);
    for (const arm of ['control', 'short']) expect(armOf(r, arm)).toEqual(expect.objectContaining({ assigned: tally[arm], shown: tally[arm], accepted: 0, acceptance_rate: 0 }));
  });

  it('when every action carries why it was shown, then payload.why names the playbook, version, trigger, conditions, signal, arm and the remaining nudge budget', async () => {
    const fx = newTenant(app, 'exp-why');
    await app.request('PUT', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin, body: { max_nudges_per_window: 5, window_minutes: 60, cooldown_minutes: 0 } });
    const { playbook_id, version } = await publishPlaybook(app, fx.admin, {
      name: 'Builds', category: 'build_health',
      triggers: [{ source: 'ubi', kind: 'build_failures', min_severity: 'low' }],
      conditions: [{ field: 'signal.payload.failures', op: 'gte', value: 3 }],
      actions: [{ type: 'mirror', title: 'Build activity', body: 'Builds failed {{signal.payload.failures}} times today.', cooldown_minutes: 0 }],
    });
    const signal = { signal_id: 'sig-why-1', source: 'ubi', kind: 'build_failures', severity: 'medium', occurred_at: new Date().toISOString(), payload: { failures: 4 } };

    const first = await decideFor(fx, 'alice', { signal });
    const second = await decideFor(fx, 'alice', { signal: { ...signal, signal_id: 'sig-why-2' } });

    expect(first.body.actions[0].payload.why).toEqual({
      playbook_id, playbook_version: version,
      trigger: { source: 'ubi', kind: 'build_failures', min_severity: 'low' },
      conditions: [{ field: 'signal.payload.failures', op: 'gte', value: 3 }],
      signal_id: 'sig-why-1',
      experiment: null,
      nudge_budget: { remaining: 4, max: 5, window_minutes: 60 },
    });
    expect(second.body.actions[0].payload.why.nudge_budget.remaining).toBe(3);
    expect(second.body.actions[0].payload.why.signal_id).toBe('sig-why-2');
    const request = await decideFor(fx, 'bob');
    expect(request.body.actions).toEqual([]);
  });

  it('when the holdout arm is drawn, then nothing is shown, the playbook is suppressed as experiment_holdout (in the receipt too), and the results count it', async () => {
    const { fx, playbookId } = await setUp();
    const id = await activeExperiment(fx, { name: 'All holdout', playbook_id: playbookId, arms: [{ arm_id: 'hold', weight: 1, holdout: true }, { arm_id: 'treat', weight: 0 }] });

    const res = await decideFor(fx, 'carol');

    expect(res.status).toBe(200);
    expect(res.body.actions).toEqual([]);
    expect(res.body.outcome).toBe('suppressed');
    expect(res.body.suppressed).toEqual([expect.objectContaining({ playbook_id: playbookId, reason: 'experiment_holdout', experiment: { experiment_id: id, arm_id: 'hold' } })]);
    const receipt = await app.request('GET', `/v1/mmm/receipts/${res.body.receipt_id}`, { token: fx.service });
    expect(receipt.body.payload.suppressed).toEqual([expect.objectContaining({ reason: 'experiment_holdout', experiment: { experiment_id: id, arm_id: 'hold' } })]);
    expect(armOf(await results(fx, id), 'hold')).toEqual(expect.objectContaining({ assigned: 1, shown: 1, holdout: true }));
  });

  it('when preferences, quiet hours or fatigue forbid the playbook, then the experiment shows nothing they forbid and does not count the decision as shown', async () => {
    const { fx, playbookId } = await setUp();
    await app.request('PUT', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin, body: { max_nudges_per_window: 1, cooldown_minutes: 0 } });
    // Every actor on the override arm, which also widens the action's surfaces.
    const id = await activeExperiment(fx, { name: 'Wide', playbook_id: playbookId, arms: [{ arm_id: 'off', weight: 0 }, { arm_id: 'wide', weight: 1, overrides: [{ action_index: 0, surfaces: ['ide', 'pr', 'ci', 'alert'], priority: 90 }] }] });
    await app.request('PUT', '/v1/mmm/actors/opted/preferences', { token: fx.actor('opted'), body: { opt_out_categories: ['focus'] } });
    await app.request('PUT', '/v1/mmm/actors/elsewhere/preferences', { token: fx.actor('elsewhere'), body: { preferred_surfaces: ['ci'] } });

    const optedOut = await decideFor(fx, 'opted');
    const notPreferred = await decideFor(fx, 'elsewhere', { surface: 'pr' });
    const shown = await decideFor(fx, 'tired');
    const fatigued = await decideFor(fx, 'tired');

    expect(optedOut.body.actions).toEqual([]);
    expect(optedOut.body.suppressed.map((s: any) => s.reason)).toEqual(['opted_out']);
    expect(notPreferred.body.actions).toEqual([]);
    expect(notPreferred.body.suppressed.map((s: any) => s.reason)).toEqual(['surface_not_preferred']);
    expect(shown.body.actions[0].experiment.arm_id).toBe('wide');
    expect(fatigued.body.actions).toEqual([]);
    expect(fatigued.body.suppressed).toEqual([expect.objectContaining({ reason: 'fatigue_limit', experiment: { experiment_id: id, arm_id: 'wide' } })]);
    // Assigned: the two decisions that reached fatigue; shown: the one it granted.
    expect(armOf(await results(fx, id), 'wide')).toEqual(expect.objectContaining({ assigned: 2, shown: 1 }));
  });

  it('when enough outcomes arrive on a thompson experiment, then the Schedule runs at once and moves weight to the arm that is accepted, each arm keeping min_share', async () => {
    const fx = newTenant(app, 'exp-ts');
    const { playbook_id } = await publishPlaybook(app, fx.admin, requestPlaybook());
    const id = await activeExperiment(fx, {
      name: 'Bandit', playbook_id, strategy: 'thompson', burn_in: 5, min_share: 0.1,
      arms: [{ arm_id: 'good', weight: 1, overrides: [{ action_index: 0, title: 'Good title' }] }, { arm_id: 'bad', weight: 1 }],
    });
    const before = await results(fx, id);
    expect(before.results.arms.map((a: any) => a.current_weight)).toEqual([0.5, 0.5]);

    const shownBy: Record<string, number> = { good: 0, bad: 0 };
    // The Schedule runs every second here, so weights may move while this runs (bad keeps min_share: 10%).
    for (let i = 0; shownBy.good < 8 || shownBy.bad < 6; i++) {
      const res = await decideFor(fx, `ts-${i}`);
      const action = res.body.actions[0];
      shownBy[action.experiment.arm_id]++;
      const outcome = action.experiment.arm_id === 'good' ? 'accepted' : 'ignored';
      expect((await app.request('POST', `/v1/mmm/decisions/${res.body.decision_id}/outcomes`, { token: fx.service, body: { action_id: action.action_id, outcome } })).status).toBe(201);
      if (i > 400) throw new Error('the arms were not both drawn');
    }

    const after = await waitFor('the weights to move', () => results(fx, id), (b) => armOf(b, 'good').current_weight > 0.8);
    expect(armOf(after, 'bad').current_weight).toBeGreaterThanOrEqual(0.1);
    expect(armOf(after, 'good').probability_best).toBeGreaterThan(0.9);
    expect(armOf(after, 'good').acceptance_rate).toBe(1);
    expect(armOf(after, 'bad').acceptance_rate).toBe(0);
    expect(after.results.weights_updated_at).not.toBe(before.results.weights_updated_at);
  });

  it('when an arm passes its dismiss-rate guardrail, then the Schedule pauses it with the reason, audits it, and decisions stop drawing it', async () => {
    const fx = newTenant(app, 'exp-gr');
    const { playbook_id } = await publishPlaybook(app, fx.admin, requestPlaybook());
    const id = await activeExperiment(fx, {
      name: 'Guarded', playbook_id,
      arms: [{ arm_id: 'calm', weight: 1 }, { arm_id: 'loud', weight: 1, overrides: [{ action_index: 0, title: 'Loud title' }] }],
      guardrails: { max_dismiss_rate: 0.5, min_samples: 4 },
    });
    // Every loud decision is dismissed. The Schedule runs every second here, so it may pause the arm as soon as it has
    // min_samples shown: decide until then, each shown decision dismissed before the next is made.
    let loud = 0;
    for (let i = 0; loud < 4; i++) {
      if (i > 200) throw new Error('the loud arm was never drawn');
      const res = await decideFor(fx, `gr-${i}`);
      const action = res.body.actions[0];
      if (action.experiment.arm_id !== 'loud') continue;
      loud++;
      await app.request('POST', `/v1/mmm/decisions/${res.body.decision_id}/outcomes`, { token: fx.service, body: { action_id: action.action_id, outcome: 'dismissed' } });
    }

    const paused = await waitFor('the guardrail', () => results(fx, id), (b) => armOf(b, 'loud').paused_reason !== null);
    expect(armOf(paused, 'loud')).toEqual(expect.objectContaining({ current_weight: 0, shown: 4, dismissed: 4, paused_reason: 'dismiss rate 1 is above max_dismiss_rate 0.5 after 4 shown decisions', paused_at: expect.any(String) }));
    expect(armOf(paused, 'calm').current_weight).toBe(1);
    expect(paused.status).toBe('active');
    const audit = (await auditOf(fx.tenant)).filter((r) => r.action === 'experiment.arm_paused');
    expect(audit).toEqual([expect.objectContaining({ actor_id: 'system:experiment-guardrails', resource_id: id, after: { arm_id: 'loud', paused_reason: armOf(paused, 'loud').paused_reason } })]);
    for (let i = 0; i < 10; i++) expect((await decideFor(fx, `gr-${i}`)).body.actions[0].experiment.arm_id).toBe('calm');
  });

  it('when actors shown an arm opt out of its category past the threshold, then the arm and, with no other treated arm, the experiment pause', async () => {
    const fx = newTenant(app, 'exp-oo');
    const { playbook_id } = await publishPlaybook(app, fx.admin, requestPlaybook());
    const id = await activeExperiment(fx, {
      name: 'Opt-outs', playbook_id,
      arms: [{ arm_id: 'hold', weight: 1, holdout: true }, { arm_id: 'pushy', weight: 3 }],
      guardrails: { max_opt_out_rate: 0.2, min_samples: 3 },
    });
    const shown: string[] = [];
    for (let i = 0; shown.length < 4; i++) {
      const res = await decideFor(fx, `oo-${i}`);
      if (res.body.actions[0]?.experiment.arm_id === 'pushy') shown.push(`oo-${i}`);
    }
    for (const a of shown.slice(0, 2)) await app.request('PUT', `/v1/mmm/actors/${a}/preferences`, { token: fx.actor(a), body: { opt_out_categories: ['focus'] } });
    // An outcome only to nudge the Schedule sooner is not needed: it runs every second in this app.
    const paused = await waitFor('the opt-out guardrail', () => results(fx, id), (b) => b.status === 'paused');
    expect(armOf(paused, 'pushy').paused_reason).toBe('opt-out rate 0.5 is above max_opt_out_rate 0.2: 2 of 4 actors shown this arm opted out of the category');
    expect((await auditOf(fx.tenant)).map((r) => r.action)).toEqual(expect.arrayContaining(['experiment.arm_paused', 'experiment.paused']));
    // A paused experiment steers nothing: the playbook runs as published.
    const after = await decideFor(fx, 'oo-new');
    expect(after.body.actions).toHaveLength(1);
    expect(after.body.actions[0].experiment).toBeUndefined();
    expect(after.body.actions[0].payload.why.experiment).toBeNull();
  });
});

describe('the effect of nudging, against the holdout', () => {
  it('when a behaviour metric is measured, then effect compares each arm\'s UBI feature value window_days after the decision with the holdout\'s, with a Welch 95% interval', async () => {
    const fx = newTenant(app, 'exp-fx');
    const { playbook_id } = await publishPlaybook(app, fx.admin, requestPlaybook());
    const id = await activeExperiment(fx, {
      name: 'Effect', playbook_id,
      arms: [{ arm_id: 'hold', weight: 1, holdout: true }, { arm_id: 'nudge', weight: 1 }],
      metric: { kind: 'behaviour', feature: 'build_failure_rate', window_days: 3 },
    });
    const byArm: Record<string, string[]> = { hold: [], nudge: [] };
    for (let i = 0; byArm.hold.length < 4 || byArm.nudge.length < 4; i++) {
      const res = await decideFor(fx, `fx-${i}`);
      byArm[res.body.actions.length ? 'nudge' : 'hold'].push(`fx-${i}`);
      if (i > 100) throw new Error('both arms were not drawn');
    }
    // Time is arranged, not waited for: the decisions are moved 5 days back (their window of 3 days has ended), and
    // the actors' builds on the days after are ingested through the API. Nudged actors fail 1 build of 4 each day,
    // held-out actors 2 of 4 or 3 of 4 (alternately), so the difference is about −0.375.
    await app.runtime.repos.sequelize.query("UPDATE experiment_exposures SET created_at = created_at - interval '5 days' WHERE experiment_id = :id", { replacements: { id } });
    const events = [
      ...byArm.nudge.flatMap((a) => [4, 3, 2].flatMap((d) => buildDay({ tenant_id: fx.tenant, actor_id: a }, d, 4, 1))),
      ...byArm.hold.flatMap((a, i) => [4, 3, 2].flatMap((d) => buildDay({ tenant_id: fx.tenant, actor_id: a }, d, 4, i % 2 === 0 ? 2 : 3))),
    ];
    await ingestEvents(app, fx.service, events);
    await app.runtime.ubi.batcher?.drain();

    const effect = (await results(fx, id)).results.effect;

    expect(effect).toHaveLength(1);
    const e = effect[0];
    expect(e).toEqual(expect.objectContaining({ arm_id: 'nudge', feature: 'build_failure_rate', window_days: 3, arm_mean: 0.25, samples: { arm: byArm.nudge.length, holdout: byArm.hold.length } }));
    const holdMean = byArm.hold.reduce((s, _a, i) => s + (i % 2 === 0 ? 0.5 : 0.75), 0) / byArm.hold.length;
    expect(e.holdout_mean).toBeCloseTo(holdMean, 10);
    expect(e.difference).toBeCloseTo(0.25 - holdMean, 10);
    expect(e.interval.level).toBe(0.95);
    expect(e.interval.lower).toBeLessThan(e.difference);
    expect(e.interval.upper).toBeGreaterThan(e.difference);
    // The nudged arm has no spread: the interval is the holdout's spread alone, and excludes 0.
    expect(e.interval.upper).toBeLessThan(0);
  });
});
