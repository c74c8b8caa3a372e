/**
 * UBI ingestion over HTTP against the real runtime: per-event validation and the 202 answer, idempotency by
 * (tenant_id, event_id), the privacy filter against a hostile corpus (nothing of it reaches the database), roles and
 * tenants, and features fresh within seconds.
 */
import { QueryTypes } from 'sequelize';
import { useTestApp } from '../support/harness';
import { event } from '../support/ubi-fakes';
import { expectEnvelope, fieldsOf, newTenant } from './fixtures';
import { createFeatureBatcher } from '../../activities/ubi/feature-batcher';
import { createLogger } from '../../observability/logger';

jest.setTimeout(60000);

const app = useTestApp();

async function ingest(token: string, events: unknown[]) {
  return app.request('POST', '/v1/ubi/events', { token, body: { events } });
}

async function storedText(tenant: string): Promise<string> {
  const rows = await app.runtime.repos.sequelize.query(`SELECT to_jsonb(e)::text AS t FROM ubi_events e WHERE tenant_id = :tenant`, { replacements: { tenant }, type: QueryTypes.SELECT });
  return rows.map((r) => (r as { t: string }).t).join('\n');
}

describe('POST /v1/ubi/events', () => {
  it('when a batch mixes valid and invalid events, then each is judged on its own and the 202 names every rejected index and reason', async () => {
    const fx = newTenant(app);
    const spec = { tenant_id: fx.tenant, actor_id: 'dev-1' };
    const now = new Date(Date.now() - 60_000);
    const events = [
      event(spec, 'build_completed', now, { status: 'failure', duration_ms: 1000 }),
      { ...event(spec, 'build_completed', now, { status: 'failure' }), event_type: 'telepathy' },
      { ...event(spec, 'build_completed', now, { status: 'failure' }), occurred_at: 'yesterday' },
      event(spec, 'build_completed', now, { duration_ms: 10 }),
      { ...event(spec, 'ide_session', now, { duration_ms: 5 }), tenant_id: 'someone-else' },
      { ...event(spec, 'ide_session', now, { duration_ms: 5 }), actor_type: 'robot' },
      event(spec, 'pr_opened', now, { pr_id: 'pr-1', size_bucket: 'm' }),
    ];

    const res = await ingest(fx.service, events);

    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(2);
    expect(res.body.duplicates).toBe(0);
    expect(res.body.rejected).toEqual([
      { index: 1, reason: 'unknown_event_type', field: 'event_type' },
      { index: 2, reason: 'invalid_timestamp', field: 'occurred_at' },
      { index: 3, reason: 'missing_required_property', field: 'properties.status' },
      { index: 4, reason: 'forbidden_tenant', field: 'tenant_id' },
      { index: 5, reason: 'invalid_actor_type', field: 'actor_type' },
    ]);
  });

  it('when the same events are sent again, then they are accepted once: the repeat counts as duplicates and nothing is stored twice', async () => {
    const fx = newTenant(app);
    const spec = { tenant_id: fx.tenant, actor_id: 'dev-1' };
    const events = [0, 1, 2].map((i) => event(spec, 'build_completed', new Date(Date.now() - i * 60_000), { status: 'success' }));

    const first = await ingest(fx.service, events);
    const again = await ingest(fx.service, [...events, events[0]]);

    expect(first.body).toMatchObject({ accepted: 3, duplicates: 0, rejected: [] });
    expect(again.body).toMatchObject({ accepted: 4, duplicates: 4, rejected: [] });
    const [row] = await app.runtime.repos.sequelize.query<{ n: number }>(`SELECT count(*)::int AS n FROM ubi_events WHERE tenant_id = :t`, { replacements: { t: fx.tenant }, type: QueryTypes.SELECT });
    expect(row.n).toBe(3);
  });

  it('when events carry source code, e-mail addresses, secrets and free text, then none of it is stored and the answer says what was dropped or rejected', async () => {
    const fx = newTenant(app);
    const spec = { tenant_id: fx.tenant, actor_id: 'dev-1' };
    const at = new Date(Date.now() - 60_000);
    const hostile = {
      code: 'function leak() { return process.env.SECRET; }',
      email: 'jane.doe@example.com',
      github: 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8',
      aws: 'AKIAIOSFODNN7EXAMPLE',
      jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      text: 'I am really frustrated with this reviewer today',
      sql: "SELECT * FROM users WHERE name = 'x';",
    };
    const events = [
      event(spec, 'pr_opened', at, { pr_id: hostile.email, size_bucket: 's' }),
      event(spec, 'pr_opened', at, { pr_id: 'pr-7', size_bucket: 's', title: hostile.text, body: hostile.code, author_email: hostile.email }),
      event(spec, 'build_completed', at, { status: 'failure', log: hostile.github, token: hostile.aws, query: hostile.sql }),
      event(spec, 'pr_review_submitted', at, { pr_id: hostile.jwt }),
      { ...event(spec, 'ide_session', at, { duration_ms: 1000 }), actor_id: hostile.email },
      { ...event(spec, 'ide_session', at, { duration_ms: 1000 }), repo_id: hostile.aws },
      { ...event(spec, 'ide_session', at, { duration_ms: 1000 }), comment: hostile.text },
      event(spec, 'pr_merged', at, { pr_id: 'pr-8', size_bucket: hostile.code }),
    ];

    const res = await ingest(fx.service, events);

    expect(res.status).toBe(202);
    expect(res.body.rejected).toEqual([
      { index: 0, reason: 'required_property_dropped: email_address', field: 'properties.pr_id' },
      { index: 3, reason: 'required_property_dropped: secret_or_token', field: 'properties.pr_id' },
      { index: 4, reason: 'email_address', field: 'actor_id' },
      { index: 5, reason: 'secret_or_token', field: 'repo_id' },
      { index: 6, reason: 'unknown_field', field: 'comment' },
    ]);
    expect(res.body.accepted).toBe(3);
    const droppedFields = Object.fromEntries(res.body.dropped.map((d: { index: number; fields: Array<{ field: string }> }) => [d.index, d.fields.map((f) => f.field).sort()]));
    expect(droppedFields).toEqual({
      1: ['properties.author_email', 'properties.body', 'properties.title'],
      2: ['properties.log', 'properties.query', 'properties.token'],
      7: ['properties.size_bucket'],
    });
    expect(JSON.stringify(res.body)).not.toContain('jane.doe');
    const stored = await storedText(fx.tenant);
    expect(stored).toContain('pr-7');
    for (const value of Object.values(hostile)) expect(stored).not.toContain(value);
    expect(stored).not.toMatch(/jane|frustrated|ghp_|AKIA|eyJ|SELECT/);
  });

  it('when the caller lacks the service role or the batch is too large, then 403 or 422 name the problem and nothing is stored', async () => {
    const fx = newTenant(app);
    const spec = { tenant_id: fx.tenant, actor_id: 'dev-1' };
    const one = event(spec, 'ide_session', new Date(), { duration_ms: 1000 });

    const asActor = await ingest(fx.actor('dev-1'), [one]);
    const tooMany = await ingest(fx.service, Array.from({ length: 1001 }, () => one));
    const empty = await ingest(fx.service, []);
    const noToken = await app.request('POST', '/v1/ubi/events', { body: { events: [one] } });

    expect(asActor.status).toBe(403);
    expectEnvelope(asActor.body, 'forbidden_role');
    expect(tooMany.status).toBe(422);
    expect(fieldsOf(tooMany.body)).toContain('events');
    expect(empty.status).toBe(422);
    expect(noToken.status).toBe(401);
    expect(await storedText(fx.tenant)).toBe('');
  });

  it('when events are ingested, then the actor profile shows their features within seconds (micro-batches)', async () => {
    const fx = newTenant(app);
    const spec = { tenant_id: fx.tenant, actor_id: 'dev-1', repo_id: 'repo-x' };
    const at = new Date(Date.now() - 5 * 60_000);
    const events = [
      event(spec, 'build_completed', at, { status: 'failure' }),
      event(spec, 'build_completed', at, { status: 'success' }),
      event(spec, 'build_completed', at, { status: 'success' }),
      event(spec, 'build_completed', at, { status: 'success' }),
      event({ ...spec, repo_id: 'repo-y' }, 'ide_session', at, { duration_ms: 5 * 60_000 }),
    ];
    const sent = Date.now();
    expect((await ingest(fx.service, events)).status).toBe(202);

    let profile: any;
    for (let i = 0; i < 50; i++) {
      profile = await app.request('GET', '/v1/ubi/actors/dev-1/profile', { token: fx.actor('dev-1') });
      if (profile.status === 200 && profile.body.features['1h']) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const freshnessMs = Date.now() - sent;

    expect(profile.status).toBe(200);
    expect(profile.body.features['1h'].values).toMatchObject({ build_failure_rate: 0.25, context_switches: 2 });
    expect(profile.body.features['7d'].values.build_failure_rate).toBe(0.25);
    expect(profile.body.cold_start).toEqual({ state: 'insufficient', active_days: 0, as_of: null });
    expect(freshnessMs).toBeLessThan(5000);
  });

  it('when a feature batch holding an actor-day is still writing, then new events of that day are stored at once and its features are computed again after the batch', async () => {
    const fx = newTenant(app);
    const spec = { tenant_id: fx.tenant, actor_id: 'dev-1', repo_id: 'repo-a' };
    const at = new Date(Date.now() - 60_000);
    const pair = { tenant_id: fx.tenant, actor_id: 'dev-1', day: at.toISOString().slice(0, 10) };
    const repos = app.runtime.repos.ubi;
    const contextSwitches = async () =>
      ((await app.runtime.repos.sequelize.query<{ value: number }>(`SELECT value FROM ubi_feature_daily WHERE tenant_id = :t AND actor_id = 'dev-1' AND feature = 'context_switches'`, { replacements: { t: fx.tenant }, type: QueryTypes.SELECT }))[0]?.value);
    expect((await ingest(fx.service, [event(spec, 'build_completed', at, { status: 'success' })])).status).toBe(202);
    await app.runtime.ubi.batcher?.drain();
    expect(await contextSwitches()).toBe(1);

    // A second batcher (another worker's, say) whose batch stops inside its write transaction until released.
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const held = createFeatureBatcher({
      repos: { ...repos, features: { ...repos.features, replaceDaily: async (...args: Parameters<typeof repos.features.replaceDaily>) => (entered(), await gate, repos.features.replaceDaily(...args)) } },
      publisher: app.runtime.bus, metrics: app.runtime.metrics.ubi, logger: createLogger('warn'),
    });
    const batch = held.rescore([pair]);
    await inside;

    // The same actor-day from another repo: stored while the batch is open (it used to wait for the batch's commit).
    const sending = ingest(fx.service, [event({ ...spec, repo_id: 'repo-b' }, 'build_completed', at, { status: 'success' })]);
    const answer = await Promise.race([sending, new Promise<'waited'>((r) => setTimeout(() => r('waited'), 5_000))]);
    expect(answer === 'waited' ? answer : answer.status).toBe(202);
    // The runtime's own batcher leaves the pair to the batch that holds it: one batch per pair at a time.
    await new Promise((r) => setTimeout(r, 500));
    const [row] = await app.runtime.repos.sequelize.query<{ claimed: boolean; remarked: boolean }>(
      `SELECT claim_id IS NOT NULL AS claimed, remarked_at IS NOT NULL AS remarked FROM ubi_dirty WHERE tenant_id = :t`, { replacements: { t: fx.tenant }, type: QueryTypes.SELECT });
    expect(row).toEqual({ claimed: true, remarked: true });

    open();
    expect((await batch).pairs).toBe(1);
    // The batch wrote what it had read (one repo); the pair marked meanwhile is pending again and computed next.
    await app.runtime.ubi.batcher?.drain();
    expect(await contextSwitches()).toBe(2);
    const [left] = await app.runtime.repos.sequelize.query<{ n: number }>(`SELECT count(*)::int AS n FROM ubi_dirty WHERE tenant_id = :t`, { replacements: { t: fx.tenant }, type: QueryTypes.SELECT });
    expect(left.n).toBe(0);
  });

  it("when a reviewer reviews an author's PRs and the author merges them, then the author's profile shows cycle time, pick-up time and rework", async () => {
    const fx = newTenant(app);
    const author = { tenant_id: fx.tenant, actor_id: 'author' };
    const reviewer = { tenant_id: fx.tenant, actor_id: 'reviewer' };
    const h = 3_600_000;
    const t0 = Date.now() - 30 * h;
    const prs = ['pr-1', 'pr-2', 'pr-3', 'pr-4'];
    const events = [
      ...prs.map((pr) => event(author, 'pr_opened', new Date(t0), { pr_id: pr, size_bucket: 's' })),
      ...prs.map((pr, i) => event(reviewer, 'pr_review_submitted', new Date(t0 + (i + 1) * h), { pr_id: pr, review_state: i < 1 ? 'changes_requested' : 'approved' })),
      ...prs.map((pr) => event(author, 'pr_merged', new Date(t0 + 10 * h), { pr_id: pr, size_bucket: 's' })),
    ];

    expect((await ingest(fx.service, events)).body.accepted).toBe(12);
    await app.runtime.ubi.batcher?.drain();
    const profile = await app.request('GET', '/v1/ubi/actors/author/profile', { token: fx.admin });
    const rev = await app.request('GET', '/v1/ubi/actors/reviewer/profile', { token: fx.admin });

    expect(profile.body.features['7d'].values).toMatchObject({ pr_cycle_time_hours: 10, pr_pickup_time_hours: 2.5, rework_ratio: 0.25 });
    expect(rev.body.features['7d'].values).toMatchObject({ review_turnaround_hours: 2.5, changes_requested_ratio: 0.25 });
  });
});
