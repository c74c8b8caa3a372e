/**
 * Events in → baselines (recomputeBaselinesWorkflow on the real Temporal server) → anomaly → stored, explained and
 * published signal → the engine's decision for a playbook triggered by that signal kind. Also: tenant isolation, a
 * config change taking effect, erasure with a receipt, and team aggregates refused below the minimum group size.
 */
import { QueryTypes } from 'sequelize';
import { useTestApp } from '../support/harness';
import { buildDay, createFakeSignalPublisher, event, failingToday, ingestEvents, recompute, steadyHistory, type EventSpec } from '../support/ubi-fakes';
import { decide, decideBody, expectEnvelope, newTenant, publishPlaybook, type TenantFixture } from './fixtures';

jest.setTimeout(90000);

const publisher = createFakeSignalPublisher();
const app = useTestApp({ UBI_SCHEDULES_ENABLED: 'true' }, { signalPublisher: publisher });

const ingest = (token: string, events: unknown[]) => ingestEvents(app, token, events);

/** Waits for the micro-batcher to finish, then returns the tenant's signals. */
async function signalsOf(fx: TenantFixture, query = '') {
  await app.runtime.ubi.batcher?.drain();
  const res = await app.request('GET', `/v1/ubi/signals${query}`, { token: fx.admin });
  expect(res.status).toBe(200);
  return res.body.signals as any[];
}


async function withHistory(fx: TenantFixture, actors: EventSpec[]) {
  await ingest(fx.service, actors.flatMap((a) => steadyHistory(a)));
  await app.runtime.ubi.batcher?.drain();
  return recompute(app, fx);
}

describe('events to signals', () => {
  it('when an actor with 28 steady days fails every build today, then one explained signal is stored, published and drives the engine decision', async () => {
    const fx = newTenant(app);
    const dev = { tenant_id: fx.tenant, actor_id: 'dev-1', team_id: 'team-a' };
    const result = await withHistory(fx, [dev]);
    expect(result).toMatchObject({ tenant_id: fx.tenant, actors: 1 });

    await ingest(fx.service, failingToday(dev));
    const signals = await signalsOf(fx);

    expect(signals).toHaveLength(1);
    const s = signals[0];
    expect(s).toMatchObject({ actor_id: 'dev-1', actor_type: 'human', dimension: 'build_health', signal_type: 'build_failure_rate_high', value: 1, config_version: 0, team_id: 'team-a' });
    // History: failure rates 0, 0.125, 0.25 in turn: median 0.125, MAD 0.125, robust sigma 0.1853; z = 0.875 / 0.1853 = 4.72,
    // score 25 x 4.72 / 3.5 = 33.7: an anomaly, of low severity (the history itself wanders a lot).
    expect(s.severity).toBe('low');
    expect(s.score).toBeCloseTo(33.7, 1);
    expect(s.baseline).toMatchObject({ source: 'personal', samples: 28 });
    expect(s.baseline.mean).toBeCloseTo(0.125, 3);
    expect(s.explanation).toMatchObject({ feature: 'build_failure_rate', actual: 1, direction: 'above', cold_start: 'ready', config_version: 0 });
    expect(s.explanation.typical_range[1]).toBeLessThan(1);
    expect(publisher.forTenant(fx.tenant).map((p) => p.signal_id)).toEqual([s.signal_id]);

    // A second look at the same window does not signal twice.
    await ingest(fx.service, failingToday(dev, 2));
    expect(await signalsOf(fx)).toHaveLength(1);
    expect(publisher.forTenant(fx.tenant)).toHaveLength(1);

    const recent = await app.request('GET', `/v1/ubi/signals/recent?actor_id=dev-1&tenant_id=${fx.tenant}`, { token: fx.service });
    expect(recent.body.signals.map((r: any) => r.signal_id)).toEqual([s.signal_id]);

    await publishPlaybook(app, fx.admin, {
      name: 'Failing builds mirror', category: 'build_health',
      triggers: [{ source: 'ubi', kind: 'build_failure_rate_high', min_severity: 'low' }],
      actions: [{ type: 'mirror', title: 'Builds today', body: 'Most builds failed today.', surfaces: ['ide'], cooldown_minutes: 0 }],
    });
    const decision = await decide(app, fx.service, decideBody(fx.tenant, {
      actor_id: 'dev-1',
      signal: { signal_id: s.signal_id, source: 'ubi', kind: s.signal_type, severity: s.severity, occurred_at: s.created_at, payload: { value: s.value } },
    }));
    expect(decision.status).toBe(200);
    expect(decision.body.outcome).toBe('shown');
    expect(decision.body.context.recent_signals.map((r: any) => r.signal_id)).toContain(s.signal_id);
  });

  it('when the actor has no baseline yet, then no personal anomaly is reported (cold start)', async () => {
    const fx = newTenant(app);
    const dev = { tenant_id: fx.tenant, actor_id: 'newcomer' };
    await ingest(fx.service, [...buildDay(dev, 2, 4, 0), ...buildDay(dev, 1, 4, 0), ...failingToday(dev)]);
    await recompute(app, fx);
    await ingest(fx.service, failingToday(dev));

    expect(await signalsOf(fx)).toEqual([]);
    const profile = await app.request('GET', '/v1/ubi/actors/newcomer/profile', { token: fx.admin });
    expect(profile.body.cold_start).toMatchObject({ state: 'insufficient', active_days: 2 });
  });

  it('when a newcomer joins a team of at least min_group_size actors of the same type, then they are scored against the team baseline, capped at medium', async () => {
    const fx = newTenant(app);
    const team = ['m1', 'm2', 'm3', 'm4', 'm5'].map((id) => ({ tenant_id: fx.tenant, actor_id: id, team_id: 'squad' }));
    const bot = { tenant_id: fx.tenant, actor_id: 'bot-1', actor_type: 'ai_agent' as const, team_id: 'squad' };
    const newcomer = { tenant_id: fx.tenant, actor_id: 'newcomer', team_id: 'squad' };
    await withHistory(fx, [...team, bot]);
    await ingest(fx.service, [...buildDay(newcomer, 1, 4, 0)]);
    await recompute(app, fx);

    await ingest(fx.service, [...failingToday(newcomer), ...failingToday(bot)]);
    const signals = await signalsOf(fx);

    // The bot is alone among agents in its team and has its own history: it is scored against its personal baseline.
    expect(signals.map((s) => [s.actor_id, s.baseline.source]).sort()).toEqual([['bot-1', 'personal'], ['newcomer', 'team']]);
    const s = signals.find((x) => x.actor_id === 'newcomer');
    expect(s.explanation.cold_start).toBe('insufficient');
    // Pooled daily values of the team's humans: 5 members x 28 days, plus the newcomer's own one day.
    expect(s.baseline.samples).toBe(5 * 28 + 1);
    expect(['low', 'medium']).toContain(s.severity);
    expect(s.explanation.severity_cap).toBe('medium');
  });

  it('when the tenant disables a dimension, then its anomalies stop; when it is enabled again, signals carry the new config version', async () => {
    const fx = newTenant(app);
    const dev = { tenant_id: fx.tenant, actor_id: 'dev-1' };
    await withHistory(fx, [dev]);
    const off = await app.request('PUT', `/v1/ubi/tenants/${fx.tenant}/config`, { token: fx.admin, body: { enabled_dimensions: ['test_health'], min_group_size: 6 } });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ version: 1, enabled_dimensions: ['test_health'], min_group_size: 6, z_threshold: 3.5 });

    await ingest(fx.service, failingToday(dev));
    expect(await signalsOf(fx)).toEqual([]);

    const on = await app.request('PUT', `/v1/ubi/tenants/${fx.tenant}/config`, { token: fx.admin, body: {} });
    expect(on.body.version).toBe(2);
    await ingest(fx.service, failingToday(dev, 1));
    const signals = await signalsOf(fx);
    expect(signals.map((s) => [s.signal_type, s.config_version])).toEqual([['build_failure_rate_high', 2]]);

    const got = await app.request('GET', `/v1/ubi/tenants/${fx.tenant}/config`, { token: fx.admin });
    expect(got.body).toMatchObject({ version: 2, updated_by: 'admin-1' });
    const bad = await app.request('PUT', `/v1/ubi/tenants/${fx.tenant}/config`, { token: fx.admin, body: { z_threshold: 0, enabled_dimensions: ['mood'] } });
    expect(bad.status).toBe(422);
    expectEnvelope(bad.body, 'validation_failed');
  });

  it("when another tenant's token asks, then it sees none of the first tenant's profile, signals or config", async () => {
    const a = newTenant(app, 'ta');
    const b = newTenant(app, 'tb');
    const dev = { tenant_id: a.tenant, actor_id: 'dev-1' };
    await withHistory(a, [dev]);
    await ingest(a.service, failingToday(dev));
    expect(await signalsOf(a)).toHaveLength(1);

    expect((await app.request('GET', '/v1/ubi/actors/dev-1/profile', { token: b.admin })).status).toBe(404);
    expect((await app.request('GET', '/v1/ubi/signals?actor_id=dev-1', { token: b.admin })).body.signals).toEqual([]);
    expect((await app.request('GET', `/v1/ubi/signals/recent?actor_id=dev-1&tenant_id=${a.tenant}`, { token: b.service })).status).toBe(403);
    expect((await app.request('GET', `/v1/ubi/tenants/${a.tenant}/config`, { token: b.admin })).status).toBe(403);
    expect((await app.request('POST', `/v1/ubi/tenants/${a.tenant}/baselines/recompute`, { token: b.admin })).status).toBe(403);
    expect((await app.request('DELETE', '/v1/ubi/actors/dev-1', { token: b.admin })).status).toBe(404);
    // The same actor id under tenant B is a different actor: B's events do not touch A's.
    await ingest(b.service, [event({ tenant_id: b.tenant, actor_id: 'dev-1' }, 'ide_session', new Date(), { duration_ms: 1000 })]);
    expect((await app.request('GET', '/v1/ubi/signals?actor_id=dev-1', { token: a.admin })).body.signals).toHaveLength(1);
  });
});

describe('recompute scores the open days', () => {
  it('when 30 steady days and a failing today are ingested and then baselines are recomputed, then the critical signal is there when the workflow completes, with no further event, and a second recompute does not repeat it', async () => {
    const fx = newTenant(app);
    const dev = { tenant_id: fx.tenant, actor_id: 'dev-1' };
    // 30 days at a steady failure rate of 0.1 (1 of 10 builds), then today 9 of 10 builds fail: 0.9.
    const history = Array.from({ length: 30 }, (_, d) => buildDay(dev, d + 1, 10, 1)).flat();
    const today = Array.from({ length: 10 }, (_, i) => event(dev, 'build_completed', new Date(Date.now() - (i + 1) * 1000), { status: i < 9 ? 'failure' : 'success' }));
    await ingest(fx.service, [...history, ...today]);
    // Today's events are scored at ingestion, against no baseline yet: nothing to say.
    expect(await signalsOf(fx)).toEqual([]);

    await recompute(app, fx);
    // No drain, no further event: what the recompute run itself stored.
    const res = await app.request('GET', '/v1/ubi/signals', { token: fx.admin });

    const profile = await app.request('GET', '/v1/ubi/actors/dev-1/profile', { token: fx.admin });
    expect(profile.body.cold_start).toMatchObject({ state: 'ready', active_days: 28 });
    expect(profile.body.features['1h'].values.build_failure_rate).toBe(0.9);
    expect(res.body.signals).toHaveLength(1);
    const s = res.body.signals[0];
    expect(s).toMatchObject({ actor_id: 'dev-1', signal_type: 'build_failure_rate_high', severity: 'critical', value: 0.9, baseline: { mean: 0.1, samples: 28, source: 'personal' } });
    expect(s.window_start).toBe(`${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`);
    // A steady 0.1 has no spread: the floor of 0.05 makes the typical range 0.1 ± 3.5 x 0.05, said for people beside the numbers.
    expect(s.explanation).toMatchObject({
      summary: '90% of builds failed (typically 0–28%; personal baseline over 28 days)',
      unit: 'ratio', actual: 0.9, actual_text: '90%', typical_range: [0, 0.275], typical_range_text: '0–28%',
    });
    // Published on the bus as the micro-batcher publishes.
    expect(publisher.forTenant(fx.tenant).map((p) => p.signal_id)).toEqual([s.signal_id]);

    await recompute(app, fx);

    const again = await app.request('GET', '/v1/ubi/signals', { token: fx.admin });
    expect(again.body.signals.map((x: any) => x.signal_id)).toEqual([s.signal_id]);
    expect(publisher.forTenant(fx.tenant)).toHaveLength(1);
  });
});

describe('erasure and aggregates', () => {
  it('when an admin erases an actor, then no event, feature, baseline or signal of theirs is left and a verifiable receipt records it', async () => {
    const fx = newTenant(app);
    const dev = { tenant_id: fx.tenant, actor_id: 'leaver' };
    const stays = { tenant_id: fx.tenant, actor_id: 'stays' };
    await withHistory(fx, [dev, stays]);
    await ingest(fx.service, failingToday(dev));
    expect(await signalsOf(fx)).toHaveLength(1);

    const asActor = await app.request('DELETE', '/v1/ubi/actors/leaver', { token: fx.actor('leaver') });
    const res = await app.request('DELETE', '/v1/ubi/actors/leaver', { token: fx.admin });

    expect(asActor.status).toBe(403);
    expect(res.status).toBe(200);
    expect(res.body.erased.events).toBe(steadyHistory(dev).length + 6);
    expect(res.body.erased.signals).toBe(1);
    const left = await app.runtime.repos.sequelize.query<{ t: string; n: number }>(
      `SELECT 'events' t, count(*)::int n FROM ubi_events WHERE tenant_id = :t AND actor_id = :a
       UNION ALL SELECT 'daily', count(*) FROM ubi_feature_daily WHERE tenant_id = :t AND actor_id = :a
       UNION ALL SELECT 'windows', count(*) FROM ubi_features WHERE tenant_id = :t AND actor_id = :a
       UNION ALL SELECT 'baselines', count(*) FROM ubi_baselines WHERE tenant_id = :t AND subject_id = :a
       UNION ALL SELECT 'profiles', count(*) FROM ubi_actor_profiles WHERE tenant_id = :t AND actor_id = :a
       UNION ALL SELECT 'signals', count(*) FROM ubi_signals WHERE tenant_id = :t AND actor_id = :a
       UNION ALL SELECT 'actors', count(*) FROM ubi_actors WHERE tenant_id = :t AND actor_id = :a`,
      { replacements: { t: fx.tenant, a: 'leaver' }, type: QueryTypes.SELECT },
    );
    expect(left.filter((r) => r.n > 0)).toEqual([]);
    expect((await app.request('GET', '/v1/ubi/actors/stays/profile', { token: fx.admin })).status).toBe(200);
    const receipt = await app.request('GET', `/v1/mmm/receipts/${res.body.receipt_id}`, { token: fx.admin });
    expect(receipt.status).toBe(200);
    expect(receipt.body.kind).toBe('ubi_erasure');
    expect(JSON.stringify(receipt.body)).not.toContain('leaver');
    expect((await app.request('DELETE', '/v1/ubi/actors/leaver', { token: fx.admin })).status).toBe(404);
  });

  it('when a team has fewer actors of a type than the minimum group size, then its aggregates are refused; at the minimum they are served without actor ids', async () => {
    const fx = newTenant(app);
    const small = ['s1', 's2', 's3', 's4'].map((id) => ({ tenant_id: fx.tenant, actor_id: id, team_id: 'small' }));
    const big = ['b1', 'b2', 'b3', 'b4', 'b5'].map((id) => ({ tenant_id: fx.tenant, actor_id: id, team_id: 'big' }));
    const bots = [{ tenant_id: fx.tenant, actor_id: 'bot-1', actor_type: 'ai_agent' as const, team_id: 'big' }];
    await ingest(fx.service, [...small, ...big, ...bots].flatMap((a) => [...buildDay(a, 1, 4, 1), ...buildDay(a, 2, 4, 0)]));
    await app.runtime.ubi.batcher?.drain();

    const refused = await app.request('GET', '/v1/ubi/teams/small/aggregates', { token: fx.admin });
    const served = await app.request('GET', '/v1/ubi/teams/big/aggregates', { token: fx.actor('b1') });

    expect(refused.status).toBe(403);
    expectEnvelope(refused.body, 'aggregation_threshold_not_met');
    expect(served.status).toBe(200);
    expect(served.body.groups).toHaveLength(1);
    expect(served.body.groups[0]).toMatchObject({ actor_type: 'human', members: 5 });
    expect(served.body.groups[0].features.build_failure_rate.median).toBeCloseTo(0.125, 3);
    expect(served.body.suppressed).toEqual([{ actor_type: 'ai_agent', reason: 'below_min_group_size' }]);
    expect(JSON.stringify(served.body)).not.toMatch(/"b[1-5]"|bot-1/);
    expect((await app.request('GET', '/v1/ubi/teams/nobody/aggregates', { token: fx.admin })).status).toBe(404);
  });
});

describe('schedules', () => {
  it("when a tenant sends its first events, then its nightly recompute and daily retention Schedules exist on the worker's task queue", async () => {
    const fx = newTenant(app);
    await ingest(fx.service, [event({ tenant_id: fx.tenant, actor_id: 'dev-1' }, 'ide_session', new Date(), { duration_ms: 1000 })]);
    await app.runtime.ubi.scheduler.ensure(fx.tenant);

    const baseline = await app.runtime.temporal.client.schedule.getHandle(`ubi-baselines/${fx.tenant}`).describe();
    const retention = await app.runtime.temporal.client.schedule.getHandle(`ubi-retention/${fx.tenant}`).describe();

    expect(baseline.action).toMatchObject({ workflowType: 'recomputeBaselinesWorkflow', taskQueue: app.taskQueue });
    expect(baseline.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 2, end: 2, step: 1 }] });
    expect(retention.action).toMatchObject({ workflowType: 'ubiRetentionWorkflow', taskQueue: app.taskQueue });

    const put = await app.request('PUT', `/v1/ubi/tenants/${fx.tenant}/config`, { token: fx.admin, body: { baseline_schedule: '30 5 * * *' } });
    expect(put.body.schedule_synced).toBe(true);
    const moved = await app.runtime.temporal.client.schedule.getHandle(`ubi-baselines/${fx.tenant}`).describe();
    expect(moved.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 5, end: 5, step: 1 }], minute: [{ start: 30, end: 30, step: 1 }] });
    await app.runtime.temporal.client.schedule.getHandle(`ubi-baselines/${fx.tenant}`).delete();
    await app.runtime.temporal.client.schedule.getHandle(`ubi-retention/${fx.tenant}`).delete();
    await app.runtime.temporal.client.schedule.getHandle(`mmm-retention/${fx.tenant}`).delete();
  });
});

describe('ubi ops', () => {
  it('when health, ready and metrics are asked, then ready reports the ingestion lag and metrics expose the UBI series', async () => {
    const health = await app.request('GET', '/v1/ubi/health');
    const ready = await app.request('GET', '/v1/ubi/ready');
    const metrics = await app.request('GET', '/v1/ubi/metrics');

    expect(health.body.status).toBe('ok');
    expect(ready.status).toBe(200);
    expect(ready.body.ingestion).toEqual(expect.objectContaining({ pending: expect.any(Number), lag_seconds: expect.any(Number), stale: false, stale_after_seconds: 60 }));
    for (const name of ['ubi_events_processed_total', 'ubi_signals_generated_total', 'ubi_anomalies_total', 'ubi_receipt_emission_total', 'ubi_feature_computation_duration_seconds', 'ubi_baseline_recompute_duration_seconds', 'ubi_api_request_duration_seconds', 'ubi_queue_size'])
      expect(metrics.body).toContain(`# TYPE ${name}`);
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
  });
});

describe('delivery and retention', () => {
  it('when the bus fails while a signal is published, then the signal stays stored and is published on the retry (at least once)', async () => {
    const fx = newTenant(app);
    const dev = { tenant_id: fx.tenant, actor_id: 'dev-1' };
    await withHistory(fx, [dev]);

    publisher.failNext(1);
    await ingest(fx.service, failingToday(dev));
    const [stored] = await signalsOf(fx);

    expect(stored.signal_type).toBe('build_failure_rate_high');
    expect(publisher.forTenant(fx.tenant)).toEqual([]);
    await app.runtime.ubi.batcher?.retryUnpublished(0);
    expect(publisher.forTenant(fx.tenant).map((s) => s.signal_id)).toEqual([stored.signal_id]);
    await app.runtime.ubi.batcher?.retryUnpublished(0);
    expect(publisher.forTenant(fx.tenant)).toHaveLength(1);
  });

  it("when the retention workflow runs, then the tenant's events, features and signals older than its retention are deleted and newer ones stay", async () => {
    const fx = newTenant(app);
    const dev = { tenant_id: fx.tenant, actor_id: 'dev-1' };
    const old = { tenant_id: fx.tenant, actor_id: 'gone' };
    await ingest(fx.service, [...buildDay(dev, 40, 4, 1), ...buildDay(dev, 2, 4, 1), ...buildDay(old, 45, 4, 0)]);
    await app.runtime.ubi.batcher?.drain();
    const put = await app.request('PUT', `/v1/ubi/tenants/${fx.tenant}/config`, { token: fx.admin, body: { retention_days: 30 } });
    expect(put.status).toBe(200);

    const result = await app.runtime.temporal.client.workflow.execute('ubiRetentionWorkflow', { taskQueue: app.taskQueue, workflowId: `ubi-retention/${fx.tenant}/test`, args: [{ tenant_id: fx.tenant }] });

    expect(result).toMatchObject({ actors: 1 });
    const [counts] = await app.runtime.repos.sequelize.query<{ events: number; old_days: number; actors: string }>(
      `SELECT (SELECT count(*) FROM ubi_events WHERE tenant_id = :t)::int AS events,
              (SELECT count(*) FROM ubi_feature_daily WHERE tenant_id = :t AND day < current_date - 30)::int AS old_days,
              (SELECT string_agg(actor_id, ',') FROM ubi_actors WHERE tenant_id = :t) AS actors`,
      { replacements: { t: fx.tenant }, type: QueryTypes.SELECT },
    );
    expect(counts).toEqual({ events: buildDay(dev, 2, 4, 1).length, old_days: 0, actors: 'dev-1' });
  });
});
