/** The data governance client and the privacy guard that applies its answers before anything leaves the engine. */
import { createDataGovernanceClient } from '../../activities/clients/data-governance-client';
import { createServiceClient } from '../../lib/clients/service-client';
import { createPrivacyGuard, PII_MASK } from '../../activities/governance/privacy-guard';
import { startFakeService, type FakeService } from '../support/fake-service';

let dg: FakeService;
beforeEach(async () => {
  dg = await startFakeService();
});
afterEach(async () => {
  await dg.close();
});
const client = () => createDataGovernanceClient(createServiceClient({ name: 'data_governance', baseUrl: dg.url, timeoutMs: 300 }));

test('when the tenant config is read, then the tenant path is called and retention, allowed and pii fields come back', async () => {
  dg.setHandler(() => ({ body: { retention_days: 30, allowed_fields: ['actor_id'], pii_fields: ['branch'] } }));
  expect(await client().tenantConfig('t1')).toEqual({ retention_days: 30, allowed_fields: ['actor_id'], pii_fields: ['branch'] });
  expect(dg.calls[0].path).toBe('/v1/data-governance/tenants/t1/config');
});

test('when a payload is redacted, then it is posted and the service answer replaces it', async () => {
  dg.setHandler((call) => ({ body: { payload: { ...call.body.payload, note: '[removed]' } } }));
  expect(await client().redact({ note: 'x', n: 1 })).toEqual({ note: '[removed]', n: 1 });
  expect(dg.calls[0].body).toEqual({ payload: { note: 'x', n: 1 } });
});

test('when the guard knows the tenant config, then pii fields are masked at any depth, along with local redaction', async () => {
  dg.setHandler((call) => (call.method === 'GET' ? { body: { pii_fields: ['branch'] } } : { body: { payload: call.body.payload } }));
  const guard = createPrivacyGuard({ client: client(), ttlMs: 30_000 });
  await guard.tenantConfig('t1');
  const out = guard.applyCached('t1', { outcome: 'shown', context: { branch: 'alice/fix' }, mail: 'a@b.example' });
  expect(out).toEqual({ outcome: 'shown', context: { branch: PII_MASK }, mail: '[redacted-email]' });
  // Another tenant, config unknown: local redaction only.
  expect(guard.applyCached('t2', { branch: 'x' })).toEqual({ branch: 'x' });
});

test('when the service is down, then outgoing payloads are still redacted locally and flagged degraded', async () => {
  dg.setHandler(() => ({ status: 503, body: {} }));
  const guard = createPrivacyGuard({ client: client(), ttlMs: 30_000 });
  await expect(guard.tenantConfig('t1')).rejects.toMatchObject({ kind: 'http' });
  const out = await guard.redactOutgoing('t1', { body: 'mail a@b.example' });
  expect(out).toEqual({ payload: { body: 'mail [redacted-email]' }, degraded: true });
});

test('when no service is configured, then the guard is the local redaction and says it is not configured', async () => {
  const guard = createPrivacyGuard({ ttlMs: 30_000 });
  expect(guard.configured).toBe(false);
  expect(await guard.tenantConfig('t1')).toBeNull();
  expect(await guard.redactOutgoing('t1', { password: 'p' })).toEqual({ payload: { password: '[redacted]' }, degraded: false });
});
