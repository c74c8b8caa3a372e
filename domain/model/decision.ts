import { z } from 'zod';
import { actionTypeSchema, actorTypeSchema, idSchema, severitySchema, surfaceSchema } from './common';
import { quietHoursSchema } from './policy';
import { recentSignalSchema, signalSchema } from './signal';

export const decideRequestSchema = z.strictObject({
  tenant_id: idSchema,
  actor_id: idSchema,
  actor_type: actorTypeSchema,
  surface: surfaceSchema,
  repo_id: z.string().min(1).max(200).optional(),
  branch: z.string().min(1).max(255).optional(),
  file_path: z.string().min(1).max(1024).optional(),
  signal: signalSchema.optional(),
});
export type DecideRequest = z.infer<typeof decideRequestSchema>;

export const suppressionReasonSchema = z.enum([
  'not_supported',
  'policy_disallowed',
  'opted_out',
  'snoozed',
  'quiet_hours',
  'surface_not_preferred',
  'cooldown',
  'fatigue_limit',
  'actor_type_mismatch',
  'fatigue_unavailable',
]);
export type SuppressionReason = z.infer<typeof suppressionReasonSchema>;

export const suppressedSchema = z.object({
  playbook_id: z.string(),
  playbook_version: z.number().int(),
  action_type: actionTypeSchema,
  reason: suppressionReasonSchema,
});
export type Suppressed = z.infer<typeof suppressedSchema>;

/** IDE card object; PR and CI get Markdown; alert gets a short title + text pair. */
export const ideCardSchema = z.object({
  kind: z.literal('card'),
  title: z.string(),
  body: z.string(),
  severity: severitySchema,
  tone: z.enum(['neutral', 'guidance', 'action']),
  buttons: z.array(z.object({ id: z.string(), label: z.string() })),
});
export type IdeCard = z.infer<typeof ideCardSchema>;

export const renderedSchema = z.object({
  ide: ideCardSchema.optional(),
  pr: z.string().optional(),
  ci: z.string().optional(),
  alert: z.object({ title: z.string(), text: z.string(), severity: severitySchema }).optional(),
});
export type Rendered = z.infer<typeof renderedSchema>;

export const rationaleSchema = z.object({
  evidence_links: z.array(z.string()),
  baseline_comparison: z.string().nullable(),
  why_relevant: z.string(),
});

export const actionSchema = z.object({
  action_id: z.string(),
  type: actionTypeSchema,
  playbook_id: z.string(),
  playbook_version: z.number().int(),
  category: z.string(),
  priority: z.number().int(),
  surfaces: z.array(surfaceSchema),
  payload: z.object({
    title: z.string(),
    body: z.string(),
    rendered: renderedSchema,
    rationale: rationaleSchema.optional(),
    /** Mentor actions: whether the LLM enrichment is pending, done, or the template stands (and why). */
    enrichment: z
      .object({
        status: z.enum(['pending', 'enriched', 'template']),
        reason: z.string().nullable(),
        redactions: z.unknown().optional(),
        dropped_claims: z.number().int().optional(),
      })
      .optional(),
    /** Multiplier actions: the digest consent and approvals are bound to, and the approval deadline. */
    approval: z
      .object({
        action_digest: z.string(),
        required_approvals: z.number().int(),
        target: z.enum(['edge_agent', 'ci']),
        expires_at: z.string(),
      })
      .optional(),
  }),
  requires_consent: z.boolean(),
  requires_dual_channel: z.boolean(),
});
export type Action = z.infer<typeof actionSchema>;

export const decisionContextSchema = z.object({
  actor_type: actorTypeSchema,
  actor_roles: z.array(z.string()),
  surface: surfaceSchema,
  repo_id: z.string().nullable(),
  branch: z.string().nullable(),
  file_path: z.string().nullable(),
  policy_snapshot_id: z.string(),
  quiet_hours: quietHoursSchema.nullable(),
  in_quiet_hours: z.boolean(),
  timezone: z.string().nullable(),
  recent_signals: z.array(recentSignalSchema),
  signal: signalSchema.nullable(),
});
export type DecisionContext = z.infer<typeof decisionContextSchema>;

export const decisionOutcomeSchema = z.enum(['shown', 'suppressed', 'no_match', 'failed_closed']);
export type DecisionOutcome = z.infer<typeof decisionOutcomeSchema>;

export const decisionSchema = z.object({
  decision_id: z.string(),
  tenant_id: z.string(),
  actor_id: z.string(),
  created_at: z.string(),
  context: decisionContextSchema,
  actions: z.array(actionSchema),
  suppressed: z.array(suppressedSchema),
  outcome: decisionOutcomeSchema,
  policy_snapshot_id: z.string(),
  latency_ms: z.number(),
  latency_warning: z.boolean(),
  degraded_mode: z.boolean(),
  degraded_reasons: z.array(z.string()),
  /** Request fields the privacy filter removed, by name and never with their value (ADR 0013); absent on older decisions. */
  dropped_fields: z.array(z.string()).optional(),
  receipt_id: z.string(),
  workflow_id: z.string(),
});
export type Decision = z.infer<typeof decisionSchema>;

export const outcomeInputSchema = z.strictObject({
  action_id: z.string().min(1).max(128),
  outcome: z.enum(['accepted', 'dismissed', 'ignored', 'snoozed']),
});

/**
 * What the decision workflow returns and records in its history: a reference to the stored decision. The decision
 * itself lives in PostgreSQL (and reaches an in-process API directly), which keeps histories small.
 */
export interface DecisionRef {
  decision_id: string;
  receipt_id: string;
  outcome: DecisionOutcome;
  /** The actions shown, when the decision starts follow-up workflows for some of them (mentor, multiplier). */
  action_ids?: string[];
}
