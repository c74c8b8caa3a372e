import type { ActiveExperiment } from '../../domain/experiments/arm-planning';
/**
 * In-memory fakes of the narrow interfaces activities depend on (ContextDeps, DecisionStoreDeps, FatigueStore), so
 * activity and workflow tests run the real activity code without PostgreSQL. Data is kept per tenant: one worker can
 * serve every test of a file while each test arranges its own data under its own tenant.
 */
import type { ContextDeps } from '../../activities/context/context-activities';
import type { DecisionStoreDeps } from '../../activities/decisions/decision-activities';
import type { FatigueStore } from '../../activities/fatigue/fatigue-store';
import type { RecordDecision } from '../../db/repositories/decision-repository';
import type { Decision, StoredDecision } from '../../domain/model/decision';
import { playbookInputSchema, type PublishedPlaybook } from '../../domain/model/playbook';
import { DEFAULT_TENANT_POLICY, policySnapshotId, type TenantPolicy, type TenantPolicyInput } from '../../domain/model/policy';
import { DEFAULT_PREFERENCES, type Preferences, type PreferencesInput } from '../../domain/model/preferences';
import type { RecentSignal } from '../../domain/model/signal';

export interface FakeRepos extends ContextDeps, DecisionStoreDeps {
  setPolicy(tenantId: string, policy: Partial<TenantPolicyInput>): void;
  setPreferences(tenantId: string, actorId: string, preferences: Partial<PreferencesInput>): void;
  publishPlaybook(tenantId: string, playbook: PublishedPlaybook): void;
  /** An active experiment on one of the tenant's playbooks, as the context query returns it (ADR 0017). */
  activateExperiment(tenantId: string, experiment: ActiveExperiment): void;
  addSignals(tenantId: string, actorId: string, signals: RecentSignal[]): void;
  /** Every record() call, in order, including retries that found an earlier commit. */
  recordCalls(tenantId: string): RecordDecision[];
  /** The next `times` record() calls for this tenant fail, as PostgreSQL being down would. */
  failRecords(tenantId: string, times: number): void;
  /** Decisions stored for a tenant, once each. */
  storedDecisions(tenantId: string): Decision[];
}

const key = (tenantId: string, actorId: string) => `${tenantId}\u0000${actorId}`;

export function createFakeRepos(): FakeRepos {
  const policies = new Map<string, TenantPolicyInput>();
  const preferences = new Map<string, PreferencesInput>();
  const playbooks = new Map<string, PublishedPlaybook[]>();
  const signals = new Map<string, RecentSignal[]>();
  const experiments = new Map<string, ActiveExperiment[]>();
  const calls: RecordDecision[] = [];
  const stored = new Map<string, StoredDecision>();
  let receipts = 0;
  const failures = new Map<string, number>();

  return {
    decisionInputs: {
      async load(tenantId: string, actorId: string, triggerKind: string) {
        const policy: TenantPolicy = { ...(policies.get(tenantId) ?? DEFAULT_TENANT_POLICY), tenant_id: tenantId, version: 1, policy_snapshot_id: policySnapshotId(tenantId, 1), updated_at: null };
        const prefs: Preferences = { ...(preferences.get(key(tenantId, actorId)) ?? DEFAULT_PREFERENCES), tenant_id: tenantId, actor_id: actorId, updated_at: null };
        const matching = (playbooks.get(tenantId) ?? []).filter((p) => p.definition.triggers.some((t) => t.kind === triggerKind));
        const active = (experiments.get(tenantId) ?? []).filter((e) => matching.some((p) => p.playbook_id === e.playbook_id));
        return { policy, preferences: prefs, playbooks: matching, experiments: active };
      },
    },
    signals: {
      async recent(tenantId, actorId, limit = 10) {
        return (signals.get(key(tenantId, actorId)) ?? []).slice(0, limit);
      },
    },
    decisions: {
      // Like the real repository: a retried call finds its earlier commit, so one decision gets one receipt.
      async record(input) {
        calls.push(input);
        const failing = failures.get(input.decision.tenant_id) ?? 0;
        if (failing > 0) {
          failures.set(input.decision.tenant_id, failing - 1);
          throw new Error('database unavailable (fake)');
        }
        const prior = stored.get(input.decision.decision_id);
        if (prior) return prior;
        const record: StoredDecision = { decision: { ...input.decision, receipt_id: `rcpt_fake_${++receipts}` }, requestSha256: input.requestSha256 };
        stored.set(input.decision.decision_id, record);
        return record;
      },
    },
    failRecords(tenantId, times) {
      failures.set(tenantId, times);
    },
    setPolicy(tenantId, policy) {
      policies.set(tenantId, { ...DEFAULT_TENANT_POLICY, ...policy });
    },
    setPreferences(tenantId, actorId, prefs) {
      preferences.set(key(tenantId, actorId), { ...DEFAULT_PREFERENCES, ...prefs });
    },
    publishPlaybook(tenantId, playbook) {
      playbooks.set(tenantId, [...(playbooks.get(tenantId) ?? []), playbook]);
    },
    activateExperiment(tenantId, experiment) {
      experiments.set(tenantId, [...(experiments.get(tenantId) ?? []), experiment]);
    },
    addSignals(tenantId, actorId, list) {
      signals.set(key(tenantId, actorId), [...(signals.get(key(tenantId, actorId)) ?? []), ...list]);
    },
    recordCalls(tenantId) {
      return calls.filter((c) => c.decision.tenant_id === tenantId);
    },
    storedDecisions(tenantId) {
      return [...stored.values()].map((s) => s.decision).filter((d) => d.tenant_id === tenantId);
    },
  };
}

/** A fatigue store whose backend is down: every call rejects, as ioredis does when Redis cannot be reached. */
export function createFakeUnavailableFatigueStore(message = 'connect ECONNREFUSED 127.0.0.1:6379'): FatigueStore & { calls: number } {
  const store = {
    kind: 'redis' as const,
    calls: 0,
    async reserve(): Promise<never> {
      store.calls++;
      throw new Error(message);
    },
    async reserveWithBudget(): Promise<never> {
      store.calls++;
      throw new Error(message);
    },
    async ping(): Promise<void> {
      throw new Error(message);
    },
  };
  return store;
}

/** A published mirror playbook that fires on a plain surface request (no signal), validated like a stored one. */
export function mirrorPlaybook(playbookId = 'pb-mirror', overrides: { cooldown_minutes?: number; category?: string } = {}): PublishedPlaybook {
  return {
    playbook_id: playbookId,
    version: 1,
    definition: playbookInputSchema.parse({
      name: 'Recent activity mirror',
      category: overrides.category ?? 'focus',
      triggers: [{ kind: 'request' }],
      actions: [
        {
          type: 'mirror',
          title: 'Your recent work on {{repo_id}}',
          body: 'Here is what the last hour on {{branch}} looked like.',
          cooldown_minutes: overrides.cooldown_minutes,
        },
      ],
    }),
  };
}

export function recentSignal(signalId = 'sig-1'): RecentSignal {
  return { signal_id: signalId, dimension: 'focus', signal_type: 'context_switch', severity: 'low', score: 0.4, created_at: '2025-01-01T00:00:00.000Z' };
}
