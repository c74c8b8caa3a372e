/**
 * IAM as a real HTTP server (IAM_BASE_URL): tokens are verified and requests authorised by it, answers cached
 * briefly; when IAM is down or hangs, requests fail closed with 503 `iam_unavailable` (never verified locally), its
 * breaker opens after 5 failures and `ready` answers 503 until it recovers.
 */
import jwt from 'jsonwebtoken';
import { startFakeService, type FakeService } from '../support/fake-service';
import { useTestApp } from '../support/harness';
import { decide, decideBody, expectEnvelope, newTenant, publishPlaybook, requestPlaybook } from './fixtures';

let iam: FakeService;
let mode: 'up' | 'fail' | 'hang' = 'up';
const invalid = new Set<string>();
const denied = new Set<string>(); // `${subject}|${action}`
beforeAll(async () => {
  iam = await startFakeService((call) => {
    if (mode === 'hang') return { hang: true };
    if (mode === 'fail') return { status: 503, body: {} };
    if (call.path === '/v1/iam/verify') {
      if (invalid.has(call.body.token)) return { body: { valid: false } };
      const claims = jwt.decode(call.body.token) as { sub: string; tenant_id: string; roles: string[] };
      return { body: { valid: true, claims: { sub: claims.sub, tenant_id: claims.tenant_id, roles: claims.roles } } };
    }
    return { body: { decision: denied.has(`${call.body.subject}|${call.body.action}`) ? 'deny' : 'allow' } };
  });
});
afterAll(async () => {
  await iam?.close();
});

const HALF_OPEN_MS = 500;
const app = useTestApp(() => ({ IAM_BASE_URL: iam.url, CIRCUIT_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS), SERVICE_TOKEN: 'engine-svc-token' }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('when IAM verifies the token and allows the route, then the request is served and a repeat uses the cached answers', async () => {
  const fx = newTenant(app, 'iam');
  await publishPlaybook(app, fx.admin, requestPlaybook());
  const before = iam.calls.length;
  expect((await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'a1' }))).status).toBe(200);
  const first = iam.calls.slice(before);
  expect(first.filter((c) => c.path === '/v1/iam/verify').map((c) => c.body)).toEqual([{ token: fx.service }]);
  expect(first.filter((c) => c.path === '/v1/iam/decision').map((c) => c.body)).toEqual(
    expect.arrayContaining([
      { subject: 'svc-ide', action: 'POST /v1/mmm/decide', resource: '/v1/mmm/decide', tenant_id: fx.tenant },
      { subject: 'a1', action: 'mmm:receive_nudges', resource: `tenants/${fx.tenant}/actors/a1`, tenant_id: fx.tenant },
    ]),
  );
  expect(first[0].headers.authorization).toBe('Bearer engine-svc-token');
  const again = iam.calls.length;
  expect((await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'a1' }))).status).toBe(200);
  expect(iam.calls.length).toBe(again);
});

it('when IAM says the token is not valid, then 401 invalid_token', async () => {
  const fx = newTenant(app, 'iam');
  invalid.add(fx.service);
  const res = await decide(app, fx.service, decideBody(fx.tenant));
  expect(res.status).toBe(401);
  expectEnvelope(res.body, 'invalid_token');
});

it('when IAM denies the route, then 403 iam_denied; when it denies nudging the actor, then nothing is shown', async () => {
  const fx = newTenant(app, 'iam');
  await publishPlaybook(app, fx.admin, requestPlaybook());
  denied.add('a-muted|mmm:receive_nudges');
  const muted = await decide(app, fx.service, decideBody(fx.tenant, { actor_id: 'a-muted' }));
  expect(muted.status).toBe(200);
  expect(muted.body.actions).toEqual([]);
  expect(muted.body.suppressed.map((s: { reason: string }) => s.reason)).toEqual(['policy_disallowed']);
  const reader = app.token({ tenant_id: fx.tenant, sub: 'reader-1', roles: ['service'] });
  denied.add('reader-1|POST /v1/mmm/decide');
  const res = await decide(app, reader, decideBody(fx.tenant));
  expect(res.status).toBe(403);
  expectEnvelope(res.body, 'iam_denied');
});

it('when IAM fails or hangs, then new tokens get 503 iam_unavailable, the breaker opens after 5 failures, ready is 503, and all recovers', async () => {
  const fx = newTenant(app, 'iam');
  mode = 'hang';
  const started = Date.now();
  const hung = await decide(app, app.token({ tenant_id: fx.tenant, sub: 'h1', roles: ['service'] }), decideBody(fx.tenant));
  const hungMs = Date.now() - started;
  expect(hung.status).toBe(503);
  expectEnvelope(hung.body, 'iam_unavailable');
  expect(hungMs).toBeLessThan(3000); // IAM's 2.0 s timeout
  mode = 'fail';
  const before = iam.calls.length;
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) statuses.push((await decide(app, app.token({ tenant_id: fx.tenant, sub: `u${i}`, roles: ['service'] }), decideBody(fx.tenant))).status);
  expect(statuses).toEqual(Array(8).fill(503));
  const requestsMade = iam.calls.length - before;
  expect(requestsMade).toBe(4); // the hang was failure 1: four more open the breaker, the rest fail fast
  const ready = await app.request('GET', '/v1/mmm/ready');
  expect(ready.status).toBe(503);
  expect(ready.body.dependencies.find((d: { name: string }) => d.name === 'iam')).toMatchObject({ status: 'down', required: true, breaker: 'open' });
  expect((await app.request('GET', '/v1/mmm/health')).status).toBe(200);

  mode = 'up';
  await sleep(HALF_OPEN_MS + 100);
  expect((await decide(app, app.token({ tenant_id: fx.tenant, sub: 'back-1', roles: ['service'] }), decideBody(fx.tenant))).status).toBe(200);
  expect((await app.request('GET', '/v1/mmm/ready')).status).toBe(200);
  console.log(JSON.stringify({ fault: 'iam_hang_then_503', hang_answer_ms: hungMs, requests: 9, iam_requests_made: requestsMade + 1, answered_503: 9, answered_401_or_200_while_down: 0 }));
});
