import { z } from 'zod';
import { idSchema, timestampSchema } from './common';

/** The longest window one metrics request may ask for: a year (and a day for time zones). */
export const METRICS_MAX_WINDOW_DAYS = 366;
export const METRICS_DEFAULT_WINDOW_DAYS = 30;

export const tenantMetricsQuerySchema = z
  .strictObject({
    since: timestampSchema.optional().describe(`start of the window, inclusive (default: ${METRICS_DEFAULT_WINDOW_DAYS} days before until)`),
    until: timestampSchema.optional().describe('end of the window, exclusive (default: now)'),
  })
  .superRefine((q, ctx) => {
    if (q.since === undefined || q.until === undefined) return;
    const span = Date.parse(q.until) - Date.parse(q.since);
    if (span <= 0) ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be later than since' });
    else if (span > METRICS_MAX_WINDOW_DAYS * 86_400_000) ctx.addIssue({ code: 'custom', path: ['since'], message: `the window may span at most ${METRICS_MAX_WINDOW_DAYS} days` });
  });

const counts = z.record(z.string(), z.number().int()).describe('cells below the minimum group size are left out (see suppressed_cells)');
const count = z.number().int().nullable().describe('null when it covers fewer actors than min_group_size');

/** FR-13: aggregate counts only; no actor id anywhere in it. */
export const tenantMetricsSchema = z.object({
  tenant_id: idSchema,
  // Any instant: a default since (30 days before a given until) may fall before the years a request may name.
  since: z.iso.datetime(),
  until: z.iso.datetime(),
  min_group_size: z.number().int(),
  decisions: z.object({ total: count, by_outcome: counts, by_surface: counts }),
  actions: z.object({ shown: count, by_type: counts }),
  suppressed: counts.describe('suppressed actions by reason'),
  outcomes: z.object({
    accepted: count,
    dismissed: count,
    ignored: count,
    snoozed: count,
    not_useful: count.describe('dismissals with reason not_useful (part of dismissed)'),
    acceptance_rate: z.number().nullable().describe('accepted outcomes per action shown in the window'),
  }),
  approvals: counts.describe('approvals opened in the window, by their current status'),
  latency_ms: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
  experiments: z
    .array(
      z.object({
        experiment_id: idSchema,
        status: z.enum(['draft', 'active', 'paused', 'completed']),
        arms: z.array(z.object({ arm_id: idSchema, shown: count, acceptance_rate: z.number().nullable().describe('accepted per shown decision of the arm; null when shown is') })),
      }),
    )
    .describe('experiments running or shown in the window (ADR 0017); an arm shown to fewer actors than min_group_size has shown null'),
  suppressed_cells: z.number().int().describe('how many cells were left out for covering fewer actors than min_group_size'),
});
export type TenantMetrics = z.infer<typeof tenantMetricsSchema>;
