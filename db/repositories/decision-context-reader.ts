import { QueryTypes, type Sequelize } from 'sequelize';
import type { PlaybookInput, PublishedPlaybook } from '../../domain/model/playbook';
import type { TenantPolicy } from '../../domain/model/policy';
import type { Preferences } from '../../domain/model/preferences';
import type { RecentSignal } from '../../domain/model/signal';
import { toPolicy } from './policy-repository';
import { toPreferences } from './preferences-repository';

export interface DecisionInputs {
  policy: TenantPolicy;
  preferences: Preferences;
  playbooks: PublishedPlaybook[];
  /** The actor's latest behavioural signals, when asked for (the UBI tables of this database). */
  recent_signals?: RecentSignal[];
}

/**
 * What every decision reads from its own tables (policy, the actor's preferences, the published playbooks with a
 * trigger of this kind) in one round trip: this runs once per decide, on the latency path. The trigger-kind filter is
 * only a pre-selection; matching proper (source, severity, surfaces, conditions) stays in domain/playbook-matching.ts.
 */
export function createDecisionContextReader(sequelize: Sequelize) {
  return {
    /** The signals live in the same database (the embedded UBI store), so load() can read them too. */
    readsRecentSignals: true,
    /** `opts.recentSignals`: also the actor's latest signals, in the same round trip (the embedded UBI store). */
    async load(tenantId: string, actorId: string, triggerKind: string, opts: { recentSignals?: number } = {}): Promise<DecisionInputs> {
      const [row] = await sequelize.query<{
        policy: { version: number; policy: unknown; updated_at: string } | null;
        preferences: { preferences: unknown; updated_at: string } | null;
        playbooks: Array<{ playbook_id: string; version: number; definition: PlaybookInput }>;
        recent_signals: Array<RecentSignal & { score: number | string }> | null;
      }>(
        `SELECT
           (SELECT json_build_object('version', version, 'policy', policy, 'updated_at', updated_at)
              FROM tenant_policies WHERE tenant_id = :tenantId) AS policy,
           (SELECT json_build_object('preferences', preferences, 'updated_at', updated_at)
              FROM actor_preferences WHERE tenant_id = :tenantId AND actor_id = :actorId) AS preferences,
           (SELECT coalesce(json_agg(json_build_object('playbook_id', p.playbook_id, 'version', v.version, 'definition', v.definition)
                                     ORDER BY p.playbook_id), '[]'::json)
              FROM playbooks p JOIN playbook_versions v ON v.playbook_id = p.playbook_id AND v.version = p.published_version
             WHERE p.tenant_id = :tenantId AND p.status = 'published'
               AND v.definition -> 'triggers' @> CAST(:kindFilter AS jsonb)) AS playbooks,
           (SELECT coalesce(json_agg(s ORDER BY s.created_at DESC), '[]'::json)
              FROM (SELECT signal_id, dimension, signal_type, severity, score, created_at FROM ubi_signals
                     WHERE tenant_id = :tenantId AND actor_id = :actorId AND :signalLimit > 0
                     ORDER BY created_at DESC LIMIT :signalLimit) s) AS recent_signals`,
        {
          replacements: { tenantId, actorId, kindFilter: JSON.stringify([{ kind: triggerKind }]), signalLimit: opts.recentSignals ?? 0 },
          type: QueryTypes.SELECT,
        },
      );
      if (!row) throw new Error('decision context query returned no row');
      return {
        policy: toPolicy(
          tenantId,
          row.policy ? { tenant_id: tenantId, version: row.policy.version, policy: row.policy.policy, updated_at: new Date(row.policy.updated_at) } : null,
        ),
        preferences: toPreferences(
          tenantId,
          actorId,
          row.preferences ? { tenant_id: tenantId, actor_id: actorId, preferences: row.preferences.preferences, updated_at: new Date(row.preferences.updated_at) } : null,
        ),
        playbooks: row.playbooks,
        ...(opts.recentSignals
          ? { recent_signals: (row.recent_signals ?? []).map((r) => ({ ...r, score: Number(r.score), created_at: new Date(r.created_at).toISOString() })) }
          : {}),
      };
    },
  };
}
export type DecisionContextReader = ReturnType<typeof createDecisionContextReader>;
