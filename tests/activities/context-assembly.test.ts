/**
 * Context assembly over fakes of its narrow interfaces: the FR-2 context cache (external answers reused within the
 * TTL, failures never cached), and IAM's budget inside a decision (a hanging IAM degrades, it does not fail).
 */
import { createContextActivities, CONTEXT_BUDGET_MS, type ContextDeps } from '../../activities/context/context-activities';
import { DEFAULT_TENANT_POLICY } from '../../domain/model/policy';

const deps: ContextDeps = {
  decisionInputs: {
    async load(tenantId, actorId) {
      return {
        policy: { ...DEFAULT_TENANT_POLICY, tenant_id: tenantId, version: 1, policy_snapshot_id: `pol_${tenantId}_v1`, updated_at: null },
        preferences: { opt_out_categories: [], snooze_until: null, preferred_surfaces: [], timezone: null, tenant_id: tenantId, actor_id: actorId, updated_at: null },
        playbooks: [],
      };
    },
  },
  signals: { recent: async () => [] },
};
const input = { tenant_id: 't1', actor_id: 'a1', trigger_kind: 'request' };
const signal = { signal_id: 's1', dimension: 'build', signal_type: 'anomaly', severity: 'high', score: 2, created_at: '2026-01-01T00:00:00.000Z' };

test('when the same actor is decided for twice within the cache TTL, then UBI and IAM are asked once; a failure is asked again', async () => {
  let ubiCalls = 0;
  let iamCalls = 0;
  let failNext = true;
  const { loadDecisionContext } = createContextActivities(deps, {
    ubi: {
      async recentSignals() {
        ubiCalls++;
        if (failNext) {
          failNext = false;
          throw new Error('ubi down');
        }
        return [signal];
      },
    },
    iam: { decide: async () => (iamCalls++, 'allow') },
    cacheTtlMs: 30_000,
  });
  expect((await loadDecisionContext(input)).degraded_reasons).toEqual(['ubi_signals_unavailable']);
  const second = await loadDecisionContext(input);
  const third = await loadDecisionContext(input);
  expect(second.recent_signals).toEqual([signal]);
  expect(third).toEqual(second);
  expect(ubiCalls).toBe(2);
  expect(iamCalls).toBe(1);
});

test('when IAM hangs, then the context is assembled after its budget, flagged iam_unavailable; when it denies, then no action type is allowed', async () => {
  const hanging = createContextActivities(deps, { iam: { decide: () => new Promise(() => undefined) } });
  const started = Date.now();
  const ctx = await hanging.loadDecisionContext(input);
  const ms = Date.now() - started;
  expect(ctx.degraded_reasons).toEqual(['iam_unavailable']);
  expect(ms).toBeGreaterThanOrEqual(CONTEXT_BUDGET_MS.iam - 50);
  expect(ms).toBeLessThan(CONTEXT_BUDGET_MS.iam + 400); // inside the 2 s the context local activity has
  const denying = createContextActivities(deps, { iam: { decide: async () => 'deny' } });
  expect((await denying.loadDecisionContext(input)).policy.allowed_action_types).toEqual([]);
});
