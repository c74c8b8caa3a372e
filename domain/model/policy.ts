import { z } from 'zod';
import { actionTypeSchema, hhmmSchema, text, timestampSchema, timeZoneSchema } from './common';

export const quietHoursSchema = z.strictObject({
  start: hhmmSchema,
  end: hhmmSchema,
  timezone: timeZoneSchema,
});
export type QuietHours = z.infer<typeof quietHoursSchema>;

/** The body of PUT /v1/mmm/tenants/{tenant_id}/policy. Every field has a default so a partial PUT is well defined. */
export const tenantPolicyInputSchema = z.strictObject({
  max_nudges_per_window: z.number().int().min(0).max(1000).default(3),
  window_minutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
  quiet_hours: quietHoursSchema.nullable().default(null),
  cooldown_minutes: z.number().int().min(0).max(7 * 24 * 60).default(30),
  safety_critical: z.boolean().default(false),
  /** Fractions of a minute are allowed (down to 3 s), so short approval windows can be tried out and tested. */
  approval_timeout_minutes: z.number().min(0.05).max(30 * 24 * 60).default(60),
  llm_enabled: z.boolean().default(false),
  allowed_action_types: z.array(actionTypeSchema).max(3).default(['mirror', 'mentor', 'multiplier']),
  /** Decisions, outcomes, approvals and the action outbox older than this are purged daily (data governance's wins). */
  retention_days: z.number().int().min(1).max(3650).default(90),
});
export type TenantPolicyInput = z.infer<typeof tenantPolicyInputSchema>;

export const tenantPolicySchema = tenantPolicyInputSchema.extend({
  tenant_id: text(),
  version: z.number().int(),
  policy_snapshot_id: text(),
  updated_at: timestampSchema.nullable(),
});
export type TenantPolicy = z.infer<typeof tenantPolicySchema>;

export const DEFAULT_TENANT_POLICY: TenantPolicyInput = tenantPolicyInputSchema.parse({});

/** A snapshot id names exactly one policy version of one tenant, so a receipt can point at what was in force. */
export function policySnapshotId(tenantId: string, version: number): string {
  return `pol_${tenantId}_v${version}`;
}
