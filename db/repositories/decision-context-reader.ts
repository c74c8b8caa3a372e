import { QueryTypes, type Sequelize } from 'sequelize';
import type { PlaybookInput, PublishedPlaybook } from '../../domain/model/playbook';
import type { TenantPolicy } from '../../domain/model/policy';
import type { Preferences } from '../../domain/model/preferences';
import type { RecentSignal } from '../../domain/model/signal';
import type { ActiveExperiment } from '../../domain/experiments/arm-planning';
import { prepared, withConnection } from '../direct-sql';
import { toPolicy } from './policy-repository';
import { toPreferences } from './preferences-repository';

export interface DecisionInputs {
  policy: TenantPolicy;
  preferences: Preferences;
  playbooks: PublishedPlaybook[];
  /** The actor's latest behavioural signals, when asked for (the UBI tables of this database). */
  recent_signals?: RecentSignal[];
  /** The active experiments of those playbooks, with their arms' current weights (a paused arm weighs 0). */
  experiments: ActiveExperiment[];
}

/**
 * What every decision reads from its own tables (policy, the actor's preferences, the published playbooks with a
 * trigger of this kind) in one round trip: this runs once per decide, on the latency path. The trigger-kind filter is
 * only a pre-selection; matching proper (source, severity, surfaces, conditions) stays in domain/playbook-matching.ts.
 */
const PUBLISHED_WITH_TRIGGER = `
  SELECT p.playbook_id, v.version, v.definition
    FROM playbooks p JOIN playbook_versions v ON v.playbook_id = p.playbook_id AND v.version = p.published_version
   WHERE p.tenant_id = :tenantId AND p.status = 'published'
     AND v.definition -> 'triggers' @> CAST(:kindFilter AS jsonb)`;

/** Everything one decision reads, in one statement (its context, above, and the actor's latest signals). */
const CONTEXT_SQL = `WITH pb AS (${PUBLISHED_WITH_TRIGGER})
         SELECT
           (SELECT json_build_object('version', version, 'policy', policy, 'updated_at', updated_at)
              FROM tenant_policies WHERE tenant_id = :tenantId) AS policy,
           (SELECT json_build_object('preferences', preferences, 'updated_at', updated_at)
              FROM actor_preferences WHERE tenant_id = :tenantId AND actor_id = :actorId) AS preferences,
           (SELECT coalesce(json_agg(json_build_object('playbook_id', pb.playbook_id, 'version', pb.version, 'definition', pb.definition)
                                     ORDER BY pb.playbook_id), '[]'::json) FROM pb) AS playbooks,
           (SELECT coalesce(json_agg(json_build_object(
                     'experiment_id', x.experiment_id, 'playbook_id', x.playbook_id, 'strategy', x.definition ->> 'strategy',
                     'arms', (SELECT json_agg(json_build_object(
                                'arm_id', a.arm_id,
                                'weight', CASE WHEN a.paused_reason IS NULL THEN a.current_weight ELSE 0 END,
                                'holdout', coalesce((x.definition -> 'arms' -> a.position ->> 'holdout')::boolean, false),
                                'overrides', coalesce(x.definition -> 'arms' -> a.position -> 'overrides', '[]'::jsonb)) ORDER BY a.position)
                                FROM experiment_arms a WHERE a.experiment_id = x.experiment_id))
                     ORDER BY x.playbook_id), '[]'::json)
              FROM experiments x
             WHERE x.tenant_id = :tenantId AND x.status = 'active' AND x.playbook_id IN (SELECT playbook_id FROM pb)) AS experiments,
           (SELECT coalesce(json_agg(s ORDER BY s.created_at DESC), '[]'::json)
              FROM (SELECT signal_id, dimension, signal_type, severity, score, created_at FROM ubi_signals
                     WHERE tenant_id = :tenantId AND actor_id = :actorId AND :signalLimit > 0
                     ORDER BY created_at DESC LIMIT :signalLimit) s) AS recent_signals`;

interface ContextRow {
  policy: { version: number; policy: unknown; updated_at: string } | null;
  preferences: { preferences: unknown; updated_at: string } | null;
  playbooks: Array<{ playbook_id: string; version: number; definition: PlaybookInput }>;
  recent_signals: Array<RecentSignal & { score: number | string }> | null;
  experiments: ActiveExperiment[];
}

export function createDecisionContextReader(sequelize: Sequelize) {
  return {
    /** Only the published playbooks with a trigger of this kind (the signal consumer's routing to surfaces). */
    async publishedWithTrigger(tenantId: string, triggerKind: string): Promise<PublishedPlaybook[]> {
      return sequelize.query<PublishedPlaybook>(`${PUBLISHED_WITH_TRIGGER} ORDER BY p.playbook_id`, {
        replacements: { tenantId, kindFilter: JSON.stringify([{ kind: triggerKind }]) },
        type: QueryTypes.SELECT,
      });
    },
    /** The signals live in the same database (the embedded UBI store), so load() can read them too. */
    readsRecentSignals: true,
    /** `opts.recentSignals`: also the actor's latest signals, in the same round trip (the embedded UBI store). */
    async load(tenantId: string, actorId: string, triggerKind: string, opts: { recentSignals?: number } = {}): Promise<DecisionInputs> {
      // A named prepared statement: parsed and planned once per connection, not on every decision (ADR 0012).
      const statement = prepared(CONTEXT_SQL, { tenantId, actorId, kindFilter: JSON.stringify([{ kind: triggerKind }]), signalLimit: opts.recentSignals ?? 0 });
      const {
        rows: [row],
      } = await withConnection(sequelize, (c) => c.query<ContextRow>(statement));
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
        experiments: row.experiments ?? [],
        ...(opts.recentSignals
          ? { recent_signals: (row.recent_signals ?? []).map((r) => ({ ...r, score: Number(r.score), created_at: new Date(r.created_at).toISOString() })) }
          : {}),
      };
    },
  };
}
export type DecisionContextReader = ReturnType<typeof createDecisionContextReader>;
