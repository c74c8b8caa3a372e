/**
 * Admin surfaces: the playbook lifecycle and what decisions use, the tenant policy, the audit log of every admin
 * mutation, and the ops endpoints (OpenAPI, metrics, health, readiness).
 */
import fs from 'node:fs';
import path from 'node:path';
import { allRoutes, type AppDeps } from '../../api/app';
import { DEFAULT_TENANT_POLICY } from '../../domain/model/policy';
import { useTestApp } from '../support/harness';
import { decide, decideBody, expectEnvelope, fieldsOf, newTenant, publishPlaybook, putPolicy, requestPlaybook, type TenantFixture } from './fixtures';

jest.setTimeout(60000);

const app = useTestApp();

// The literal defaults are pinned in tests/unit/model-schemas.test.ts; here they are what the API must serve.
const DEFAULT_POLICY = DEFAULT_TENANT_POLICY;

type AuditRow = { action: string; actor_id: string; resource_type: string; resource_id: string; before: any; after: any };

async function auditOf(tenant: string): Promise<AuditRow[]> {
  // Newest first, as the repository returns them.
  return (await app.runtime.repos.audit.list(tenant)) as unknown as AuditRow[];
}

/**
 * Contract routes not served yet: none since the experiment routes came (issue 9, part B). Anything the contract names
 * and the document lacks fails the test.
 */
const EXPECTED_MISSING: string[] = [];

/**
 * The routes of CONTRACT.md's route tables, as `METHOD /path`: each backticked entry of a row's first cell is
 * `METHODS path` (`GET/PUT`, several methods), and a path that starts with `…` continues the previous path of the
 * same cell from the segment it repeats (`PUT /v1/mmm/experiments/{id}`, `POST …/{id}/activate`).
 */
function contractRoutes(markdown: string): string[] {
  const out: string[] = [];
  for (const line of markdown.split('\n')) {
    const first = /^\|\s*([^|]*`[A-Z/]+ [^|]*)\|/.exec(line)?.[1];
    if (!first) continue;
    let previous = '';
    for (const [, methods, given] of first.matchAll(/`([A-Z]+(?:\/[A-Z]+)*) ([^`\s]+)`/g)) {
      let p = given;
      if (p.startsWith('…')) {
        const rest = p.slice(1);
        const firstSegment = rest.split('/').slice(0, 2).join('/');
        p = previous.slice(0, previous.indexOf(firstSegment)) + rest;
      }
      previous = p;
      for (const m of methods.split('/')) out.push(`${m} ${p}`);
    }
  }
  return out;
}

function playbookPath(id: string, suffix = ''): string {
  return `/v1/mmm/playbooks/${id}${suffix}`;
}

describe('playbook lifecycle', () => {
  it('when a playbook is created, then it is 201 as version 1 draft with its defaults filled in', async () => {
    const fx = newTenant(app);
    const body = requestPlaybook({ title: 'Version one' });

    const res = await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body });

    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      ...body,
      conditions: [],
      actions: [{ ...body.actions[0], priority: 50, requires_consent: false, requires_dual_channel: false }],
      playbook_id: expect.stringMatching(/^pb_[0-9a-f-]{36}$/),
      tenant_id: fx.tenant,
      version: 1,
      status: 'draft',
      published_version: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it('when a playbook goes through publish, re-publish, update, read by version, publish and archive, then each step answers as the contract says', async () => {
    const fx = newTenant(app);
    const created = await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook({ title: 'Version one' }) });
    const id = created.body.playbook_id;

    const published = await app.request('POST', playbookPath(id, '/publish'), { token: fx.admin });
    expect(published.status).toBe(200);
    expect(published.body).toEqual(expect.objectContaining({ playbook_id: id, version: 1, status: 'published', published_version: 1 }));

    const again = await app.request('POST', playbookPath(id, '/publish'), { token: fx.admin });
    expect(again.status).toBe(409);
    expectEnvelope(again.body, 'already_published');

    const updated = await app.request('PUT', playbookPath(id), { token: fx.admin, body: requestPlaybook({ title: 'Version two' }) });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual(expect.objectContaining({ playbook_id: id, version: 2, status: 'draft', published_version: 1 }));
    expect(updated.body.actions[0].title).toBe('Version two');

    const latest = await app.request('GET', playbookPath(id), { token: fx.admin });
    expect(latest.body).toEqual(expect.objectContaining({ version: 2, status: 'draft', published_version: 1 }));
    const v1 = await app.request('GET', playbookPath(id, '?version=1'), { token: fx.admin });
    expect(v1.status).toBe(200);
    expect(v1.body).toEqual(expect.objectContaining({ version: 1, status: 'published', published_version: 1 }));
    expect(v1.body.actions[0].title).toBe('Version one');

    // The draft is not what decisions use: version 1 still is.
    const whileDraft = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'a1' }));
    expect(whileDraft.body.actions.map((a: any) => [a.playbook_version, a.payload.title])).toEqual([[1, 'Version one']]);

    const publishedV2 = await app.request('POST', playbookPath(id, '/publish'), { token: fx.admin });
    expect(publishedV2.body).toEqual(expect.objectContaining({ version: 2, status: 'published', published_version: 2 }));
    const afterV2 = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'a2' }));
    expect(afterV2.body.actions.map((a: any) => [a.playbook_version, a.payload.title])).toEqual([[2, 'Version two']]);

    const archived = await app.request('DELETE', playbookPath(id), { token: fx.admin });
    expect(archived.status).toBe(200);
    expect(archived.body).toEqual(expect.objectContaining({ playbook_id: id, status: 'archived' }));

    const afterArchive = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'a3' }));
    expect(afterArchive.body.outcome).toBe('no_match');
    expect(afterArchive.body.actions).toEqual([]);

    const putArchived = await app.request('PUT', playbookPath(id), { token: fx.admin, body: requestPlaybook() });
    const publishArchived = await app.request('POST', playbookPath(id, '/publish'), { token: fx.admin });
    const deleteArchived = await app.request('DELETE', playbookPath(id), { token: fx.admin });
    for (const res of [putArchived, publishArchived, deleteArchived]) {
      expect(res.status).toBe(409);
      expectEnvelope(res.body, 'playbook_archived');
    }
    const stillArchived = await app.request('GET', playbookPath(id), { token: fx.admin });
    expect(stillArchived.body).toEqual(expect.objectContaining({ version: 2, status: 'archived' }));
  });

  it('when playbooks are listed with a status filter, then each list holds only playbooks in that status', async () => {
    const fx = newTenant(app);
    const draft = await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook({}, { name: 'draft' }) });
    const published = await publishPlaybook(app, fx.admin, requestPlaybook({}, { name: 'published' }));
    const gone = await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook({}, { name: 'gone' }) });
    await app.request('DELETE', playbookPath(gone.body.playbook_id), { token: fx.admin });
    const ids = async (q: string) =>
      ((await app.request('GET', `/v1/mmm/playbooks${q}`, { token: fx.admin })).body.playbooks as Array<{ playbook_id: string }>).map((p) => p.playbook_id).sort();

    expect(await ids('')).toEqual([draft.body.playbook_id, published.playbook_id, gone.body.playbook_id].sort());
    expect(await ids('?status=draft')).toEqual([draft.body.playbook_id]);
    expect(await ids('?status=published')).toEqual([published.playbook_id]);
    expect(await ids('?status=archived')).toEqual([gone.body.playbook_id]);
    const bad = await app.request('GET', '/v1/mmm/playbooks?status=deleted', { token: fx.admin });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toEqual(['query.status']);
  });

  it('when an mmm_admin of the tenant manages playbooks, then it may do what a tenant_admin may', async () => {
    const fx = newTenant(app);
    const mmmAdmin = app.token({ tenant_id: fx.tenant, sub: 'ops-1', roles: ['mmm_admin'] });

    const created = await app.request('POST', '/v1/mmm/playbooks', { token: mmmAdmin, body: requestPlaybook() });
    const published = await app.request('POST', playbookPath(created.body.playbook_id, '/publish'), { token: mmmAdmin });

    expect(created.status).toBe(201);
    expect(published.status).toBe(200);
  });
});

describe('tenant policy', () => {
  it('when no policy was written, then GET returns the defaults as version 0', async () => {
    const fx = newTenant(app);

    const res = await app.request('GET', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...DEFAULT_POLICY, tenant_id: fx.tenant, version: 0, policy_snapshot_id: `pol_${fx.tenant}_v0`, updated_at: null });
  });

  it('when the policy is PUT twice, then each PUT bumps the version and snapshot id and omitted fields return to their defaults', async () => {
    const fx = newTenant(app);
    const quiet = { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' };

    const first = await app.request('PUT', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin, body: { max_nudges_per_window: 5, quiet_hours: quiet } });
    const second = await app.request('PUT', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin, body: { cooldown_minutes: 10 } });
    const read = await app.request('GET', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin });

    expect(first.status).toBe(200);
    expect(first.body).toEqual(expect.objectContaining({ max_nudges_per_window: 5, quiet_hours: quiet, version: 1, policy_snapshot_id: `pol_${fx.tenant}_v1` }));
    expect(second.body).toEqual({ ...DEFAULT_POLICY, cooldown_minutes: 10, tenant_id: fx.tenant, version: 2, policy_snapshot_id: `pol_${fx.tenant}_v2`, updated_at: expect.any(String) });
    const { updated_at: _written, ...writtenPolicy } = second.body;
    expect(read.body).toEqual({ ...writtenPolicy, updated_at: expect.any(String) });
  });

  it('when a decision follows a policy change, then it records the new policy snapshot id', async () => {
    const fx = newTenant(app);
    await putPolicy(app, fx, { max_nudges_per_window: 4 });

    const res = await decide(app, fx.service, decideBody(fx.tenant));

    expect(res.body.policy_snapshot_id).toBe(`pol_${fx.tenant}_v1`);
  });

  // A snapshot id names exactly one policy version (domain/model/policy.ts), so two PUTs may never share one. A race
  // only shows when the requests interleave, so five fresh tenants are raced at once to make that near certain.
  it('when several first PUTs of a tenant policy race, then each gets its own version and snapshot id', async () => {
    const tenants = Array.from({ length: 5 }, () => newTenant(app));

    const rounds = await Promise.all(
      tenants.map((fx) =>
        Promise.all(
          Array.from({ length: 6 }, (_, n) => app.request('PUT', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin, body: { max_nudges_per_window: n } })),
        ),
      ),
    );

    for (const [i, results] of rounds.entries()) {
      expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
      expect({ tenant: i, versions: results.map((r) => r.body.version).sort((x, y) => x - y) }).toEqual({ tenant: i, versions: [1, 2, 3, 4, 5, 6] });
      expect(new Set(results.map((r) => r.body.policy_snapshot_id)).size).toBe(6);
      const read = await app.request('GET', `/v1/mmm/tenants/${tenants[i].tenant}/policy`, { token: tenants[i].admin });
      expect(read.body.version).toBe(6);
    }
  });

  it.each([
    ['quiet hours start 25:00', { quiet_hours: { start: '25:00', end: '07:00', timezone: 'UTC' } }, 'quiet_hours.start'],
    ['an unknown quiet hours time zone', { quiet_hours: { start: '22:00', end: '07:00', timezone: 'Moon/Base' } }, 'quiet_hours.timezone'],
    ['an unknown action type', { allowed_action_types: ['nudge'] }, 'allowed_action_types.0'],
    ['a negative nudge limit', { max_nudges_per_window: -1 }, 'max_nudges_per_window'],
    ['a window given as a string', { window_minutes: '60' }, 'window_minutes'],
  ])('when the policy has %s, then the PUT is 422 naming the field and the version is unchanged', async (_label, body, field) => {
    const fx = newTenant(app);

    const res = await app.request('PUT', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin, body });
    const read = await app.request('GET', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.admin });

    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toEqual([field]);
    expect(read.body.version).toBe(0);
  });
});

describe('audit log', () => {
  async function createAndWalk(fx: TenantFixture) {
    const created = await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook({ title: 'One' }) });
    const id = created.body.playbook_id as string;
    await app.request('POST', playbookPath(id, '/publish'), { token: fx.admin });
    await app.request('PUT', playbookPath(id), { token: fx.admin, body: requestPlaybook({ title: 'Two' }) });
    await app.request('DELETE', playbookPath(id), { token: fx.admin });
    await putPolicy(app, fx, { max_nudges_per_window: 7 });
    await putPolicy(app, fx, { max_nudges_per_window: 8 });
    return id;
  }

  it('when an admin creates, publishes, updates and archives a playbook and writes the policy twice, then each mutation has an audit row with before and after', async () => {
    const fx = newTenant(app);
    const id = await createAndWalk(fx);

    const rows = (await auditOf(fx.tenant)).reverse();

    expect(rows.map((r) => [r.action, r.resource_type, r.resource_id, r.actor_id])).toEqual([
      ['playbook.create', 'playbook', id, 'admin-1'],
      ['playbook.publish', 'playbook', id, 'admin-1'],
      ['playbook.update', 'playbook', id, 'admin-1'],
      ['playbook.archive', 'playbook', id, 'admin-1'],
      ['policy.put', 'tenant_policy', fx.tenant, 'admin-1'],
      ['policy.put', 'tenant_policy', fx.tenant, 'admin-1'],
    ]);
    const [create, publish, update, archive, policy1, policy2] = rows;
    expect(create.before).toBeNull();
    expect(create.after).toEqual(expect.objectContaining({ version: 1, status: 'draft' }));
    expect(publish.before).toEqual(expect.objectContaining({ version: 1, status: 'draft' }));
    expect(publish.after).toEqual(expect.objectContaining({ version: 1, status: 'published', published_version: 1 }));
    expect(update.before.actions[0].title).toBe('One');
    expect(update.after).toEqual(expect.objectContaining({ version: 2, status: 'draft' }));
    expect(update.after.actions[0].title).toBe('Two');
    expect(archive.before).toEqual(expect.objectContaining({ version: 2, status: 'draft' }));
    expect(archive.after).toEqual(expect.objectContaining({ version: 2, status: 'archived' }));
    expect(policy1.before).toBeNull();
    expect(policy1.after).toEqual(expect.objectContaining({ version: 1, max_nudges_per_window: 7 }));
    expect(policy2.before).toEqual(expect.objectContaining({ version: 1, max_nudges_per_window: 7 }));
    expect(policy2.after).toEqual(expect.objectContaining({ version: 2, max_nudges_per_window: 8 }));
  });

  it('when an admin mutation is refused, then no audit row is written', async () => {
    const fx = newTenant(app);
    const pb = await publishPlaybook(app, fx.admin, requestPlaybook());
    const before = (await auditOf(fx.tenant)).length;

    const republish = await app.request('POST', playbookPath(pb.playbook_id, '/publish'), { token: fx.admin });
    const invalid = await app.request('PUT', playbookPath(pb.playbook_id), { token: fx.admin, body: { name: '' } });
    const forbidden = await app.request('DELETE', playbookPath(pb.playbook_id), { token: fx.service });

    expect([republish.status, invalid.status, forbidden.status]).toEqual([409, 422, 403]);
    expect(await auditOf(fx.tenant)).toHaveLength(before);
  });

  it('when a playbook text contains an e-mail address or a token, then it is refused naming the field and no audit row holds it', async () => {
    const fx = newTenant(app);
    const secretish = 'Contact jane.doe@example.com ghp_abcdefghijklmnopqrstuvwxyz0123';

    const res = await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook({}, { description: secretish }) });

    // The privacy filter's detectors refuse it at the door (ADR 0013); the audit log's redaction stays behind them.
    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toEqual(['description']);
    expect(JSON.stringify(res.body)).not.toContain('jane.doe');
    expect(await auditOf(fx.tenant)).toEqual([]);
  });
});

describe('ops endpoints', () => {
  it('when the OpenAPI document is fetched, then it describes every route the app mounts, with the same methods', async () => {
    const stub = { repos: {}, decide: {}, verifier: {}, metrics: {}, logger: {}, checks: [], version: 'test' } as unknown as AppDeps;
    const expected = new Map<string, Set<string>>();
    for (const r of allRoutes(stub)) {
      const p = r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
      if (!expected.has(p)) expected.set(p, new Set());
      expected.get(p)?.add(r.method);
    }
    // Served outside the route table and described in the document by hand.
    expected.set('/metrics', new Set(['get']));
    expected.set('/v1/openapi.json', new Set(['get']));

    const res = await app.request('GET', '/v1/openapi.json');

    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths).sort()).toEqual([...expected.keys()].sort());
    for (const [p, methods] of expected) expect(Object.keys(res.body.paths[p]).sort()).toEqual([...methods].sort());
  });

  it("when the OpenAPI document is fetched, then it describes every route of CONTRACT.md's route tables", async () => {
    const contract = contractRoutes(fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'CONTRACT.md'), 'utf8'));
    // The parse itself is checked: a table it stopped reading would make this test pass on nothing.
    expect(contract.length).toBeGreaterThanOrEqual(40);
    expect(contract).toEqual(expect.arrayContaining(['POST /v1/mmm/experiments/{id}/activate', 'GET /v1/mmm/tenants/{tenant_id}/audit', 'DELETE /v1/ubi/actors/{actor_id}', 'GET /metrics']));

    const doc = (await app.request('GET', '/v1/openapi.json')).body;
    const missing = contract.filter((route) => {
      const [method, p] = route.split(' ');
      return !doc.paths[p]?.[method.toLowerCase()];
    });

    expect(missing).toEqual(EXPECTED_MISSING);
    const decideOp = doc.paths['/v1/mmm/decide'].post;
    const decideSchema = decideOp.requestBody.content['application/json'].schema;
    expect(decideSchema.required).toEqual(expect.arrayContaining(['tenant_id', 'actor_id', 'actor_type', 'surface']));
    expect(decideSchema.properties.surface.enum).toEqual(['ide', 'ci', 'pr', 'alert']);
    expect(decideSchema.properties.actor_type.enum).toEqual(['human', 'ai_agent']);
    expect(decideOp.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]));
    expect(doc.paths['/v1/mmm/decisions/{decision_id}'].get.parameters).toEqual([expect.objectContaining({ name: 'decision_id', in: 'path', required: true })]);
    expect(doc.paths['/v1/mmm/playbooks'].post.responses['201']).toBeDefined();
    expect(doc.paths['/v1/mmm/receipts/keys'].get.security).toEqual([]);
  });

  it('when a decision has been made, then /metrics has the latency histogram with the 0.15 s bucket and counts the decision once, even when replayed', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, requestPlaybook());
    await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'metrics-actor' }), { 'Idempotency-Key': `${fx.tenant}-m` });
    await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'metrics-actor' }), { 'Idempotency-Key': `${fx.tenant}-m` });

    const res = await app.request('GET', '/metrics');

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = res.body as string;
    expect(text).toMatch(/^mmm_decision_latency_seconds_bucket\{[^}]*le="0\.15"[^}]*surface="ide"[^}]*\} \d+$/m);
    const les = [...text.matchAll(/^mmm_decision_latency_seconds_bucket\{le="([^"]+)",surface="ide",outcome="shown"\}/gm)].map((m) => m[1]);
    expect(les).toEqual(['0.05', '0.1', '0.15', '0.2', '0.3', '0.5', '1', '2', '+Inf']);
    expect(text).toContain(`mmm_decisions_total{tenant_id="${fx.tenant}",surface="ide",outcome="shown"} 1\n`);
    expect(text).toContain(`mmm_actions_total{tenant_id="${fx.tenant}",type="mirror"} 1\n`);
    // Aggregate only: no metric carries an actor id.
    expect(text).not.toContain('metrics-actor');
  });

  it('when /v1/mmm/health is called, then it is 200 ok with the version', async () => {
    const res = await app.request('GET', '/v1/mmm/health');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', version: expect.any(String) });
  });

  it('when /v1/mmm/ready is called with every dependency running, then it is 200 ready with postgres, redis and temporal up', async () => {
    const res = await app.request('GET', '/v1/mmm/ready');

    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
    const byName = Object.fromEntries(res.body.dependencies.map((d: { name: string }) => [d.name, d]));
    for (const name of ['postgres', 'redis', 'temporal']) {
      // Redis is reported but not required: without it decisions fail safe (tests/component/redis-outage.test.ts).
      expect(byName[name]).toEqual(expect.objectContaining({ name, status: 'up', required: name !== 'redis', latency_ms: expect.any(Number) }));
    }
    expect(byName.redis.mode).toBe('redis');
  });
});
