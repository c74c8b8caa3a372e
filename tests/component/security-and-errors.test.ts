/**
 * Authentication, tenant isolation, roles, and what hostile or malformed input gets back: always a 4xx with the
 * error envelope and the offending field named, never a 5xx.
 */
import jwt from 'jsonwebtoken';
import { TEST_JWT_SECRET, useTestApp } from '../support/harness';
import {
  buildFailuresPlaybook,
  buildFailuresSignal,
  decide,
  decideBody,
  expectEnvelope,
  fieldsOf,
  newTenant,
  publishPlaybook,
  requestPlaybook,
  type TenantFixture,
} from './fixtures';

jest.setTimeout(60000);

const app = useTestApp();

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('authentication', () => {
  const protectedRoutes: Array<[string, string]> = [
    ['POST', '/v1/mmm/decide'],
    ['GET', '/v1/mmm/decisions/dec_x'],
    ['POST', '/v1/mmm/decisions/dec_x/outcomes'],
    ['GET', '/v1/mmm/receipts/rcpt_x'],
    ['GET', '/v1/mmm/playbooks'],
    ['POST', '/v1/mmm/playbooks'],
    ['GET', '/v1/mmm/playbooks/pb_x'],
    ['PUT', '/v1/mmm/playbooks/pb_x'],
    ['DELETE', '/v1/mmm/playbooks/pb_x'],
    ['POST', '/v1/mmm/playbooks/pb_x/publish'],
    ['GET', '/v1/mmm/tenants/t1/policy'],
    ['PUT', '/v1/mmm/tenants/t1/policy'],
    ['GET', '/v1/mmm/actors/a1/preferences'],
    ['PUT', '/v1/mmm/actors/a1/preferences'],
    ['POST', '/v1/mmm/actors/a1/preferences/snooze'],
  ];

  it.each(protectedRoutes)('when %s %s is called without a token, then it is 401 missing_token with the envelope', async (method, path) => {
    const res = await app.request(method, path, method === 'GET' || method === 'DELETE' ? {} : { body: {} });

    expect(res.status).toBe(401);
    expectEnvelope(res.body, 'missing_token');
  });

  it('when the Authorization header is not a Bearer token, then it is 401 invalid_token', async () => {
    const res = await app.request('GET', '/v1/mmm/playbooks', { headers: { authorization: 'Basic YWRtaW46YWRtaW4=' } });

    expect(res.status).toBe(401);
    expectEnvelope(res.body, 'invalid_token');
  });

  it('when the token is signed with another secret, then it is 401 invalid_token', async () => {
    const forged = jwt.sign({ sub: 'svc', tenant_id: 't1', roles: ['service', 'mmm_admin'] }, 'not-the-secret', { algorithm: 'HS256', expiresIn: 600 });

    const res = await app.request('GET', '/v1/mmm/playbooks', { token: forged });

    expect(res.status).toBe(401);
    expectEnvelope(res.body, 'invalid_token');
  });

  it('when the token has expired, then it is 401 expired_token', async () => {
    const expired = jwt.sign({ sub: 'svc', tenant_id: 't1', roles: ['mmm_admin'], exp: nowSeconds() - 60 }, TEST_JWT_SECRET, { algorithm: 'HS256' });

    const res = await app.request('GET', '/v1/mmm/playbooks', { token: expired });

    expect(res.status).toBe(401);
    expectEnvelope(res.body, 'expired_token');
  });

  it('when the token names no algorithm ("alg": "none"), then it is 401 invalid_token', async () => {
    const unsigned = jwt.sign({ sub: 'svc', tenant_id: 't1', roles: ['mmm_admin'], exp: nowSeconds() + 600 }, '', { algorithm: 'none' });

    const res = await app.request('GET', '/v1/mmm/playbooks', { token: unsigned });

    expect(res.status).toBe(401);
    expectEnvelope(res.body, 'invalid_token');
  });

  it('when a validly signed token lacks tenant_id, then it is 401 invalid_token', async () => {
    const token = jwt.sign({ sub: 'svc', roles: ['mmm_admin'] }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: 600 });

    const res = await app.request('GET', '/v1/mmm/playbooks', { token });

    expect(res.status).toBe(401);
    expectEnvelope(res.body, 'invalid_token');
  });

  it('when a validly signed token has no exp, then it is 401 invalid_token', async () => {
    const token = jwt.sign({ sub: 'svc', tenant_id: 't1', roles: ['mmm_admin'] }, TEST_JWT_SECRET, { algorithm: 'HS256' });

    const res = await app.request('GET', '/v1/mmm/playbooks', { token });

    expect(res.status).toBe(401);
    expectEnvelope(res.body, 'invalid_token');
  });

  it.each([['/v1/mmm/health'], ['/v1/mmm/ready'], ['/v1/mmm/receipts/keys'], ['/metrics'], ['/v1/openapi.json']])(
    'when the public route %s is called without a token, then it answers 200',
    async (path) => {
      const res = await app.request('GET', path);

      expect(res.status).toBe(200);
    },
  );
});

describe('tenant isolation', () => {
  let a: TenantFixture;
  let b: TenantFixture;
  let bDecisionId: string;
  let bReceiptId: string;
  let bPlaybookId: string;

  beforeAll(async () => {
    a = newTenant(app, 'ta');
    b = newTenant(app, 'tb');
    const pb = await app.request('POST', '/v1/mmm/playbooks', { token: b.admin, body: requestPlaybook() });
    expect(pb.status).toBe(201);
    bPlaybookId = pb.body.playbook_id;
    const made = await decide(app, b.service, decideBody(b.tenant));
    expect(made.status).toBe(200);
    bDecisionId = made.body.decision_id;
    bReceiptId = made.body.receipt_id;
  });

  it("when tenant A's service asks for a decision in tenant B, then it is 403 forbidden_tenant", async () => {
    const res = await decide(app, a.service, decideBody(b.tenant));

    expect(res.status).toBe(403);
    expectEnvelope(res.body, 'forbidden_tenant');
  });

  it("when tenant A reads tenant B's decision, receipt, playbook or policy, then each is 403 forbidden_tenant", async () => {
    const attempts = [
      await app.request('GET', `/v1/mmm/decisions/${bDecisionId}`, { token: a.service }),
      await app.request('GET', `/v1/mmm/decisions/${bDecisionId}`, { token: a.admin }),
      await app.request('GET', `/v1/mmm/receipts/${bReceiptId}`, { token: a.service }),
      await app.request('GET', `/v1/mmm/playbooks/${bPlaybookId}`, { token: a.admin }),
      await app.request('GET', `/v1/mmm/tenants/${b.tenant}/policy`, { token: a.admin }),
    ];

    for (const res of attempts) {
      expect(res.status).toBe(403);
      expectEnvelope(res.body, 'forbidden_tenant');
    }
  });

  it("when tenant A tries to change tenant B's playbook, policy or decision outcomes, then each is 403 and B's data is unchanged", async () => {
    const attempts = [
      await app.request('PUT', `/v1/mmm/playbooks/${bPlaybookId}`, { token: a.admin, body: requestPlaybook({ title: 'Hijacked' }) }),
      await app.request('POST', `/v1/mmm/playbooks/${bPlaybookId}/publish`, { token: a.admin }),
      await app.request('DELETE', `/v1/mmm/playbooks/${bPlaybookId}`, { token: a.admin }),
      await app.request('PUT', `/v1/mmm/tenants/${b.tenant}/policy`, { token: a.admin, body: { max_nudges_per_window: 1000 } }),
      await app.request('POST', `/v1/mmm/decisions/${bDecisionId}/outcomes`, { token: a.service, body: { action_id: 'act_x', outcome: 'accepted' } }),
    ];

    for (const res of attempts) {
      expect(res.status).toBe(403);
      expectEnvelope(res.body, 'forbidden_tenant');
    }
    const playbook = await app.request('GET', `/v1/mmm/playbooks/${bPlaybookId}`, { token: b.admin });
    expect(playbook.body).toEqual(expect.objectContaining({ version: 1, status: 'draft', published_version: null }));
    expect(playbook.body.actions[0].title).toBe('Recent activity');
    const policy = await app.request('GET', `/v1/mmm/tenants/${b.tenant}/policy`, { token: b.admin });
    expect(policy.body.version).toBe(0);
    expect(policy.body.max_nudges_per_window).toBe(3);
  });

  it("when tenant A lists playbooks, then tenant B's playbooks are not among them", async () => {
    const mine = await app.request('POST', '/v1/mmm/playbooks', { token: a.admin, body: requestPlaybook() });

    const list = await app.request('GET', '/v1/mmm/playbooks', { token: a.admin });

    expect(list.status).toBe(200);
    expect(list.body.playbooks.map((p: { playbook_id: string }) => p.playbook_id)).toEqual([mine.body.playbook_id]);
  });

  it("when tenant A's admin reads an actor's preferences, then it sees tenant A's actor, not tenant B's actor of the same id", async () => {
    const put = await app.request('PUT', '/v1/mmm/actors/alice/preferences', { token: b.admin, body: { opt_out_categories: ['focus'] } });
    expect(put.status).toBe(200);

    const res = await app.request('GET', '/v1/mmm/actors/alice/preferences', { token: a.admin });

    expect(res.status).toBe(200);
    expect(res.body.tenant_id).toBe(a.tenant);
    expect(res.body.opt_out_categories).toEqual([]);
  });

  it("when tenant A publishes a playbook, then tenant B's decisions do not use it", async () => {
    const c = newTenant(app, 'tc');
    const d = newTenant(app, 'td');
    await publishPlaybook(app, c.admin, requestPlaybook());

    const inD = await decide(app, d.service, decideBody(d.tenant));

    expect(inD.body.outcome).toBe('no_match');
  });
});

describe('unknown ids and roles', () => {
  it('when ids that do not exist in the caller tenant are read, then each is 404 with a *_not_found code', async () => {
    const fx = newTenant(app);
    const cases: Array<[string, string, string, string]> = [
      ['GET', '/v1/mmm/decisions/dec_does-not-exist', fx.service, 'decision_not_found'],
      ['GET', '/v1/mmm/receipts/rcpt_does-not-exist', fx.service, 'receipt_not_found'],
      ['GET', '/v1/mmm/playbooks/pb_does-not-exist', fx.admin, 'playbook_not_found'],
      ['DELETE', '/v1/mmm/playbooks/pb_does-not-exist', fx.admin, 'playbook_not_found'],
      ['POST', '/v1/mmm/playbooks/pb_does-not-exist/publish', fx.admin, 'playbook_not_found'],
    ];
    for (const [method, path, token, code] of cases) {
      const res = await app.request(method, path, { token });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expectEnvelope(res.body, code);
    }
    const put = await app.request('PUT', '/v1/mmm/playbooks/pb_does-not-exist', { token: fx.admin, body: requestPlaybook() });
    expect(put.status).toBe(404);
    expectEnvelope(put.body, 'playbook_not_found');
  });

  it('when a playbook version that was never written is asked for, then it is 404', async () => {
    const fx = newTenant(app);
    const pb = await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook() });

    const res = await app.request('GET', `/v1/mmm/playbooks/${pb.body.playbook_id}?version=7`, { token: fx.admin });

    expect(res.status).toBe(404);
    expectEnvelope(res.body, 'playbook_version_not_found');
  });

  it('when a path id is outside the id alphabet or too long, then it is 400 naming the path parameter', async () => {
    const fx = newTenant(app);

    const sqlish = await app.request('GET', `/v1/mmm/decisions/${encodeURIComponent("x' OR '1'='1")}`, { token: fx.service });
    const long = await app.request('GET', `/v1/mmm/receipts/${'r'.repeat(129)}`, { token: fx.service });
    const badVersion = await app.request('GET', '/v1/mmm/playbooks/pb_x?version=-1', { token: fx.admin });

    expect(sqlish.status).toBe(400);
    expect(fieldsOf(sqlish.body)).toEqual(['path.decision_id']);
    expect(long.status).toBe(400);
    expect(fieldsOf(long.body)).toEqual(['path.receipt_id']);
    expect(badVersion.status).toBe(400);
    expect(fieldsOf(badVersion.body)).toEqual(['query.version']);
  });

  it('when a token without an admin role uses the playbook routes, then every one is 403 forbidden_role', async () => {
    const fx = newTenant(app);
    const pb = await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook() });
    const id = pb.body.playbook_id;
    const nonAdmins = [fx.service, fx.actor('alice'), fx.actor('carol', ['approver'])];

    for (const token of nonAdmins) {
      const attempts = [
        await app.request('GET', '/v1/mmm/playbooks', { token }),
        await app.request('POST', '/v1/mmm/playbooks', { token, body: requestPlaybook() }),
        await app.request('GET', `/v1/mmm/playbooks/${id}`, { token }),
        await app.request('PUT', `/v1/mmm/playbooks/${id}`, { token, body: requestPlaybook() }),
        await app.request('DELETE', `/v1/mmm/playbooks/${id}`, { token }),
        await app.request('POST', `/v1/mmm/playbooks/${id}/publish`, { token }),
      ];
      for (const res of attempts) {
        expect(res.status).toBe(403);
        expectEnvelope(res.body, 'forbidden_role');
      }
    }
    const after = await app.request('GET', `/v1/mmm/playbooks/${id}`, { token: fx.admin });
    expect(after.body).toEqual(expect.objectContaining({ version: 1, status: 'draft' }));
  });

  it('when a token without an admin role reads or writes the tenant policy, then it is 403 forbidden_role', async () => {
    const fx = newTenant(app);

    const get = await app.request('GET', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.service });
    const put = await app.request('PUT', `/v1/mmm/tenants/${fx.tenant}/policy`, { token: fx.actor('alice'), body: { max_nudges_per_window: 100 } });

    expect(get.status).toBe(403);
    expectEnvelope(get.body, 'forbidden_role');
    expect(put.status).toBe(403);
    expectEnvelope(put.body, 'forbidden_role');
  });

  it('when a route does not exist, then it is 404 route_not_found; a method a known path does not declare is 405', async () => {
    const fx = newTenant(app);

    const unknown = await app.request('GET', '/v1/mmm/nothing-here', { token: fx.service });
    const anonymous = await app.request('GET', '/admin');
    const wrongMethod = await app.request('PATCH', '/v1/mmm/decide', { token: fx.service, body: {} });

    for (const res of [unknown, anonymous]) {
      expect(res.status).toBe(404);
      expectEnvelope(res.body, 'route_not_found');
    }
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expectEnvelope(wrongMethod.body, 'method_not_allowed');
  });
});

describe('malformed and invalid decide requests', () => {
  it('when the body is not valid JSON, then it is 400 malformed_json naming the body', async () => {
    const fx = newTenant(app);

    const res = await app.request('POST', '/v1/mmm/decide', { token: fx.service, rawBody: '{"tenant_id": "x",' });

    expect(res.status).toBe(400);
    expectEnvelope(res.body, 'malformed_json');
    expect(fieldsOf(res.body)).toEqual(['(body)']);
  });

  it('when required fields are missing, then it is 422 naming each of them', async () => {
    const fx = newTenant(app);

    const res = await decide(app, fx.service, {});

    expect(res.status).toBe(422);
    expectEnvelope(res.body, 'validation_failed');
    expect(fieldsOf(res.body).sort()).toEqual(['actor_id', 'actor_type', 'surface', 'tenant_id']);
  });

  it.each([
    ['surface "email"', { surface: 'email' }, 'surface'],
    ['actor_type "robot"', { actor_type: 'robot' }, 'actor_type'],
    ['signal severity "urgent"', { signal: buildFailuresSignal(3, { severity: 'urgent' }) }, 'signal.severity'],
    ['signal source "twitter"', { signal: buildFailuresSignal(3, { source: 'twitter' }) }, 'signal.source'],
  ])('when the request has the unknown enum value %s, then it is 422 naming the field', async (_label, over, field) => {
    const fx = newTenant(app);

    const res = await decide(app, fx.service, decideBody(fx.tenant, over));

    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toEqual([field]);
  });

  it('when the request has an unknown extra field, then it is 422 and the details name it', async () => {
    const fx = newTenant(app);

    const res = await decide(app, fx.service, decideBody(fx.tenant, { is_admin: true }));

    expect(res.status).toBe(422);
    expectEnvelope(res.body, 'validation_failed');
    expect(JSON.stringify(res.body.error.details)).toContain('is_admin');
  });

  it.each([
    ['actor_id as a number', { actor_id: 42 }, 'actor_id'],
    ['surface as an array', { surface: ['ide'] }, 'surface'],
    ['signal as a string', { signal: 'build failed' }, 'signal'],
    ['a nested object in the signal payload', { signal: buildFailuresSignal(3, { payload: { failures: { $gt: 0 } } }) }, 'signal.payload.failures'],
    ['occurred_at that is not a date-time', { signal: buildFailuresSignal(3, { occurred_at: 'yesterday' }) }, 'signal.occurred_at'],
  ])('when the request has %s, then it is 422 naming the field', async (_label, over, field) => {
    const fx = newTenant(app);

    const res = await decide(app, fx.service, decideBody(fx.tenant, over));

    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toContain(field);
  });

  it('when the body is larger than 256 KB, then it is 413 body_too_large naming the body', async () => {
    const fx = newTenant(app);

    const res = await decide(app, fx.service, decideBody(fx.tenant, { branch: 'b'.repeat(300 * 1024) }));

    expect(res.status).toBe(413);
    expectEnvelope(res.body, 'body_too_large');
    expect(fieldsOf(res.body)).toEqual(['(body)']);
  });

  it('when the body is sent as text/plain, then it is refused with a 4xx envelope and nothing is decided', async () => {
    const fx = newTenant(app);

    const res = await app.request('POST', '/v1/mmm/decide', {
      token: fx.service,
      rawBody: JSON.stringify(decideBody(fx.tenant)),
      headers: { 'content-type': 'text/plain' },
    });

    expect(res.status).toBe(415);
    expectEnvelope(res.body);
    expect(await app.runtime.repos.ledger.chain(fx.tenant)).toEqual([]);
  });
});

describe('hostile values', () => {
  it('when ids carry unicode, SQL or are too long, then it is 422 naming the id field', async () => {
    const fx = newTenant(app);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ actor_id: 'ålice' }, 'actor_id'],
      [{ actor_id: 'alice\u202Eevil' }, 'actor_id'],
      [{ actor_id: "alice'; DROP TABLE decisions;--" }, 'actor_id'],
      [{ actor_id: 'a'.repeat(129) }, 'actor_id'],
      [{ branch: 'b'.repeat(256) }, 'branch'],
      [{ file_path: 'f'.repeat(1025) }, 'file_path'],
      [{ signal: buildFailuresSignal(3, { kind: 'bÜild' }) }, 'signal.kind'],
      [{ signal: buildFailuresSignal(3, { payload: { note: 'n'.repeat(513) } }) }, 'signal.payload.note'],
    ];
    for (const [over, field] of cases) {
      const res = await decide(app, fx.service, decideBody(fx.tenant, over));
      expect([field, res.status]).toEqual([field, 422]);
      expect(fieldsOf(res.body)).toContain(field);
    }
  });

  it('when the body has a top-level __proto__ key, then it is 422 naming it and no object prototype is polluted', async () => {
    const fx = newTenant(app);
    const raw = JSON.stringify(decideBody(fx.tenant)).replace('{', '{"__proto__":{"polluted":"yes"},');

    const res = await app.request('POST', '/v1/mmm/decide', { token: fx.service, rawBody: raw });

    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body.error.details)).toContain('__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('when a signal payload has a __proto__ key, then the server does not fail and no object prototype is polluted', async () => {
    const fx = newTenant(app);
    const raw = JSON.stringify(decideBody(fx.tenant, { signal: buildFailuresSignal(3) })).replace('"payload":{', '"payload":{"__proto__":"x","constructor":"y",');

    const res = await app.request('POST', '/v1/mmm/decide', { token: fx.service, rawBody: raw });

    expect(res.status).toBeLessThan(500);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(typeof ({} as { constructor: unknown }).constructor).toBe('function');
  });

  it('when the branch and repo carry SQL-looking identifiers, then the decision is made and stores them verbatim', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());
    // Single words: SQL written as a sentence is free text, which the privacy filter drops (the next test).
    const branch = "main';DROP/**/TABLE/**/decisions;--";
    const repo = 'repo"OR"1"="1';

    const res = await decide(app, fx.service, decideBody(fx.tenant, { branch, repo_id: repo, signal: buildFailuresSignal(3) }));
    const read = await app.request('GET', `/v1/mmm/decisions/${res.body.decision_id}`, { token: fx.service });

    expect(res.status).toBe(200);
    expect(res.body.outcome).toBe('shown');
    expect(read.body.context.branch).toBe(branch);
    expect(read.body.context.repo_id).toBe(repo);
    expect(res.body.actions[0].payload.title).toBe(`Build activity on ${branch}`);
  });

  it('when the branch and repo carry SQL written as text, then the privacy filter drops both and names them, and the decision is made without them', async () => {
    const fx = newTenant(app);
    await publishPlaybook(app, fx.admin, buildFailuresPlaybook());

    const res = await decide(app, fx.service, decideBody(fx.tenant, { branch: "main'; DROP TABLE decisions; --", repo_id: 'repo" OR 1=1 --', signal: buildFailuresSignal(3) }));

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'shown', dropped_fields: ['repo_id', 'branch'], degraded_mode: true });
    expect(res.body.degraded_reasons).toContain('privacy_fields_dropped');
    expect(res.body.context).toMatchObject({ branch: null, repo_id: null });
    expect(JSON.stringify(res.body)).not.toContain('DROP TABLE');
  });

  it('when a playbook condition uses a nested-quantifier regex, then the playbook is refused with 422 naming conditions.0.value', async () => {
    const fx = newTenant(app);

    const res = await app.request('POST', '/v1/mmm/playbooks', {
      token: fx.admin,
      body: requestPlaybook({}, { conditions: [{ field: 'branch', op: 'matches', value: '^(a+)+$' }] }),
    });

    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toEqual(['conditions.0.value']);
  });

  // Ambiguous alternation under a quantifier backtracks exponentially like nested quantifiers do: in plain Node,
  // /^(a|a)*$/ takes ~8 s on 26 "a"s and a "!", /^(\w|\d)+$/ ~1.6 s on 24 digits and a "!", and a request's branch
  // may be 255 characters. The regex runs inside
  // the decide workflow (domain/playbook-matching.ts), so such a playbook would stall decisions for the tenant.
  it.each([['^(a|a)*$'], ['^(a|aa)+$'], ['^(\\w|\\d)+$']])(
    'when a playbook condition uses the catastrophic alternation regex %s, then the playbook is refused with 422 naming conditions.0.value',
    async (pattern) => {
      const fx = newTenant(app);

      const res = await app.request('POST', '/v1/mmm/playbooks', {
        token: fx.admin,
        body: requestPlaybook({}, { conditions: [{ field: 'branch', op: 'matches', value: pattern }] }),
      });

      expect(res.status).toBe(422);
      expect(fieldsOf(res.body)).toEqual(['conditions.0.value']);
    },
  );

  it('when a mirror action says "you should", then the playbook is refused with 422 naming the action body', async () => {
    const fx = newTenant(app);

    const res = await app.request('POST', '/v1/mmm/playbooks', {
      token: fx.admin,
      body: requestPlaybook({ body: 'You should split this pull request.' }),
    });

    expect(res.status).toBe(422);
    expect(fieldsOf(res.body)).toEqual(['actions.0.body']);
  });
});

type HostileCase = { label: string; body?: unknown; raw?: string; field?: string; names?: string };

function decideCorpus(tenant: string): HostileCase[] {
  const base = decideBody(tenant);
  const sig = (over: Record<string, unknown>) => ({ ...base, signal: buildFailuresSignal(3, over) });
  const payloadOf33 = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
  return [
    { label: 'empty object', body: {}, field: 'tenant_id' },
    { label: 'array body', body: [base], field: '(body)' },
    { label: 'JSON null', raw: 'null', field: '(body)' },
    { label: 'JSON string', raw: '"decide"', field: '(body)' },
    { label: 'truncated JSON', raw: '{"tenant_id":', field: '(body)' },
    { label: 'deeply nested arrays', raw: '['.repeat(5000) + ']'.repeat(5000), field: '(body)' },
    { label: 'missing surface', body: { ...base, surface: undefined }, field: 'surface' },
    { label: 'null surface', body: { ...base, surface: null }, field: 'surface' },
    { label: 'surface email', body: { ...base, surface: 'email' }, field: 'surface' },
    { label: 'actor_type robot', body: { ...base, actor_type: 'robot' }, field: 'actor_type' },
    { label: 'empty actor_id', body: { ...base, actor_id: '' }, field: 'actor_id' },
    { label: 'actor_id with spaces', body: { ...base, actor_id: 'alice smith' }, field: 'actor_id' },
    { label: 'actor_id with path traversal', body: { ...base, actor_id: '../../etc/passwd' }, field: 'actor_id' },
    { label: 'actor_id with emoji', body: { ...base, actor_id: 'alice😀' }, field: 'actor_id' },
    { label: 'actor_id SQL', body: { ...base, actor_id: "1' OR '1'='1" }, field: 'actor_id' },
    { label: 'tenant_id 129 chars', body: { ...base, tenant_id: 't'.repeat(129) }, field: 'tenant_id' },
    { label: 'empty repo_id', body: { ...base, repo_id: '' }, field: 'repo_id' },
    { label: 'repo_id 201 chars', body: { ...base, repo_id: 'r'.repeat(201) }, field: 'repo_id' },
    { label: 'branch 10k chars', body: { ...base, branch: 'x'.repeat(10_000) }, field: 'branch' },
    { label: 'extra admin field', body: { ...base, admin: true }, field: 'admin', names: 'admin' },
    { label: '__proto__ key', raw: JSON.stringify(base).replace('{', '{"__proto__":{"admin":true},'), field: '__proto__', names: '__proto__' },
    { label: 'constructor key', raw: JSON.stringify(base).replace('{', '{"constructor":{"prototype":{"admin":true}},'), field: 'constructor', names: 'constructor' },
    { label: 'signal missing signal_id', body: sig({ signal_id: undefined }), field: 'signal.signal_id' },
    { label: 'signal severity urgent', body: sig({ severity: 'urgent' }), field: 'signal.severity' },
    { label: 'signal kind upper case', body: sig({ kind: 'BuildFailures' }), field: 'signal.kind' },
    { label: 'signal occurred_at without offset', body: sig({ occurred_at: '2024-01-01T00:00:00' }), field: 'signal.occurred_at' },
    { label: 'signal extra field', body: sig({ script: '<script>' }), field: 'signal.script', names: 'script' },
    { label: 'payload key with a dash', body: sig({ payload: { 'bad-key': 1 } }), field: 'signal.payload.bad-key' },
    { label: 'payload array value', body: sig({ payload: { list: [1, 2, 3] } }), field: 'signal.payload.list' },
    { label: 'payload 33 keys', body: sig({ payload: payloadOf33 }), field: 'signal.payload' },
    { label: 'payload string 100k chars', body: sig({ payload: { note: 'n'.repeat(100_000) } }), field: 'signal.payload.note' },
    { label: 'payload number overflowing to Infinity', raw: JSON.stringify(sig({ payload: { n: 1 } })).replace('"n":1', '"n":1e400'), field: 'signal.payload.n' },
    { label: 'body over 256 KB', body: { ...base, branch: 'x'.repeat(270_000) }, field: '(body)' },
  ];
}

function playbookCorpus(): HostileCase[] {
  const good = requestPlaybook();
  const action = (over: Record<string, unknown>) => ({ ...good, actions: [{ ...(good.actions[0] as object), ...over }] });
  const condition = (c: Record<string, unknown>) => ({ ...good, conditions: [c] });
  return [
    { label: 'empty object', body: {}, field: 'name' },
    { label: 'array body', body: [good], field: '(body)' },
    { label: 'truncated JSON', raw: '{"name": "x", "actions": [', field: '(body)' },
    { label: 'empty name', body: { ...good, name: '' }, field: 'name' },
    { label: 'name 10k chars', body: { ...good, name: 'n'.repeat(10_000) }, field: 'name' },
    { label: 'name as number', body: { ...good, name: 42 }, field: 'name' },
    { label: 'category with spaces', body: { ...good, category: 'Build Health' }, field: 'category' },
    { label: 'no triggers', body: { ...good, triggers: [] }, field: 'triggers' },
    { label: 'triggers as object', body: { ...good, triggers: { kind: 'request' } }, field: 'triggers' },
    { label: 'trigger kind with spaces', body: { ...good, triggers: [{ kind: 'Bad Kind' }] }, field: 'triggers.0.kind' },
    { label: 'trigger source email', body: { ...good, triggers: [{ kind: 'x', source: 'email' }] }, field: 'triggers.0.source' },
    { label: 'trigger min_severity urgent', body: { ...good, triggers: [{ kind: 'x', min_severity: 'urgent' }] }, field: 'triggers.0.min_severity' },
    { label: 'trigger surface email', body: { ...good, triggers: [{ kind: 'x', surfaces: ['email'] }] }, field: 'triggers.0.surfaces.0' },
    { label: 'condition on process.env', body: condition({ field: 'process.env.SECRET', op: 'eq', value: 'x' }), field: 'conditions.0.field' },
    { label: 'condition on __proto__', body: condition({ field: '__proto__.polluted', op: 'eq', value: 'x' }), field: 'conditions.0.field' },
    { label: 'condition op like', body: condition({ field: 'branch', op: 'like', value: 'x%' }), field: 'conditions.0.op' },
    { label: 'condition in with a scalar', body: condition({ field: 'branch', op: 'in', value: 'main' }), field: 'conditions.0.value' },
    { label: 'condition gte with a string', body: condition({ field: 'signal.payload.n', op: 'gte', value: '3' }), field: 'conditions.0.value' },
    { label: 'condition nested object value', body: condition({ field: 'branch', op: 'eq', value: { $ne: null } }), field: 'conditions.0.value' },
    { label: 'condition invalid regex', body: condition({ field: 'branch', op: 'matches', value: '(' }), field: 'conditions.0.value' },
    { label: 'condition regex over 200 chars', body: condition({ field: 'branch', op: 'matches', value: 'a'.repeat(201) }), field: 'conditions.0.value' },
    { label: 'condition regex (a+)+', body: condition({ field: 'branch', op: 'matches', value: '(a+)+$' }), field: 'conditions.0.value' },
    { label: 'condition regex (.*a){20}', body: condition({ field: 'branch', op: 'matches', value: '(.*a){20}' }), field: 'conditions.0.value' },
    { label: 'no actions', body: { ...good, actions: [] }, field: 'actions' },
    { label: 'action type nudge', body: action({ type: 'nudge' }), field: 'actions.0.type' },
    { label: 'action title 201 chars', body: action({ title: 't'.repeat(201) }), field: 'actions.0.title' },
    { label: 'action placeholder outside the allow-list', body: action({ body: 'Token {{process.env.SECRET}}' }), field: 'actions.0.body' },
    { label: 'action placeholder constructor', body: action({ title: '{{constructor}}' }), field: 'actions.0.title' },
    { label: 'mirror saying you must', body: action({ body: 'You must write tests.' }), field: 'actions.0.body' },
    { label: 'mirror saying please', body: action({ title: 'Please review' }), field: 'actions.0.title' },
    { label: 'mirror shouting', body: action({ body: 'Builds failed!!!' }), field: 'actions.0.body' },
    { label: 'multiplier without consent', body: action({ type: 'multiplier', requires_consent: false }), field: 'actions.0.requires_consent' },
    { label: 'mentor with dual channel', body: action({ type: 'mentor', requires_dual_channel: true }), field: 'actions.0.requires_dual_channel' },
    { label: 'priority 101', body: action({ priority: 101 }), field: 'actions.0.priority' },
    { label: 'negative cool-down', body: action({ cooldown_minutes: -1 }), field: 'actions.0.cooldown_minutes' },
    { label: 'read-only status', body: { ...good, status: 'published' }, field: 'status', names: 'status' },
    { label: 'read-only tenant_id', body: { ...good, tenant_id: 'other-tenant' }, field: 'tenant_id', names: 'tenant_id' },
    { label: '__proto__ key', raw: JSON.stringify(good).replace('{', '{"__proto__":{"status":"published"},'), field: '__proto__', names: '__proto__' },
    { label: 'eleven actions', body: { ...good, actions: Array(11).fill(good.actions[0]) }, field: 'actions' },
    { label: 'body over 256 KB', body: { ...good, description: 'd'.repeat(270_000) }, field: '(body)' },
  ];
}

async function send(path: string, token: string, c: HostileCase) {
  return c.raw !== undefined ? app.request('POST', path, { token, rawBody: c.raw }) : app.request('POST', path, { token, body: c.body });
}

function expectRefused(c: HostileCase, res: { status: number; body: any }) {
  // The label travels with the status so a failure says which body got through.
  expect({ label: c.label, ok: [400, 413, 415, 422].includes(res.status) }).toEqual({ label: c.label, ok: true });
  expectEnvelope(res.body);
  if (c.field) expect({ label: c.label, fields: fieldsOf(res.body) }).toEqual({ label: c.label, fields: expect.arrayContaining([c.field]) });
  if (c.names) expect(JSON.stringify(res.body.error.details)).toContain(c.names);
}

describe('hostile corpus', () => {
  it('when ~30 hostile bodies are sent to /v1/mmm/decide, then each is a 4xx envelope naming the offending field and none is decided', async () => {
    const fx = newTenant(app);
    const corpus = decideCorpus(fx.tenant);
    expect(corpus.length).toBeGreaterThanOrEqual(30);

    for (const c of corpus) expectRefused(c, await send('/v1/mmm/decide', fx.service, c));

    expect(await app.runtime.repos.ledger.chain(fx.tenant)).toEqual([]);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('when ~30 hostile bodies are sent to /v1/mmm/playbooks, then each is a 4xx envelope naming the offending field and none is stored', async () => {
    const fx = newTenant(app);
    const corpus = playbookCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(30);

    for (const c of corpus) expectRefused(c, await send('/v1/mmm/playbooks', fx.admin, c));

    const list = await app.request('GET', '/v1/mmm/playbooks', { token: fx.admin });
    expect(list.body.playbooks).toEqual([]);
  });

  it('when the same hostile playbooks are sent as a PUT over an existing playbook, then each is a 4xx and the playbook keeps version 1', async () => {
    const fx = newTenant(app);
    const pb = await app.request('POST', '/v1/mmm/playbooks', { token: fx.admin, body: requestPlaybook() });

    for (const c of playbookCorpus()) {
      const path = `/v1/mmm/playbooks/${pb.body.playbook_id}`;
      const res = c.raw !== undefined ? await app.request('PUT', path, { token: fx.admin, rawBody: c.raw }) : await app.request('PUT', path, { token: fx.admin, body: c.body });
      expectRefused(c, res);
    }

    const after = await app.request('GET', `/v1/mmm/playbooks/${pb.body.playbook_id}`, { token: fx.admin });
    expect(after.body.version).toBe(1);
  });
});
