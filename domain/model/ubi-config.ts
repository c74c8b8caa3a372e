import { z } from 'zod';
import { idSchema, isoDateTimeSchema, text } from './common';
import { DIMENSIONS } from '../ubi/features';

/** Five-field cron (minute hour day-of-month month day-of-week), e.g. "0 2 * * *" for 02:00 UTC nightly. */
// One pattern says it all (and is what the OpenAPI document shows): five fields of digits, * / , - split by spaces.
const cronSchema = text(/^[0-9*/,-]+( +[0-9*/,-]+){4}$/, 'must be a five-field cron expression such as "0 2 * * *" (fields of digits and * / , -, split by spaces)').max(64);

/** A tenant's UBI configuration as an admin sets it (every field optional: omitted ones take their defaults). */
export const ubiConfigInputSchema = z.strictObject({
  z_threshold: z.number().min(2).max(10).default(3.5).describe('|modified z-score| at or above which a value is an anomaly'),
  warming_multiplier: z.number().min(1).max(3).default(1.5).describe('threshold multiplier while an actor has 7-27 active days'),
  enabled_dimensions: z.array(z.enum(DIMENSIONS as [string, ...string[]])).max(DIMENSIONS.length).default(DIMENSIONS).describe('dimensions that produce signals'),
  retention_days: z.number().int().min(7).max(3650).default(90).describe('events, features and signals older than this are deleted'),
  min_group_size: z.number().int().min(2).max(1000).default(5).describe('team aggregates and team baselines need at least this many actors'),
  baseline_schedule: cronSchema.default('0 2 * * *').describe('when baselines are recomputed (UTC cron), nightly by default'),
});
export type UbiConfigInput = z.infer<typeof ubiConfigInputSchema>;

export const ubiConfigSchema = ubiConfigInputSchema.extend({
  tenant_id: idSchema,
  version: z.number().int().min(0).describe('0 until the first PUT; signals carry the version that produced them'),
  updated_at: isoDateTimeSchema.nullable(),
  updated_by: text().nullable(),
});
export type UbiConfig = z.infer<typeof ubiConfigSchema>;

export const DEFAULT_UBI_CONFIG: UbiConfigInput = ubiConfigInputSchema.parse({});

export function defaultUbiConfig(tenantId: string): UbiConfig {
  return { ...DEFAULT_UBI_CONFIG, tenant_id: tenantId, version: 0, updated_at: null, updated_by: null };
}
