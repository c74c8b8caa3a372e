import {
  DEFAULT_PREFERENCES,
  preferencesInputSchema,
  type Preferences,
  type PreferencesInput,
} from '../../domain/model/preferences';
import type { ActorPreferencesRow, Models } from '../models';

export function toPreferences(tenantId: string, actorId: string, row: ActorPreferencesRow | null): Preferences {
  const input = row ? preferencesInputSchema.parse(row.preferences) : DEFAULT_PREFERENCES;
  return { ...input, tenant_id: tenantId, actor_id: actorId, updated_at: row ? row.updated_at.toISOString() : null };
}

export function createPreferencesRepository(models: Models) {
  return {
    async get(tenantId: string, actorId: string): Promise<Preferences> {
      const row = await models.ActorPreferences.findOne({ where: { tenant_id: tenantId, actor_id: actorId } });
      return toPreferences(tenantId, actorId, row ? row.get({ plain: true }) : null);
    },
    async put(tenantId: string, actorId: string, input: PreferencesInput): Promise<Preferences> {
      const updated_at = new Date();
      await models.ActorPreferences.upsert({ tenant_id: tenantId, actor_id: actorId, preferences: input, updated_at });
      return toPreferences(tenantId, actorId, { tenant_id: tenantId, actor_id: actorId, preferences: input, updated_at });
    },
  };
}
export type PreferencesRepository = ReturnType<typeof createPreferencesRepository>;
