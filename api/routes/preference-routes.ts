import { z } from 'zod';
import { idSchema } from '../../domain/model/common';
import { preferencesInputSchema, preferencesSchema, snoozeInputSchema } from '../../domain/model/preferences';
import type { PreferencesRepository } from '../../db/repositories/preferences-repository';
import { ADMIN_ROLES, requireSelfOr } from '../auth';
import { defineRoute } from '../route';

const params = z.object({ actor_id: idSchema });

export function preferenceRoutes(deps: { preferences: PreferencesRepository }) {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/mmm/actors/:actor_id/preferences',
      summary: "An actor's preferences",
      tag: 'preferences',
      access: 'the actor themself, or an admin of the tenant',
      params,
      response: preferencesSchema,
      async handler({ params: p, auth }) {
        requireSelfOr(auth, p.actor_id, ADMIN_ROLES);
        return { body: await deps.preferences.get(auth.tenant_id, p.actor_id) };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/mmm/actors/:actor_id/preferences',
      summary: "Replace an actor's preferences (omitted fields return to their defaults)",
      tag: 'preferences',
      access: 'the actor themself, or an admin of the tenant',
      params,
      body: preferencesInputSchema,
      response: preferencesSchema,
      async handler({ params: p, body, auth }) {
        requireSelfOr(auth, p.actor_id, ADMIN_ROLES);
        return { body: await deps.preferences.put(auth.tenant_id, p.actor_id, body, auth.sub) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/mmm/actors/:actor_id/preferences/snooze',
      summary: 'Snooze every nudge for a while (`duration_minutes`) or until a time (`until`)',
      tag: 'preferences',
      access: 'the actor themself, or an admin of the tenant',
      params,
      body: snoozeInputSchema,
      response: preferencesSchema,
      async handler({ params: p, body, auth }) {
        requireSelfOr(auth, p.actor_id, ADMIN_ROLES);
        const until = body.until ?? new Date(Date.now() + (body.duration_minutes as number) * 60_000).toISOString();
        const { tenant_id: _t, actor_id: _a, updated_at: _u, ...current } = await deps.preferences.get(auth.tenant_id, p.actor_id);
        return { body: await deps.preferences.put(auth.tenant_id, p.actor_id, { ...current, snooze_until: until }, auth.sub) };
      },
    }),
  ];
}
