import { QueryTypes, type Sequelize } from 'sequelize';
import type { PlaybookInput, PublishedPlaybook } from '../../domain/model/playbook';
import type { TenantPolicy } from '../../domain/model/policy';
import type { Preferences } from '../../domain/model/preferences';
import { toPolicy } from './policy-repository';
import { toPreferences } from './preferences-repository';

export interface DecisionInputs {
  policy: TenantPolicy;
  preferences: Preferences;
  playbooks: PublishedPlaybook[];
}

/**
 * What every decision reads from its own tables (policy, the actor's preferences, the published playbooks with a
 * trigger of this kind) in one round trip: this runs once per decide, on the latency path. The trigger-kind filter is
 * only a pre-selection; matching proper (source, severity, surfaces, conditions) stays in domain/playbook-matching.ts.
 */
export function createDecisionContextReader(sequelize: Sequelize) {
  return {
    async load(tenantId: string, actorId: string, triggerKind: string): Promise<DecisionInputs> {
      const [row] = await sequelize.query<{
        policy: { version: number; policy: unknown; updated_at: string } | null;
        preferences: { preferences: unknown; updated_at: string } | null;
        playbooks: Array<{ playbook_id: string; version: number; definition: PlaybookInput }>;
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
               AND v.definition -> 'triggers' @> CAST(:kindFilter AS jsonb)) AS playbooks`,
        { replacements: { tenantId, actorId, kindFilter: JSON.stringify([{ kind: triggerKind }]) }, type: QueryTypes.SELECT },
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
      };
    },
  };
}
export type DecisionContextReader = ReturnType<typeof createDecisionContextReader>;
