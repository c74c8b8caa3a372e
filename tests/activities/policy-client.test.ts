/** The policy client and the snapshot cache with its fail modes (FR-11), against a real HTTP server playing the service. */
import { createPolicyClient } from '../../activities/clients/policy-client';
import { createServiceClient } from '../../lib/clients/service-client';
import { createPolicyResolver, policyFailModeOf } from '../../activities/policy/policy-resolver';
import { DEFAULT_TENANT_POLICY, type TenantPolicy } from '../../domain/model/policy';
import { startFakeService, type FakeService } from '../support/fake-service';

let policy: FakeService;
beforeEach(async () => {
  policy = await startFakeService();
});
afterEach(async () => {
  await policy.close();
});

const local = (over: Partial<TenantPolicy> = {}): TenantPolicy => ({
  ...DEFAULT_TENANT_POLICY, tenant_id: 't1', version: 3, policy_snapshot_id: 'pol_t1_v3', updated_at: null, ...over,
});
const snapshot = (over: Record<string, unknown> = {}) => ({ snapshot_id: 'snap-7', version: 7, safety_critical: false, rules: { max_nudges_per_window: 9 }, ...over });

function resolver(now: () => number) {
  const client = createPolicyClient(createServiceClient({ name: 'policy', baseUrl: policy.url, timeoutMs: 200 }));
  return createPolicyResolver({ client, ttlMs: 60_000, staleMaxMs: 300_000, now });
}

test('when the service answers, then its snapshot is fetched from the tenant path and overlays the local policy', async () => {
  policy.setHandler(() => ({ body: snapshot() }));
  const r = resolver(() => 0);
  const resolved = r.resolve(local(), await r.lookup('t/1'));
  expect(policy.calls[0].path).toBe('/v1/policy/tenants/t%2F1/snapshot');
  expect(resolved).toEqual({ policy: { ...local(), max_nudges_per_window: 9, version: 7, policy_snapshot_id: 'snap-7', safety_critical: false }, fail_mode: 'none' });
});

/** A tenant whose own policy differs from the schema defaults in every field, so a default filling in shows. */
const ownPolicy = (): TenantPolicy =>
  local({
    max_nudges_per_window: 1000, window_minutes: 120, quiet_hours: { start: '22:00', end: '07:00', timezone: 'Europe/Berlin' },
    cooldown_minutes: 0, approval_timeout_minutes: 5, llm_enabled: true, allowed_action_types: ['mirror'],
  });

test('when the snapshot\'s rules name no fields, then every field of the tenant\'s own policy stays as it is', async () => {
  policy.setHandler(() => ({ body: snapshot({ rules: {} }) }));
  const r = resolver(() => 0);
  const resolved = r.resolve(ownPolicy(), await r.lookup('t1'));
  expect(resolved).toEqual({ policy: { ...ownPolicy(), version: 7, policy_snapshot_id: 'snap-7', safety_critical: false }, fail_mode: 'none' });
});

test('when the snapshot has no rules at all, then the tenant\'s own policy stays as it is', async () => {
  const { rules: _rules, ...bare } = snapshot();
  policy.setHandler(() => ({ body: bare }));
  const r = resolver(() => 0);
  const resolved = r.resolve(ownPolicy(), await r.lookup('t1'));
  expect(resolved.policy).toEqual({ ...ownPolicy(), version: 7, policy_snapshot_id: 'snap-7', safety_critical: false });
});

test('when the snapshot\'s rules name one field, then only that field changes and the rest stays the tenant\'s own', async () => {
  policy.setHandler(() => ({ body: snapshot({ rules: { cooldown_minutes: 45, retired_rule: true } }) }));
  const r = resolver(() => 0);
  const resolved = r.resolve(ownPolicy(), await r.lookup('t1'));
  expect(resolved.policy).toEqual({ ...ownPolicy(), cooldown_minutes: 45, version: 7, policy_snapshot_id: 'snap-7', safety_critical: false });
});

test('when a snapshot is younger than 60 s, then it is served from the cache without a call; after that it is fetched again', async () => {
  policy.setHandler(() => ({ body: snapshot() }));
  let clock = 0;
  const r = resolver(() => clock);
  await r.lookup('t1');
  clock = 59_000;
  await r.lookup('t1');
  expect(policy.calls).toHaveLength(1);
  clock = 61_000;
  await r.lookup('t1');
  expect(policy.calls).toHaveLength(2);
});

test('when the service is down, then a snapshot up to 5 minutes old serves, and an older one fails closed', async () => {
  policy.setHandler(() => ({ body: snapshot() }));
  let clock = 0;
  const r = resolver(() => clock);
  await r.lookup('t1');
  policy.setHandler(() => ({ status: 503, body: {} }));
  clock = 299_000;
  const cached = r.resolve(local(), await r.lookup('t1'));
  expect(cached.fail_mode).toBe('cached_snapshot');
  expect(cached.policy.policy_snapshot_id).toBe('snap-7');
  expect(cached.degraded_reason).toBe('policy_service_unavailable_cached_snapshot');
  clock = 301_000;
  const tooOld = r.resolve(local(), await r.lookup('t1'));
  expect(tooOld.fail_mode).toBe('fail_closed');
  expect(tooOld.policy.allowed_action_types).toEqual([]);
  expect(tooOld.degraded_reason).toBe('policy_service_unavailable_no_snapshot');
});

test('when the service is down for a safety-critical tenant, then it fails closed even with a fresh cached snapshot', async () => {
  policy.setHandler(() => ({ body: snapshot({ safety_critical: true }) }));
  let clock = 0;
  const r = resolver(() => clock);
  await r.lookup('t1');
  policy.setHandler(() => ({ hang: true }));
  clock = 61_000;
  const resolved = r.resolve(local(), await r.lookup('t1'));
  expect(resolved.fail_mode).toBe('fail_closed');
  expect(resolved.policy.allowed_action_types).toEqual([]);
  expect(resolved.degraded_reason).toBe('policy_service_unavailable_fail_closed_safety_critical');
  expect(policyFailModeOf([resolved.degraded_reason as string])).toBe('fail_closed');
});

test('when the service never answered and the local policy says safety-critical, then it fails closed for that reason', async () => {
  policy.setHandler(() => ({ status: 500, body: {} }));
  const r = resolver(() => 0);
  const resolved = r.resolve(local({ safety_critical: true }), await r.lookup('t1'));
  expect(resolved.degraded_reason).toBe('policy_service_unavailable_fail_closed_safety_critical');
});

test('when a snapshot breaks the contract (rules of the wrong type), then it is refused and the fail modes apply', async () => {
  policy.setHandler(() => ({ body: snapshot({ rules: { max_nudges_per_window: 'many' } }) }));
  const r = resolver(() => 0);
  const lookup = await r.lookup('t1');
  expect('error' in lookup && (lookup.error as { kind: string }).kind).toBe('invalid_response');
});
