import { withTimeout } from '../../lib/with-timeout';
import { createTtlCache } from '../../lib/ttl-cache';
import type { PublishedPlaybook } from '../../domain/model/playbook';
import type { ActiveExperiment } from '../../domain/experiments/arm-planning';
import type { TenantPolicy } from '../../domain/model/policy';
import type { Preferences } from '../../domain/model/preferences';
import type { RecentSignal } from '../../domain/model/signal';
import type { IamClient } from '../../lib/clients/iam-client';
import type { UbiClient } from '../clients/ubi-client';
import type { PrivacyGuard } from '../governance/privacy-guard';
import type { PolicyResolver } from '../policy/policy-resolver';
import { inItemSpan } from '../../observability/trace-context';
import type { BatchItemError, LoadContextInput, LoadedContext } from '../../domain/decision-steps';

export type { BatchItemError, LoadContextInput, LoadedContext } from '../../domain/decision-steps';

/** The narrow slices of the repositories that context assembly reads. */
export interface ContextDeps {
  /** Policy, preferences and published playbooks, read together (one round trip in the database implementation). */
  decisionInputs: {
    /** Only playbooks with a trigger of `triggerKind` can match, so only those are read (and kept in history). */
    load(
      tenantId: string,
      actorId: string,
      triggerKind: string,
      opts?: { recentSignals?: number },
    ): Promise<{ policy: TenantPolicy; preferences: Preferences; playbooks: PublishedPlaybook[]; recent_signals?: RecentSignal[]; experiments?: ActiveExperiment[] }>;
    /** True when `load` can also read the actor's recent signals (`opts.recentSignals`): one round trip for both. */
    readsRecentSignals?: boolean;
  };
  signals: { recent(tenantId: string, actorId: string, limit?: number): Promise<RecentSignal[]> };
}

/** Per-item answers of a batch; throws the first error when every item failed, so the activity is retried. */
export function settleBatch<T>(settled: Array<PromiseSettledResult<T>>): Array<T | BatchItemError> {
  if (settled.length > 0 && settled.every((r) => r.status === 'rejected')) throw (settled[0] as PromiseRejectedResult).reason;
  return settled.map((r) => (r.status === 'fulfilled' ? r.value : { error: r.reason instanceof Error ? r.reason.message : String(r.reason) }));
}


/**
 * Services context assembly calls when they are configured (unset: the local tables serve, as before). Each answer is
 * awaited only for its budget; a slow or failing one marks the decision degraded and never fails it.
 */
export interface ContextServices {
  policy?: PolicyResolver;
  iam?: Pick<IamClient, 'decide'>;
  ubi?: Pick<UbiClient, 'recentSignals'>;
  privacy?: Pick<PrivacyGuard, 'tenantConfig'>;
  /** FR-2: the context cache (IAM, UBI and data governance answers) keeps an answer this long. Default 30 s. */
  cacheTtlMs?: number;
}

/**
 * Budgets within the decision (FR-2: UBI 1.0 s, data governance 0.5 s; the policy lookup is bounded by its client's own 0.5 s timeout, FR-11). IAM's client keeps its
 * 2.0 s timeout, but inside a decision its answer is awaited at most 1.5 s: the context local activity has 2 s to
 * start and close, and waiting the full 2.0 s would turn a slow IAM into a failed decision instead of a degraded one.
 * The call itself runs on and fills the context cache for the next decision.
 */
export const CONTEXT_BUDGET_MS = { iam: 1500, ubi: 1000, data_governance: 500 } as const;

/** The action asked of IAM for the actor: may this actor be shown nudges in this tenant. */
export const IAM_NUDGE_ACTION = 'mmm:receive_nudges';

export function createContextActivities(deps: ContextDeps, services: ContextServices = {}) {
  const ttlMs = services.cacheTtlMs ?? 30_000;
  const iamCache = createTtlCache<'allow' | 'deny'>({ ttlMs });
  const ubiCache = createTtlCache<RecentSignal[]>({ ttlMs });

  function recentSignals(tenantId: string, actorId: string): Promise<RecentSignal[]> {
    const ubi = services.ubi;
    if (!ubi) return deps.signals.recent(tenantId, actorId, 10);
    return ubiCache.get(`${tenantId}\u0000${actorId}`, () => ubi.recentSignals(tenantId, actorId, 10));
  }

  function iamDecision(tenantId: string, actorId: string): Promise<'allow' | 'deny'> | undefined {
    const iam = services.iam;
    if (!iam) return undefined;
    return iamCache.get(`${tenantId}\u0000${actorId}`, () =>
      iam.decide({ subject: actorId, action: IAM_NUDGE_ACTION, resource: `tenants/${tenantId}/actors/${actorId}`, tenant_id: tenantId }),
    );
  }

  /** A budgeted wait: the answer, or `undefined` with `reason` recorded. */
  async function within<T>(promise: Promise<T> | undefined, ms: number, reason: string, degraded: string[]): Promise<T | undefined> {
    if (!promise) return undefined;
    try {
      return await withTimeout(promise, ms);
    } catch {
      degraded.push(reason);
      return undefined;
    }
  }

  async function loadDecisionContext(input: LoadContextInput): Promise<LoadedContext> {
    const degraded: string[] = [];
    const { tenant_id: tenantId, actor_id: actorId } = input;
    // Without a UBI service the signals come from this database, in the same round trip as the rest (ADR 0012).
    const merged = !services.ubi && deps.decisionInputs.readsRecentSignals === true;
    const [inputs, recent, iam, , lookup] = await Promise.all([
      deps.decisionInputs.load(tenantId, actorId, input.trigger_kind, merged ? { recentSignals: 10 } : {}),
      merged ? undefined : within(recentSignals(tenantId, actorId), CONTEXT_BUDGET_MS.ubi, 'ubi_signals_unavailable', degraded),
      within(iamDecision(tenantId, actorId), CONTEXT_BUDGET_MS.iam, 'iam_unavailable', degraded),
      // Fetched for its cache: receipts and alerts of this tenant are redacted with it (privacy-guard.ts).
      within(services.privacy?.tenantConfig(tenantId), CONTEXT_BUDGET_MS.data_governance, 'data_governance_unavailable', degraded),
      // Bounded by the policy client's own 0.5 s timeout; lookup() never rejects (a failure falls back to the cache).
      services.policy?.lookup(tenantId),
    ]);
    // The fail mode is not carried separately: commitDecision reads it back from the degraded reasons (FR-11).
    let policy = inputs.policy;
    if (services.policy && lookup) {
      const resolved = services.policy.resolve(policy, lookup);
      policy = resolved.policy;
      if (resolved.degraded_reason) degraded.push(resolved.degraded_reason);
    }
    // IAM says this actor is not to be nudged here: every matched action is suppressed by policy.
    if (iam === 'deny') policy = { ...policy, allowed_action_types: [] };
    return {
      policy,
      preferences: inputs.preferences,
      playbooks: inputs.playbooks,
      recent_signals: (merged ? inputs.recent_signals : recent) ?? [],
      degraded_reasons: degraded,
      // Only when there are some: a context without experiments stays what it was, in histories and in size.
      ...(inputs.experiments?.length ? { experiments: inputs.experiments } : {}),
    };
  }

  return {
    /**
     * Everything the decision needs, read in parallel in one local activity to keep history and latency small: the
     * local tables, and (when configured) the policy snapshot, IAM, UBI and data governance, each within its budget.
     */
    loadDecisionContext,

    /**
     * The contexts of a batch of decisions (one shard workflow's decisions of one workflow task, ADR 0012) in one
     * local activity. One that fails is answered with its error and the others go on; only when every one fails (the
     * database is down) does the activity fail, so its retries cover the batch.
     */
    async loadDecisionContexts(inputs: LoadContextInput[]): Promise<Array<LoadedContext | BatchItemError>> {
      const settled = await Promise.allSettled(inputs.map((i) => inItemSpan('decision context', i.traceparent, () => loadDecisionContext(i))));
      return settleBatch(settled);
    },
  };
}
