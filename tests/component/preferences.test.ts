/**
 * Quiet hours and actor preferences (opt-outs, snooze, preferred surfaces) as decisions see them, and who may read
 * and change preferences.
 */
import { useTestApp } from '../support/harness';
import { decide, decideBody, expectEnvelope, fieldsOf, newTenant, publishPlaybook, putPolicy, requestPlaybook, type TenantFixture } from './fixtures';

jest.setTimeout(60000);

const app = useTestApp();

/** HH:MM in UTC of now + offsetMinutes, wrapping around midnight (the product treats start > end as crossing it). */
function utcHhmm(offsetMinutes: number): string {
  const d = new Date(Date.now() + offsetMinutes * 60_000);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

function prefsPath(actorId: string): string {
  return `/v1/mmm/actors/${actorId}/preferences`;
}

async function putPrefs(fx: TenantFixture, actorId: string, prefs: Record<string, unknown>) {
  const res = await app.request('PUT', prefsPath(actorId), { token: fx.actor(actorId), body: prefs });
  expect(res.status).toBe(200);
  return res.body;
}

function reasons(body: { suppressed: Array<{ reason: string }> }): string[] {
  return body.suppressed.map((s) => s.reason);
}

describe('quiet hours', () => {
  it('when the tenant quiet hours cover the current UTC time, then the action is suppressed as quiet_hours and the context says so', async () => {
    const fx = newTenant(app);
    const quietHours = { start: utcHhmm(-60), end: utcHhmm(60), timezone: 'UTC' };
    await putPolicy(app, fx, { quiet_hours: quietHours });
    await publishPlaybook(app, fx.admin, requestPlaybook());

    const res = await decide(app, fx.service, decideBody(fx.tenant));

    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('suppressed');
    expect(reasons(res.body)).toEqual(['quiet_hours']);
    expect(res.body.context.in_quiet_hours).toBe(true);
    expect(res.body.context.quiet_hours).toEqual(quietHours);
    expect(res.body.context.timezone).toBe('UTC');
  });

  it("when the actor's own time zone puts them outside the tenant's quiet hours, then the action is shown", async () => {
    const fx = newTenant(app);
    await putPolicy(app, fx, { quiet_hours: { start: utcHhmm(-60), end: utcHhmm(60), timezone: 'UTC' } });
    await publishPlaybook(app, fx.admin, requestPlaybook());
    // Tokyo is UTC+9 all year: its wall clock is 8 hours past the end of the window.
    await putPrefs(fx, 'alice', { timezone: 'Asia/Tokyo' });

    const res = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }));
    const bob = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'bob' }));

    expect(res.body.outcome).toBe('shown');
    expect(res.body.context.in_quiet_hours).toBe(false);
    expect(res.body.context.timezone).toBe('Asia/Tokyo');
    expect(reasons(bob.body)).toEqual(['quiet_hours']);
  });

  it("when the window is not quiet in UTC but is on the actor's own wall clock, then the action is suppressed for that actor", async () => {
    const fx = newTenant(app);
    // Dubai is UTC+4 all year: its wall clock is inside [now+3h, now+5h).
    await putPolicy(app, fx, { quiet_hours: { start: utcHhmm(180), end: utcHhmm(300), timezone: 'UTC' } });
    await publishPlaybook(app, fx.admin, requestPlaybook());
    await putPrefs(fx, 'alice', { timezone: 'Asia/Dubai' });

    const alice = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }));
    const bob = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'bob' }));

    expect(reasons(alice.body)).toEqual(['quiet_hours']);
    expect(alice.body.context.in_quiet_hours).toBe(true);
    expect(bob.body.outcome).toBe('shown');
    expect(bob.body.context.in_quiet_hours).toBe(false);
  });
});

describe('opt-outs, snooze and preferred surfaces', () => {
  it("when the actor opted out of the playbook's category, then it is suppressed as opted_out while other categories still show", async () => {
    const fx = newTenant(app);
    const focus = await publishPlaybook(app, fx.admin, requestPlaybook({}, { category: 'focus' }));
    const reviews = await publishPlaybook(app, fx.admin, requestPlaybook({}, { name: 'Reviews', category: 'reviews' }));
    await putPrefs(fx, 'alice', { opt_out_categories: ['focus'] });

    const res = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }));

    expect(res.body.outcome).toBe('shown');
    expect(res.body.actions.map((a: { playbook_id: string }) => a.playbook_id)).toEqual([reviews.playbook_id]);
    expect(res.body.suppressed).toEqual([{ playbook_id: focus.playbook_id, playbook_version: 1, action_type: 'mirror', reason: 'opted_out' }]);
  });

  it("when an actor in one tenant opts out, then the same actor id in another tenant is unaffected", async () => {
    const a = newTenant(app);
    const b = newTenant(app);
    await publishPlaybook(app, a.admin, requestPlaybook());
    await publishPlaybook(app, b.admin, requestPlaybook());
    await putPrefs(a, 'alice', { opt_out_categories: ['focus'] });

    const inA = await decide(app, a.service, decideBody(a.tenant));
    const inB = await decide(app, b.service, decideBody(b.tenant));

    expect(reasons(inA.body)).toEqual(['opted_out']);
    expect(inB.body.outcome).toBe('shown');
  });

  it('when the actor snoozes for 30 minutes, then snooze_until is 30 minutes ahead and decisions are suppressed as snoozed', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook());
    const before = Date.now();

    const snooze = await app.request('POST', `${prefsPath('alice')}/snooze`, { token: fx.actor('alice'), body: { duration_minutes: 30 } });
    const res = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }));

    expect(snooze.status).toBe(200);
    const until = Date.parse(snooze.body.snooze_until);
    expect(until).toBeGreaterThanOrEqual(before + 30 * 60_000 - 1000);
    expect(until).toBeLessThanOrEqual(Date.now() + 30 * 60_000 + 1000);
    expect(res.body.outcome).toBe('suppressed');
    expect(reasons(res.body)).toEqual(['snoozed']);
  });

  it('when the actor snoozes until a time, then that time is stored and other preferences are kept', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook());
    await putPrefs(fx, 'alice', { opt_out_categories: ['reviews'], preferred_surfaces: ['ide'], timezone: 'Europe/Berlin' });
    const until = new Date(Date.now() + 2 * 60 * 60_000).toISOString();

    const snooze = await app.request('POST', `${prefsPath('alice')}/snooze`, { token: fx.actor('alice'), body: { until } });
    const res = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }));

    expect(snooze.status).toBe(200);
    expect(Date.parse(snooze.body.snooze_until)).toBe(Date.parse(until));
    expect(snooze.body).toEqual(
      expect.objectContaining({ opt_out_categories: ['reviews'], preferred_surfaces: ['ide'], timezone: 'Europe/Berlin', actor_id: 'alice', tenant_id: fx.tenant }),
    );
    expect(reasons(res.body)).toEqual(['snoozed']);
  });

  it('when snooze_until is in the past, then the actor is no longer snoozed', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook());
    await putPrefs(fx, 'alice', { snooze_until: new Date(Date.now() - 60_000).toISOString() });

    const res = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice' }));

    expect(res.body.outcome).toBe('shown');
  });

  it("when the actor prefers PR and the request comes from the IDE, then it is suppressed as surface_not_preferred", async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook({ surfaces: ['ide', 'pr', 'ci'] }));
    await putPrefs(fx, 'alice', { preferred_surfaces: ['pr'] });

    const res = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice', surface: 'ide' }));

    expect(res.body.outcome).toBe('suppressed');
    expect(reasons(res.body)).toEqual(['surface_not_preferred']);
  });

  it('when the actor prefers PR and the request comes from PR, then the action is shown on PR only', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook({ surfaces: ['ide', 'pr', 'ci'] }));
    await putPrefs(fx, 'alice', { preferred_surfaces: ['pr'] });

    const res = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'alice', surface: 'pr' }));

    expect(res.body.outcome).toBe('shown');
    expect(res.body.actions[0].surfaces).toEqual(['pr']);
    expect(Object.keys(res.body.actions[0].payload.rendered)).toEqual(['pr']);
  });
});

describe('GET/PUT /v1/mmm/actors/{actor_id}/preferences', () => {
  it('when an actor with no stored preferences reads them, then the defaults come back', async () => {
    const fx = newTenant(app);

    const res = await app.request('GET', prefsPath('alice'), { token: fx.actor('alice') });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      opt_out_categories: [],
      snooze_until: null,
      preferred_surfaces: [],
      timezone: null,
      tenant_id: fx.tenant,
      actor_id: 'alice',
      updated_at: null,
    });
  });

  it('when the actor writes their preferences, then reading them returns what was written', async () => {
    const fx = newTenant(app);
    const prefs = { opt_out_categories: ['focus'], preferred_surfaces: ['pr', 'ci'], timezone: 'America/New_York', snooze_until: null };

    const put = await app.request('PUT', prefsPath('alice'), { token: fx.actor('alice'), body: prefs });
    const get = await app.request('GET', prefsPath('alice'), { token: fx.actor('alice') });

    expect(put.status).toBe(200);
    expect(get.status).toBe(200);
    expect(get.body).toEqual({ ...prefs, tenant_id: fx.tenant, actor_id: 'alice', updated_at: expect.any(String) });
  });

  it("when another actor without an admin role reads, writes or snoozes someone's preferences, then each is 403 forbidden_actor", async () => {
    const fx = newTenant(app);
    const bob = fx.actor('bob');

    const get = await app.request('GET', prefsPath('alice'), { token: bob });
    const put = await app.request('PUT', prefsPath('alice'), { token: bob, body: { opt_out_categories: ['focus'] } });
    const snooze = await app.request('POST', `${prefsPath('alice')}/snooze`, { token: bob, body: { duration_minutes: 30 } });
    const asService = await app.request('GET', prefsPath('alice'), { token: fx.service });

    for (const res of [get, put, snooze, asService]) {
      expect(res.status).toBe(403);
      expectEnvelope(res.body, 'forbidden_actor');
    }
    const after = await app.request('GET', prefsPath('alice'), { token: fx.actor('alice') });
    expect(after.body.opt_out_categories).toEqual([]);
    expect(after.body.snooze_until).toBeNull();
  });

  it("when an admin of the tenant reads and writes an actor's preferences, then both succeed", async () => {
    const fx = newTenant(app);

    const put = await app.request('PUT', prefsPath('alice'), { token: fx.admin, body: { opt_out_categories: ['focus'] } });
    const get = await app.request('GET', prefsPath('alice'), { token: fx.admin });
    const snooze = await app.request('POST', `${prefsPath('alice')}/snooze`, { token: fx.admin, body: { duration_minutes: 5 } });

    expect(put.status).toBe(200);
    expect(get.status).toBe(200);
    expect(get.body.opt_out_categories).toEqual(['focus']);
    expect(snooze.status).toBe(200);
    expect(snooze.body.opt_out_categories).toEqual(['focus']);
  });

  it("when an admin changes an actor's preferences, then the audit log has it with before and after; the actor's own changes are not audited", async () => {
    const fx = newTenant(app);

    await app.request('PUT', prefsPath('alice'), { token: fx.actor('alice'), body: { opt_out_categories: ['focus'] } });
    const put = await app.request('PUT', prefsPath('alice'), { token: fx.admin, body: { opt_out_categories: ['focus', 'build_health'] } });

    expect(put.status).toBe(200);
    const rows = await app.runtime.repos.audit.list(fx.tenant);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'preferences.put', actor_id: 'admin-1', resource_type: 'preferences', resource_id: 'alice' });
    expect((rows[0].before as { opt_out_categories: string[] }).opt_out_categories).toEqual(['focus']);
    expect((rows[0].after as { opt_out_categories: string[] }).opt_out_categories).toEqual(['focus', 'build_health']);
  });

  it('when a snooze gives both duration_minutes and until, then it is 422 naming duration_minutes', async () => {
    const fx = newTenant(app);

    const res = await app.request('POST', `${prefsPath('alice')}/snooze`, {
      token: fx.actor('alice'),
      body: { duration_minutes: 30, until: new Date(Date.now() + 60_000).toISOString() },
    });

    expect(res.status).toBe(422);
    expectEnvelope(res.body, 'validation_failed');
    expect(fieldsOf(res.body)).toEqual(['duration_minutes']);
  });

  it('when a snooze gives neither duration_minutes nor until, then it is 422 naming duration_minutes', async () => {
    const fx = newTenant(app);

    const res = await app.request('POST', `${prefsPath('alice')}/snooze`, { token: fx.actor('alice'), body: {} });

    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toEqual(['duration_minutes']);
  });

  it.each([
    ['a negative duration', { duration_minutes: -5 }, 'duration_minutes'],
    ['a fractional duration', { duration_minutes: 1.5 }, 'duration_minutes'],
    ['an until that is not a date-time', { until: 'tomorrow' }, 'until'],
    ['an unknown field', { duration_minutes: 5, forever: true }, 'forever'],
  ])('when a snooze has %s, then it is 422 naming the field', async (_label, body, field) => {
    const fx = newTenant(app);

    const res = await app.request('POST', `${prefsPath('alice')}/snooze`, { token: fx.actor('alice'), body });

    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toContain(field);
  });

  it.each([
    ['an unknown surface', { preferred_surfaces: ['email'] }, 'preferred_surfaces.0'],
    ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, 'timezone'],
    ['a non-array opt-out list', { opt_out_categories: 'focus' }, 'opt_out_categories'],
    ['a snooze_until that is not a date-time', { snooze_until: 'soon' }, 'snooze_until'],
  ])('when preferences carry %s, then the PUT is 422 naming the field', async (_label, body, field) => {
    const fx = newTenant(app);

    const res = await app.request('PUT', prefsPath('alice'), { token: fx.actor('alice'), body });

    expect(res.status).toBe(422);
    expectEnvelope(res.body, 'validation_failed');
    expect(fieldsOf(res.body)).toContain(field);
  });

  it('when the actor id in the path has characters outside the id alphabet, then it is 400 naming path.actor_id', async () => {
    const fx = newTenant(app);

    const res = await app.request('GET', '/v1/mmm/actors/%3Cscript%3E/preferences', { token: fx.admin });

    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(['path.actor_id']);
  });
});
