/**
 * Authorisation is declared once per route (`auth` in the route spec) and enforced before the handler. This file
 * walks the app's own route table (so a route added later is walked too) with every kind of caller: no token, the
 * actor themself, a peer actor, `service`, each admin role, `approver`, and a token of another tenant holding every
 * role (and the actor's own sub). Each status is compared with what the declared rule allows. It also pins what the
 * behavioural-data routes let a peer see, with real profiles and signals, and what the OpenAPI document says.
 */
import express from 'express';
import { allRoutes, type AppDeps } from '../../api/app';
import { ROLES } from '../../api/auth';
import type { AuthRule } from '../../api/authorization';
import { mountRoutes, type RouteSpec } from '../../api/route';
import { useTestApp } from '../support/harness';
import { event, failingToday, ingestEvents, recompute, steadyHistory } from '../support/ubi-fakes';
import { decide, decideBody, expectEnvelope, newTenant, publishPlaybook, putPolicy, requestPlaybook, type TenantFixture } from './fixtures';

jest.setTimeout(120000);

const app = useTestApp();

/** The real route table: built without dependencies (handlers are not run here, only their declarations read). */
const ROUTES: RouteSpec[] = allRoutes({ repos: {}, decide: {}, verifier: {}, metrics: {}, logger: {}, checks: [], version: 'test' } as unknown as AppDeps);
const keyOf = (r: RouteSpec) => `${r.method.toUpperCase()} ${r.path}`;

/** The refusals the declared rules give; a 403 with another code is a use case's own rule (e.g. the minimum group size). */
const AUTHZ_CODES = ['forbidden_role', 'forbidden_actor', 'forbidden_tenant'];

interface Caller {
  name: string;
  sub: string;
  roles: string[];
  /** Another tenant's token: it addresses the first tenant's data through the request. */
  otherTenant?: boolean;
  anonymous?: boolean;
}
/** Every request below names alice as the actor (path, query, body, and the owner of the decision and action). */
const SELF = 'alice';
const CALLERS: Caller[] = [
  { name: 'no token', sub: '', roles: [], anonymous: true },
  { name: 'the actor (alice, no role)', sub: SELF, roles: [] },
  { name: 'a peer actor (bob, no role)', sub: 'bob', roles: [] },
  { name: 'service', sub: 'svc-ide', roles: ['service'] },
  { name: 'tenant_admin', sub: 'admin-1', roles: ['tenant_admin'] },
  { name: 'mmm_admin', sub: 'mmm-admin-1', roles: ['mmm_admin'] },
  { name: 'approver', sub: 'approver-1', roles: ['approver'] },
  { name: 'another tenant, every role, sub alice', sub: SELF, roles: [...ROLES], otherTenant: true },
];

/** What the declared rule allows a caller of the route's own tenant; read from the table, not from the enforcer. */
function allows(rule: AuthRule, caller: Caller): boolean {
  if (rule.roles === 'any') return true;
  if (caller.roles.some((r) => (rule.roles as readonly string[]).includes(r))) return true;
  return rule.self !== undefined && caller.sub === SELF;
}

/** A route addresses a tenant through the request: by its id, or by an id only that tenant's data has. */
const addressesTenant = (r: RouteSpec) => r.auth?.tenant !== 'token' || /:(decision_id|action_id|receipt_id|id)(\/|$)/.test(r.path);

interface Fixture {
  a: TenantFixture;
  b: TenantFixture;
  decisionId: string;
  receiptId: string;
  actionId: string;
  playbookId: string;
  experimentId: string;
}

function pathFor(r: RouteSpec, fx: Fixture): string {
  const values: Record<string, string> = {
    actor_id: SELF,
    tenant_id: fx.a.tenant,
    decision_id: fx.decisionId,
    receipt_id: fx.receiptId,
    action_id: fx.actionId,
    id: r.path.startsWith('/v1/mmm/experiments/') ? fx.experimentId : fx.playbookId,
    team_id: 'team-a',
  };
  return r.path.replace(/:([A-Za-z_]+)/g, (_m, name: string) => {
    if (!(name in values)) throw new Error(`${keyOf(r)}: the matrix has no value for :${name}; add one`);
    return encodeURIComponent(values[name]);
  });
}

/** Query strings and bodies valid enough that an allowed caller reaches the use case; routes not listed get none / {}. */
function requestFor(r: RouteSpec, fx: Fixture): { path: string; body?: unknown } {
  const queries: Record<string, string> = {
    'GET /v1/ubi/signals': `?actor_id=${SELF}`,
    'GET /v1/ubi/signals/recent': `?actor_id=${SELF}&tenant_id=${fx.a.tenant}`,
  };
  const bodies: Record<string, unknown> = {
    'POST /v1/mmm/decide': decideBody(fx.a.tenant, { actor_id: SELF }),
    'POST /v1/mmm/decisions/:decision_id/outcomes': { action_id: fx.actionId, outcome: 'accepted' },
    'POST /v1/mmm/actions/:action_id/consent': { decision: 'consent' },
    'POST /v1/mmm/actions/:action_id/approve': { channel: 'slack', decision: 'approve' },
    'POST /v1/mmm/playbooks': requestPlaybook(),
    'PUT /v1/mmm/playbooks/:id': requestPlaybook(),
    'POST /v1/mmm/actors/:actor_id/preferences/snooze': { duration_minutes: 30 },
    'POST /v1/mmm/experiments': experimentBody(fx.playbookId),
    'PUT /v1/mmm/experiments/:id': experimentBody(fx.playbookId),
    'POST /v1/ubi/events': { events: [event({ tenant_id: fx.a.tenant, actor_id: SELF, team_id: 'team-a' }, 'ide_session', new Date(), { duration_ms: 1000 })] },
  };
  const key = keyOf(r);
  const path = pathFor(r, fx) + (queries[key] ?? '');
  return r.method === 'get' || r.method === 'delete' ? { path } : { path, body: bodies[key] ?? {} };
}

const experimentBody = (playbookId: string) => ({ name: 'Matrix', playbook_id: playbookId, arms: [{ arm_id: 'a', weight: 1 }, { arm_id: 'b', weight: 1 }] });

async function setUpTenant(): Promise<Fixture> {
  const a = newTenant(app, 'authz-a');
  const b = newTenant(app, 'authz-b');
  await putPolicy(app, a, { approval_timeout_minutes: 10 });
  const { playbook_id } = await publishPlaybook(
    app,
    a.admin,
    requestPlaybook({ type: 'multiplier', title: 'Re-run the flaky suite', body: 'Re-run the tests of {{repo_id}}.', requires_consent: true, requires_dual_channel: true }, { name: 'Re-run', category: 'ci_hygiene' }),
  );
  const made = await decide(app, a.service, decideBody(a.tenant, { actor_id: SELF, repo_id: 'payments', branch: 'main' }));
  expect(made.status).toBe(200);
  const action = made.body.actions.find((x: { type: string }) => x.type === 'multiplier');
  expect(action).toBeDefined();
  // The approval workflow starts with the decision; consent waits for it, so the walk does not race its start.
  for (let i = 0; ; i++) {
    const s = await app.request('GET', `/v1/mmm/actions/${action.action_id}/approval-status`, { token: a.service });
    if (s.status === 200 && s.body.status === 'awaiting_consent') break;
    if (i > 100) throw new Error(`the approval did not open: ${JSON.stringify(s.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Alice has a UBI profile, so allowed readers get it (not a 404).
  await ingestEvents(app, a.service, [event({ tenant_id: a.tenant, actor_id: SELF, team_id: 'team-a' }, 'build_completed', new Date(Date.now() - 60_000), { status: 'success', duration_ms: 1000 })]);
  await app.runtime.ubi.batcher?.drain();
  const experiment = await app.request('POST', '/v1/mmm/experiments', { token: a.admin, body: experimentBody(playbook_id) });
  expect(experiment.status).toBe(201);
  return { a, b, decisionId: made.body.decision_id, receiptId: made.body.receipt_id, actionId: action.action_id, playbookId: playbook_id, experimentId: experiment.body.experiment_id };
}

describe('the route table', () => {
  it('when the routes are read, then every route that is not public declares its authorisation rule', () => {
    const undeclared = ROUTES.filter((r) => !r.public && !r.auth).map(keyOf);

    expect(ROUTES.length).toBeGreaterThan(25);
    expect(undeclared).toEqual([]);
  });

  it('when the declared rules are read, then they are the reviewed table (a rule changed or a route added shows up here)', () => {
    const render = (r: RouteSpec) => {
      if (r.public) return 'public';
      if (!r.auth) return 'NONE';
      const roles = r.auth.roles === 'any' ? 'any' : r.auth.roles.length ? r.auth.roles.join(',') : '-';
      return `${roles}${r.auth.self ? ` | self:${r.auth.self}` : ''} | tenant:${r.auth.tenant}`;
    };

    expect(Object.fromEntries(ROUTES.map((r) => [keyOf(r), render(r)]))).toEqual({
    'POST /v1/mmm/decide': 'service | self:body | tenant:body',
    'GET /v1/mmm/decisions/:decision_id': 'service,approver,mmm_admin,tenant_admin | self:resource | tenant:token',
    'POST /v1/mmm/decisions/:decision_id/outcomes': 'service,mmm_admin,tenant_admin | self:resource | tenant:token',
    'GET /v1/mmm/receipts/keys': 'public',
    'GET /v1/mmm/receipts/:receipt_id': 'service,approver,mmm_admin,tenant_admin | self:resource | tenant:token',
    'GET /v1/mmm/actors/:actor_id/preferences': 'mmm_admin,tenant_admin | self:path | tenant:token',
    'PUT /v1/mmm/actors/:actor_id/preferences': 'mmm_admin,tenant_admin | self:path | tenant:token',
    'POST /v1/mmm/actors/:actor_id/preferences/snooze': 'mmm_admin,tenant_admin | self:path | tenant:token',
    'GET /v1/mmm/playbooks': 'mmm_admin,tenant_admin | tenant:token',
    'POST /v1/mmm/playbooks': 'mmm_admin,tenant_admin | tenant:token',
    'GET /v1/mmm/playbooks/:id': 'mmm_admin,tenant_admin | tenant:token',
    'PUT /v1/mmm/playbooks/:id': 'mmm_admin,tenant_admin | tenant:token',
    'DELETE /v1/mmm/playbooks/:id': 'mmm_admin,tenant_admin | tenant:token',
    'POST /v1/mmm/playbooks/:id/publish': 'mmm_admin,tenant_admin | tenant:token',
    'GET /v1/mmm/tenants/:tenant_id/policy': 'mmm_admin,tenant_admin | tenant:path',
    'PUT /v1/mmm/tenants/:tenant_id/policy': 'mmm_admin,tenant_admin | tenant:path',
    'GET /v1/mmm/experiments': 'mmm_admin,tenant_admin | tenant:token',
    'POST /v1/mmm/experiments': 'mmm_admin,tenant_admin | tenant:token',
    'GET /v1/mmm/experiments/:id': 'mmm_admin,tenant_admin | tenant:token',
    'PUT /v1/mmm/experiments/:id': 'mmm_admin,tenant_admin | tenant:token',
    'POST /v1/mmm/experiments/:id/activate': 'mmm_admin,tenant_admin | tenant:token',
    'POST /v1/mmm/experiments/:id/deactivate': 'mmm_admin,tenant_admin | tenant:token',
    'GET /v1/mmm/tenants/:tenant_id/metrics': 'mmm_admin,tenant_admin | tenant:path',
    'GET /v1/mmm/tenants/:tenant_id/audit': 'mmm_admin,tenant_admin | tenant:path',
    'GET /v1/mmm/health': 'public',
    'GET /v1/mmm/ready': 'public',
    'POST /v1/ubi/events': 'service | tenant:token',
    'GET /v1/ubi/actors/:actor_id/profile': 'service,mmm_admin,tenant_admin | self:path | tenant:token',
    'GET /v1/ubi/signals': 'service,mmm_admin,tenant_admin | self:query | tenant:token',
    'GET /v1/ubi/signals/recent': 'service,mmm_admin,tenant_admin | self:query | tenant:query',
    'GET /v1/ubi/tenants/:tenant_id/config': 'mmm_admin,tenant_admin | tenant:path',
    'PUT /v1/ubi/tenants/:tenant_id/config': 'mmm_admin,tenant_admin | tenant:path',
    'POST /v1/ubi/tenants/:tenant_id/baselines/recompute': 'mmm_admin,tenant_admin | tenant:path',
    'GET /v1/ubi/teams/:team_id/aggregates': 'any | tenant:token',
    'DELETE /v1/ubi/actors/:actor_id': 'mmm_admin,tenant_admin | tenant:token',
    'GET /v1/ubi/health': 'public',
    'GET /v1/ubi/ready': 'public',
    'GET /v1/ubi/metrics': 'public',
    'POST /v1/mmm/actions/:action_id/consent': '- | self:resource | tenant:token',
    'POST /v1/mmm/actions/:action_id/approve': 'approver | tenant:token',
    'GET /v1/mmm/actions/:action_id/approval-status': 'service,approver,mmm_admin,tenant_admin | self:resource | tenant:token',
    });
  });

  it('when a protected route without a rule is mounted, then building the app fails and names the route', () => {
    const bare = { method: 'get', path: '/v1/x', summary: 'x', tag: 'x', response: ROUTES[0].response, handler: async () => ({ body: null }) } as RouteSpec;

    expect(() => mountRoutes(express.Router(), [bare], (_q, _s, next) => next())).toThrow('GET /v1/x declares no authorisation rule');
  });
});

describe('every route × every caller × another tenant', () => {
  it('when each kind of caller calls each route, then the status is what the declared rule says: allowed passes, refused is 403, another tenant is 403 or 404 and never 2xx', async () => {
    const fx = await setUpTenant();
    const mismatches: string[] = [];
    let calls = 0;

    for (const route of ROUTES) {
      const { path, body } = requestFor(route, fx);
      for (const caller of CALLERS) {
        const token = caller.anonymous ? undefined : app.token({ tenant_id: caller.otherTenant ? fx.b.tenant : fx.a.tenant, sub: caller.sub, roles: caller.roles });
        const res = await app.request(route.method.toUpperCase(), path, { token, body });
        calls++;
        const code: string | undefined = res.body?.error?.code;
        const seen = `${res.status}${code ? ` ${code}` : ''}`;
        const wrong = (expected: string) => mismatches.push(`${caller.name}: ${keyOf(route)} gave ${seen}, expected ${expected}`);
        const authzRefusal = res.status === 401 || (res.status === 403 && AUTHZ_CODES.includes(code ?? ''));

        if (res.status >= 500 && res.status !== 503) wrong('no server error');
        else if (route.public) {
          if (authzRefusal) wrong('a public answer');
        } else if (!route.auth) wrong('a declared rule');
        else if (caller.anonymous) {
          if (res.status !== 401) wrong('401');
        } else if (caller.otherTenant) {
          if (addressesTenant(route)) {
            if (![403, 404].includes(res.status)) wrong('403 or 404');
          } else if (res.status < 300) {
            // The request names no tenant: it is answered from the caller's own tenant, never with the first one's data.
            const text = JSON.stringify(res.body ?? '');
            for (const own of [fx.a.tenant, fx.decisionId, fx.receiptId, fx.actionId, fx.playbookId, fx.experimentId]) if (text.includes(own)) wrong(`no ${own} in the answer`);
          }
        } else if (allows(route.auth, caller)) {
          if (authzRefusal) wrong('allowed');
        } else {
          const expected = route.auth.self ? 'forbidden_actor' : 'forbidden_role';
          if (res.status !== 403 || code !== expected) wrong(`403 ${expected}`);
        }
      }
    }

    expect(mismatches).toEqual([]);
    expect(calls).toBe(ROUTES.length * CALLERS.length);
  });
});

describe('who reads behavioural data', () => {
  it("when a peer asks for another actor's UBI profile or signals, then each is 403, while the actor reads their own and service and admins read anyone's", async () => {
    const fx = newTenant(app, 'authz-ubi');
    const alice = { tenant_id: fx.tenant, actor_id: 'alice', team_id: 'team-a' };
    const bob = { tenant_id: fx.tenant, actor_id: 'bob', team_id: 'team-a' };
    await ingestEvents(app, fx.service, [...steadyHistory(alice), ...steadyHistory(bob)]);
    await app.runtime.ubi.batcher?.drain();
    await recompute(app, fx);
    await ingestEvents(app, fx.service, [...failingToday(alice), ...failingToday(bob)]);
    await app.runtime.ubi.batcher?.drain();
    const get = (path: string, token: string) => app.request('GET', path, { token });
    const asBob = fx.actor('bob');

    const own = await get('/v1/ubi/actors/bob/profile', asBob);
    const peerProfile = await get('/v1/ubi/actors/alice/profile', asBob);
    const peerSignals = await get('/v1/ubi/signals?actor_id=alice', asBob);
    const unfiltered = await get('/v1/ubi/signals', asBob);
    const ownSignals = await get('/v1/ubi/signals?actor_id=bob', asBob);
    const peerRecent = await get('/v1/ubi/signals/recent?actor_id=alice', asBob);
    const ownRecent = await get('/v1/ubi/signals/recent?actor_id=bob', asBob);
    const byService = await get('/v1/ubi/signals', fx.service);
    const byAdmin = await get('/v1/ubi/actors/alice/profile', fx.admin);
    const byApprover = await get('/v1/ubi/actors/alice/profile', fx.actor('carol', ['approver']));

    expect(own.status).toBe(200);
    expect(own.body.actor_id).toBe('bob');
    for (const refused of [peerProfile, peerSignals, unfiltered, peerRecent, byApprover]) {
      expect(refused.status).toBe(403);
      expectEnvelope(refused.body, 'forbidden_actor');
    }
    expect(ownSignals.status).toBe(200);
    expect(ownSignals.body.signals.length).toBeGreaterThan(0);
    expect(new Set(ownSignals.body.signals.map((s: { actor_id: string }) => s.actor_id))).toEqual(new Set(['bob']));
    expect(ownRecent.status).toBe(200);
    expect(new Set(ownRecent.body.signals.map((s: { actor_id: string }) => s.actor_id))).toEqual(new Set(['bob']));
    expect(new Set(byService.body.signals.map((s: { actor_id: string }) => s.actor_id))).toEqual(new Set(['alice', 'bob']));
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.actor_id).toBe('alice');
  });

  it("when a peer reads another actor's decision, receipt or approval status, then each is 403, while the actor, service, approver and admins read them", async () => {
    const fx = await setUpTenant();
    const paths = [`/v1/mmm/decisions/${fx.decisionId}`, `/v1/mmm/receipts/${fx.receiptId}`, `/v1/mmm/actions/${fx.actionId}/approval-status`];
    const readers = [fx.a.actor(SELF), fx.a.service, fx.a.admin, fx.a.actor('carol', ['approver'])];

    for (const path of paths) {
      const peer = await app.request('GET', path, { token: fx.a.actor('bob') });
      expect({ path, status: peer.status }).toEqual({ path, status: 403 });
      expectEnvelope(peer.body, 'forbidden_actor');
      for (const token of readers) {
        const res = await app.request('GET', path, { token });
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
      }
    }
  });
});

describe('the OpenAPI document', () => {
  it('when it is fetched, then every operation states its bearer security (none when public) and the roles its rule names', async () => {
    const doc = (await app.request('GET', '/v1/openapi.json')).body;
    const problems: string[] = [];

    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const r of ROUTES) {
      const op = doc.paths[r.path.replace(/:([A-Za-z_]+)/g, '{$1}')]?.[r.method];
      const expected = r.public
        ? { security: [], who: 'Who: anyone' }
        : { security: [{ bearer: [] }], roles: r.auth?.roles === 'any' ? [] : r.auth?.roles, self: r.auth?.self, tenant: r.auth?.tenant, who: 'Who: ' };
      const actual = r.public
        ? { security: op?.security, who: op?.description?.slice(0, 11) }
        : { security: op?.security, roles: op?.['x-required-roles'], self: op?.['x-self'], tenant: op?.['x-tenant'], who: op?.description?.slice(0, 5) };
      if (JSON.stringify(actual) !== JSON.stringify(expected)) problems.push(`${keyOf(r)}: ${JSON.stringify(actual)} instead of ${JSON.stringify(expected)}`);
    }

    expect(problems).toEqual([]);
    expect(doc.paths['/v1/ubi/signals'].get.description).toContain('the actor themself (the `actor_id` query parameter)');
  });
});
