/**
 * Experiments on playbooks through HTTP against the real stack (issue 9, FR-9): the routes and every bad input as a
 * 4xx naming the field, the audit log, one active experiment per playbook, then the decide path (arms, holdouts,
 * `experiment` on actions and receipts, `payload.why`), the Schedule's recompute and guardrails, and the behaviour
 * effect against the holdout.
 */
import { useTestApp } from '../support/harness';
import { expectEnvelope, fieldsOf, newTenant, publishPlaybook, requestPlaybook, type TenantFixture } from './fixtures';

jest.setTimeout(120000);

const app = useTestApp({ EXPERIMENT_RECOMPUTE_SECONDS: '1', EXPERIMENT_TRIGGER_OUTCOMES: '5' });

type AuditRow = { action: string; actor_sub: string; resource_type: string; resource_id: string; before: any; after: any };
const auditOf = async (tenant: string) => (await app.runtime.repos.audit.list(tenant)) as unknown as AuditRow[];

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
    expect(audit.every((r) => r.resource_id === id && r.actor_sub === 'admin-1')).toBe(true);
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
