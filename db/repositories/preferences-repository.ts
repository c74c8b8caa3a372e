import {
  DEFAULT_PREFERENCES,
  preferencesInputSchema,
  type Preferences,
  type PreferencesInput,
} from '../../domain/model/preferences';
import type { Sequelize } from 'sequelize';
import type { ActorPreferencesRow, Models } from '../models';
import type { AuditLog } from './audit-log';

export function toPreferences(tenantId: string, actorId: string, row: ActorPreferencesRow | null): Preferences {
  const input = row ? preferencesInputSchema.parse(row.preferences) : DEFAULT_PREFERENCES;
  return { ...input, tenant_id: tenantId, actor_id: actorId, updated_at: row ? row.updated_at.toISOString() : null };
}

export function createPreferencesRepository(sequelize: Sequelize, models: Models, audit: AuditLog) {
  return {
    async get(tenantId: string, actorId: string): Promise<Preferences> {
      const row = await models.ActorPreferences.findOne({ where: { tenant_id: tenantId, actor_id: actorId } });
      return toPreferences(tenantId, actorId, row ? row.get({ plain: true }) : null);
    },
    /**
     * Writes an actor's preferences. When someone other than the actor (an admin) changes them, that is an admin
     * mutation and goes to the audit log with before and after, in the same transaction.
     */
    async put(tenantId: string, actorId: string, input: PreferencesInput, changedBy: string = actorId): Promise<Preferences> {
      return sequelize.transaction(async (transaction) => {
        const updated_at = new Date();
        const beforeRow = changedBy === actorId ? null : await models.ActorPreferences.findOne({ where: { tenant_id: tenantId, actor_id: actorId }, transaction });
        await models.ActorPreferences.upsert({ tenant_id: tenantId, actor_id: actorId, preferences: input, updated_at }, { transaction });
        const after = toPreferences(tenantId, actorId, { tenant_id: tenantId, actor_id: actorId, preferences: input, updated_at });
        if (changedBy !== actorId) {
          const before = toPreferences(tenantId, actorId, beforeRow ? beforeRow.get({ plain: true }) : null);
          await audit.record({ tenantId, actorSub: changedBy, action: 'preferences.put', resourceType: 'preferences', resourceId: actorId, before, after }, transaction);
        }
        return after;
      });
    },
  };
}
export type PreferencesRepository = ReturnType<typeof createPreferencesRepository>;
