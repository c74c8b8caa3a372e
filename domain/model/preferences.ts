import { z } from 'zod';
import { isoDateTimeSchema, surfaceSchema, text, timeZoneSchema } from './common';

export const preferencesInputSchema = z.strictObject({
  opt_out_categories: z.array(text().min(1).max(64)).max(50).default([]),
  snooze_until: isoDateTimeSchema.nullable().default(null),
  preferred_surfaces: z.array(surfaceSchema).max(4).default([]),
  /** The actor's own time zone: quiet hours are evaluated in it when set (else the tenant's). */
  timezone: timeZoneSchema.nullable().default(null),
});
export type PreferencesInput = z.infer<typeof preferencesInputSchema>;

export const preferencesSchema = preferencesInputSchema.extend({
  tenant_id: text(),
  actor_id: text(),
  updated_at: isoDateTimeSchema.nullable(),
});
export type Preferences = z.infer<typeof preferencesSchema>;

/** Exactly one of the two: two closed shapes, so the document says it (`oneOf`) and the server checks the same. */
export const snoozeInputSchema = z
  .union([
    z.strictObject({ duration_minutes: z.number().int().min(1).max(30 * 24 * 60) }),
    z.strictObject({ until: isoDateTimeSchema }),
  ], { error: 'give exactly one of duration_minutes or until' })
  .meta({ 'x-one-of': true });
export type SnoozeInput = z.infer<typeof snoozeInputSchema>;

export const DEFAULT_PREFERENCES: PreferencesInput = preferencesInputSchema.parse({});
