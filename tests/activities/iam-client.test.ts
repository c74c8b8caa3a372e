/** The IAM client against a real HTTP server playing IAM: request shape, answers used, answers refused. */
import { createIamClient } from '../../lib/clients/iam-client';
import { createServiceClient, ServiceCallError } from '../../lib/clients/service-client';
import { startFakeService, type FakeService } from '../support/fake-service';

let iam: FakeService;
beforeEach(async () => {
  iam = await startFakeService();
});
afterEach(async () => {
  await iam.close();
});
const client = () => createIamClient(createServiceClient({ name: 'iam', baseUrl: iam.url, timeoutMs: 300, serviceToken: 'svc-1' }));

test('when IAM verifies a token, then the token is posted with the service token and the claims come back', async () => {
  iam.setHandler(() => ({ body: { valid: true, claims: { sub: 'a1', tenant_id: 't1', roles: ['service'] } } }));
  const answer = await client().verify('tok-123');
  expect(answer).toEqual({ valid: true, claims: { sub: 'a1', tenant_id: 't1', roles: ['service'] } });
  expect(iam.callsTo('/v1/iam/verify')).toHaveLength(1);
  expect(iam.calls[0].body).toEqual({ token: 'tok-123' });
  expect(iam.calls[0].headers.authorization).toBe('Bearer svc-1');
  expect(iam.calls[0].headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
});

test('when IAM says valid but gives no claims, then the token counts as not valid', async () => {
  iam.setHandler(() => ({ body: { valid: true } }));
  expect(await client().verify('tok')).toEqual({ valid: false });
});

test('when IAM decides, then subject, action, resource and tenant are posted and allow or deny comes back', async () => {
  iam.setHandler((call) => ({ body: { decision: call.body.action === 'read' ? 'allow' : 'deny' } }));
  const c = client();
  expect(await c.decide({ subject: 'a1', action: 'read', resource: 'r', tenant_id: 't1' })).toBe('allow');
  expect(await c.decide({ subject: 'a1', action: 'write', resource: 'r', tenant_id: 't1' })).toBe('deny');
  expect(iam.callsTo('/v1/iam/decision')[0].body).toEqual({ subject: 'a1', action: 'read', resource: 'r', tenant_id: 't1' });
});

test('when IAM answers something outside the contract, then the call fails as invalid_response', async () => {
  iam.setHandler(() => ({ body: { decision: 'maybe' } }));
  await expect(client().decide({ subject: 'a', action: 'x', resource: 'r', tenant_id: 't' })).rejects.toMatchObject({ kind: 'invalid_response', service: 'iam' });
  iam.setHandler(() => ({ status: 503, body: {} }));
  const err = await client().verify('t').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ServiceCallError);
  expect(err).toMatchObject({ kind: 'http', status: 503 });
});
