import { withTimeout } from '../../lib/with-timeout';
import type { PublishedPlaybook } from '../../domain/model/playbook';
import type { TenantPolicy } from '../../domain/model/policy';
import type { Preferences } from '../../domain/model/preferences';
import type { RecentSignal } from '../../domain/model/signal';

/** The narrow slices of the repositories that context assembly reads. */
export interface ContextDeps {
  /** Policy, preferences and published playbooks, read together (one round trip in the database implementation). */
  decisionInputs: {
    /** Only playbooks with a trigger of `triggerKind` can match, so only those are read (and kept in history). */
    load(tenantId: string, actorId: string, triggerKind: string): Promise<{ policy: TenantPolicy; preferences: Preferences; playbooks: PublishedPlaybook[] }>;
  };
  signals: { recent(tenantId: string, actorId: string, limit?: number): Promise<RecentSignal[]> };
}

export interface LoadContextInput {
  tenant_id: string;
  actor_id: string;
  /** The signal's kind, or "request" for a surface request without a signal. */
  trigger_kind: string;
}

export interface LoadedContext {
  policy: TenantPolicy;
  preferences: Preferences;
  playbooks: PublishedPlaybook[];
  recent_signals: RecentSignal[];
  degraded_reasons: string[];
}

/** Recent signals are context, not a precondition: the UBI store gets 1 s (FR-2) and a miss degrades, never fails. */
const UBI_BUDGET_MS = 1000;

export function createContextActivities(deps: ContextDeps) {
  return {
    /** Everything the decision needs, read in parallel in one local activity to keep history and latency small. */
    async loadDecisionContext(input: LoadContextInput): Promise<LoadedContext> {
      const degraded: string[] = [];
      const [{ policy, preferences, playbooks }, recent] = await Promise.all([
        deps.decisionInputs.load(input.tenant_id, input.actor_id, input.trigger_kind),
        withTimeout(deps.signals.recent(input.tenant_id, input.actor_id, 10), UBI_BUDGET_MS).catch(() => {
          degraded.push('ubi_signals_unavailable');
          return [] as RecentSignal[];
        }),
      ]);
      return { policy, preferences, playbooks, recent_signals: recent, degraded_reasons: degraded };
    },
  };
}
