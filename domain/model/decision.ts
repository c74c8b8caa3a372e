import { z } from 'zod';
import { actionTypeSchema, actorTypeSchema, idSchema, severitySchema, surfaceSchema, text, timestampSchema } from './common';
import { quietHoursSchema } from './policy';
import { recentSignalSchema, signalSchema } from './signal';

export const decideRequestSchema = z.strictObject({
  tenant_id: idSchema,
  actor_id: idSchema,
  actor_type: actorTypeSchema,
  surface: surfaceSchema,
  repo_id: text().min(1).max(200).optional(),
  branch: text().min(1).max(255).optional(),
  file_path: text().min(1).max(1024).optional(),
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
  /** The experiment's holdout arm was drawn: the action would have been shown and was withheld (ADR 0017). */
  'experiment_holdout',
]);
export type SuppressionReason = z.infer<typeof suppressionReasonSchema>;

/** The experiment arm that steered an action (FR-9): on the action, its suppression and its receipt entry. */
export const experimentRefSchema = z.object({ experiment_id: text(), arm_id: text() });
export type ExperimentRef = z.infer<typeof experimentRefSchema>;

export const suppressedSchema = z.object({
  playbook_id: text(),
  playbook_version: z.number().int(),
  action_type: actionTypeSchema,
  reason: suppressionReasonSchema,
  /** Set when the playbook's active experiment had assigned the decision an arm (fatigue, holdout). */
  experiment: experimentRefSchema.optional(),
});
export type Suppressed = z.infer<typeof suppressedSchema>;

export const outcomeValueSchema = z.enum(['accepted', 'dismissed', 'ignored', 'snoozed']);
/** Why an actor dismissed an action: `not_useful` is the card's "Not useful" button (FR-10). */
export const outcomeReasonSchema = z.enum(['not_useful']);

/** IDE card object; PR and CI get Markdown; alert gets a short title + text pair. */
export const ideCardSchema = z.object({
  kind: z.literal('card'),
  title: text(),
  body: text(),
  severity: severitySchema,
  tone: z.enum(['neutral', 'guidance', 'action']),
  buttons: z.array(z.object({
    id: text(),
    label: text(),
    records: z.object({ outcome: outcomeValueSchema, reason: outcomeReasonSchema.optional() }).optional().describe('the outcome body this button posts (absent: consent, which has its own route)'),
  })),
});
export type IdeCard = z.infer<typeof ideCardSchema>;

export const renderedSchema = z.object({
  ide: ideCardSchema.optional(),
  pr: text().optional(),
  ci: text().optional(),
  alert: z.object({ title: text(), text: text(), severity: severitySchema }).optional(),
});
export type Rendered = z.infer<typeof renderedSchema>;

export const rationaleSchema = z.object({
  evidence_links: z.array(text()),
  baseline_comparison: text().nullable(),
  why_relevant: text(),
});

/** FR-10 "why this nudge": what made the engine show this action to this actor now. */
export const whySchema = z.object({
  playbook_id: text(),
  playbook_version: z.number().int(),
  /** The playbook's trigger that fired. */
  trigger: z.object({ source: text().optional(), kind: text(), min_severity: severitySchema.optional(), surfaces: z.array(surfaceSchema).optional() }),
  /** The playbook's conditions, every one of which held. */
  conditions: z.array(z.object({ field: text(), op: text(), value: z.unknown() })),
  /** The signal that woke the playbook; null for a surface request without one. */
  signal_id: text().nullable(),
  experiment: experimentRefSchema.nullable(),
  /** The actor's nudges left in the fatigue window after this decision (remaining null when the store could not say). */
  nudge_budget: z.object({ remaining: z.number().int().nullable(), max: z.number().int(), window_minutes: z.number().int() }).nullable(),
});
export type Why = z.infer<typeof whySchema>;

export const actionSchema = z.object({
  action_id: text(),
  type: actionTypeSchema,
  playbook_id: text(),
  playbook_version: z.number().int(),
  category: text(),
  priority: z.number().int(),
  surfaces: z.array(surfaceSchema),
  payload: z.object({
    title: text(),
    body: text(),
    rendered: renderedSchema,
    rationale: rationaleSchema.optional(),
    /** Mentor actions: whether the LLM enrichment is pending, done, or the template stands (and why). */
    enrichment: z
      .object({
        status: z.enum(['pending', 'enriched', 'template']),
        reason: text().nullable(),
        redactions: z.unknown().optional(),
        dropped_claims: z.number().int().optional(),
      })
      .optional(),
    /** Multiplier actions: the digest consent and approvals are bound to, and the approval deadline. */
    approval: z
      .object({
        action_digest: text(),
        required_approvals: z.number().int(),
        target: z.enum(['edge_agent', 'ci']),
        expires_at: timestampSchema,
      })
      .optional(),
    /** Absent on decisions made before it was added. */
    why: whySchema.optional(),
  }),
  experiment: experimentRefSchema.optional(),
  requires_consent: z.boolean(),
  requires_dual_channel: z.boolean(),
});
export type Action = z.infer<typeof actionSchema>;

export const decisionContextSchema = z.object({
  actor_type: actorTypeSchema,
  actor_roles: z.array(text()),
  surface: surfaceSchema,
  repo_id: text().nullable(),
  branch: text().nullable(),
  file_path: text().nullable(),
  policy_snapshot_id: text(),
  quiet_hours: quietHoursSchema.nullable(),
  in_quiet_hours: z.boolean(),
  timezone: text().nullable(),
  recent_signals: z.array(recentSignalSchema),
  signal: signalSchema.nullable(),
});
export type DecisionContext = z.infer<typeof decisionContextSchema>;

export const decisionOutcomeSchema = z.enum(['shown', 'suppressed', 'no_match', 'failed_closed']);
export type DecisionOutcome = z.infer<typeof decisionOutcomeSchema>;

export const decisionSchema = z.object({
  decision_id: text(),
  tenant_id: text(),
  actor_id: text(),
  created_at: timestampSchema,
  context: decisionContextSchema,
  actions: z.array(actionSchema),
  suppressed: z.array(suppressedSchema),
  outcome: decisionOutcomeSchema,
  policy_snapshot_id: text(),
  latency_ms: z.number(),
  latency_warning: z.boolean(),
  degraded_mode: z.boolean(),
  degraded_reasons: z.array(text()),
  /** Request fields the privacy filter removed, by name and never with their value (ADR 0013); absent on older decisions. */
  dropped_fields: z.array(text()).optional(),
  receipt_id: text(),
  workflow_id: text(),
  /** The OpenTelemetry trace the decision was made in (ADR 0015); null when tracing is off, absent on older decisions. */
  trace_id: z.string().regex(/^[0-9a-f]{32}$/).nullable().optional(),
});
export type Decision = z.infer<typeof decisionSchema>;

export const outcomeInputSchema = z
  .strictObject({
    action_id: text().min(1).max(128),
    outcome: outcomeValueSchema,
    reason: outcomeReasonSchema.optional().describe('only with `dismissed`: `not_useful` is the card\'s "Not useful"'),
  })
  .superRefine((v, ctx) => {
    if (v.reason !== undefined && v.outcome !== 'dismissed') ctx.addIssue({ code: 'custom', path: ['reason'], message: 'a reason is only given with the outcome dismissed' });
  });

/**
 * What the decision workflow returns and records in its history: a reference to the stored decision. The decision
 * itself lives in PostgreSQL (and reaches an in-process API directly), which keeps histories small.
 */
/** A stored decision with the hash of the request it was stored for (another request may share its Idempotency-Key). */
export interface StoredDecision {
  decision: Decision;
  requestSha256: string;
}

export interface DecisionRef {
  decision_id: string;
  receipt_id: string;
  outcome: DecisionOutcome;
  /** The actions shown, when the decision starts follow-up workflows for some of them (mentor, multiplier). */
  action_ids?: string[];
}
