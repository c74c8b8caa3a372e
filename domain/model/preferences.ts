import { z } from 'zod';
import { isoDateTimeSchema, surfaceSchema, text, timeZoneSchema } from './common';
import { classifyString } from '../privacy/detectors';

export const preferencesInputSchema = z.strictObject({
  // Category names, never a secret, an address or words: the privacy filter's detectors refuse anything else (ADR 0013).
  opt_out_categories: z.array(text().min(1).max(64).refine((c) => classifyString(c) === null, 'must be a category name')).max(50).default([]),
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

/**
 * Exactly one of the two. The refine names the field in the 422; `oneOf` over `required` says the same in the
 * OpenAPI document (JSON Schema's own way to write "exactly one of these keys").
 */
export const snoozeInputSchema = z
  .strictObject({
    duration_minutes: z.number().int().min(1).max(30 * 24 * 60).optional(),
    until: isoDateTimeSchema.optional(),
  })
  .refine((v) => (v.duration_minutes === undefined) !== (v.until === undefined), {
    message: 'give exactly one of duration_minutes or until',
    path: ['duration_minutes'],
  })
  .meta({ oneOf: [{ required: ['duration_minutes'] }, { required: ['until'] }] });
export type SnoozeInput = z.infer<typeof snoozeInputSchema>;

export const DEFAULT_PREFERENCES: PreferencesInput = preferencesInputSchema.parse({});
