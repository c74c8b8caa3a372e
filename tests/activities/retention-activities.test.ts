/** Where a tenant's MMM retention comes from (issue 12): data governance when it has one, else the tenant policy, else 90. */
import { createDataGovernanceClient } from '../../activities/clients/data-governance-client';
import { createPrivacyGuard } from '../../activities/governance/privacy-guard';
import { createRetentionActivities, DEFAULT_RETENTION_DAYS } from '../../activities/retention/retention-activities';
import { createServiceClient } from '../../lib/clients/service-client';
import { startFakeService, type FakeService } from '../support/fake-service';

let dg: FakeService;
beforeEach(async () => {
  dg = await startFakeService();
});
afterEach(async () => {
  await dg.close();
});

const purged: Array<{ tenant: string; cutoff: Date }> = [];
function activities(opts: { governance: boolean; policyDays?: number }) {
  const privacy = opts.governance
    ? createPrivacyGuard({ client: createDataGovernanceClient(createServiceClient({ name: 'data_governance', baseUrl: dg.url, timeoutMs: 2_000 })), ttlMs: 0 })
    : createPrivacyGuard({ ttlMs: 0 });
  return createRetentionActivities({
    policies: { get: async () => (opts.policyDays === undefined ? {} : { retention_days: opts.policyDays }) },
    retention: {
      async purgeExpired(tenant, cutoff) {
        purged.push({ tenant, cutoff });
        return { decisions: 0, outcomes: 0, approvals: 0, outbox: 0, audit_entries: 0 };
      },
    },
    privacy,
  });
}

test.each([
  ['data governance gives 30 days', { retention_days: 30, pii_fields: [] }, 45, { retention_days: 30, source: 'data_governance' }],
  ['data governance gives none', { retention_days: null, pii_fields: [] }, 45, { retention_days: 45, source: 'tenant_policy' }],
  ['data governance gives 0 days', { retention_days: 0, pii_fields: [] }, 45, { retention_days: 1, source: 'data_governance' }],
  ['neither gives one', { pii_fields: [] }, undefined, { retention_days: DEFAULT_RETENTION_DAYS, source: 'tenant_policy' }],
])('when %s, then that retention applies', async (_label, answer, policyDays, expected) => {
  dg.setHandler(() => ({ body: answer }));
  expect(await activities({ governance: true, policyDays }).loadMmmRetention({ tenant_id: 't1' })).toEqual(expected);
  expect(dg.callsTo('/v1/data-governance/tenants/t1/config')).toHaveLength(1);
});

test('when no data governance service is configured, then the tenant policy gives the retention and nothing is called', async () => {
  expect(await activities({ governance: false, policyDays: 14 }).loadMmmRetention({ tenant_id: 't1' })).toEqual({ retention_days: 14, source: 'tenant_policy' });
  expect(dg.calls).toHaveLength(0);
});

test('when data governance is configured but down, then the lookup fails (Temporal retries) instead of falling back to a shorter policy', async () => {
  dg.setHandler(() => ({ status: 503, body: {} }));
  await expect(activities({ governance: true, policyDays: 7 }).loadMmmRetention({ tenant_id: 't1' })).rejects.toMatchObject({ kind: 'http' });
});

test('when the purge runs, then it is given the tenant and the cutoff as a date', async () => {
  await activities({ governance: false }).purgeExpiredMmmData({ tenant_id: 't9', cutoff: '2026-01-01T00:00:00.000Z' });
  expect(purged.at(-1)).toEqual({ tenant: 't9', cutoff: new Date('2026-01-01T00:00:00.000Z') });
});
