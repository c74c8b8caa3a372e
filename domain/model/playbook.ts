import { z } from 'zod';
import { actionTypeSchema, actorTypeSchema, idSchema, scalarSchema, severitySchema, surfaceSchema } from './common';
import { signalSourceSchema } from './signal';
import { findPrescriptiveLanguage, findUnknownPlaceholders } from '../templates';

/** `kind: "request"` matches a surface request that carries no signal. */
export const REQUEST_TRIGGER_KIND = 'request';

export const triggerSchema = z.strictObject({
  source: signalSourceSchema.optional(),
  kind: z.string().min(1).max(64).regex(/^[a-z][a-z0-9_.-]*$/, 'must be lower_snake_case'),
  min_severity: severitySchema.optional(),
  surfaces: z.array(surfaceSchema).min(1).max(4).optional(),
});
export type Trigger = z.infer<typeof triggerSchema>;

export const CONDITION_FIELD = /^(actor_type|branch|repo_id|surface|file_path|signal\.(kind|source|severity)|signal\.payload\.[A-Za-z0-9_]{1,64})$/;

/** A regex for `matches` stays short and free of nested quantifiers, the usual shape of catastrophic backtracking. */
function isSafeRegex(pattern: string): boolean {
  if (pattern.length > 200) return false;
  if (/\([^)]*[+*][^)]*\)\s*[+*{]/.test(pattern)) return false;
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

export const conditionSchema = z
  .strictObject({
    field: z.string().regex(CONDITION_FIELD, 'must be actor_type, branch, repo_id, surface, file_path, signal.kind, signal.source, signal.severity or signal.payload.<key>'),
    op: z.enum(['eq', 'neq', 'in', 'matches', 'gte', 'lte']),
    value: z.union([scalarSchema, z.array(scalarSchema).max(100)]),
  })
  .superRefine((c, ctx) => {
    const isArray = Array.isArray(c.value);
    if (c.op === 'in' && !isArray) ctx.addIssue({ code: 'custom', path: ['value'], message: '`in` takes an array' });
    if (c.op !== 'in' && isArray) ctx.addIssue({ code: 'custom', path: ['value'], message: `\`${c.op}\` takes a single value` });
    if ((c.op === 'gte' || c.op === 'lte') && typeof c.value !== 'number')
      ctx.addIssue({ code: 'custom', path: ['value'], message: `\`${c.op}\` takes a number` });
    if (c.op === 'matches' && (typeof c.value !== 'string' || !isSafeRegex(c.value)))
      ctx.addIssue({ code: 'custom', path: ['value'], message: '`matches` takes a valid regular expression of at most 200 characters without nested quantifiers' });
  });
export type Condition = z.infer<typeof conditionSchema>;

export const playbookActionSchema = z
  .strictObject({
    type: actionTypeSchema,
    title: z.string().min(1).max(200),
    body: z.string().min(1).max(2000),
    surfaces: z.array(surfaceSchema).min(1).max(4).optional(),
    priority: z.number().int().min(0).max(100).default(50),
    cooldown_minutes: z.number().int().min(0).max(30 * 24 * 60).optional(),
    requires_consent: z.boolean().default(false),
    requires_dual_channel: z.boolean().default(false),
  })
  .superRefine((a, ctx) => {
    for (const key of ['title', 'body'] as const) {
      const unknown = findUnknownPlaceholders(a[key]);
      if (unknown.length) ctx.addIssue({ code: 'custom', path: [key], message: `unknown placeholders: ${unknown.join(', ')}` });
      if (a.type === 'mirror') {
        const words = findPrescriptiveLanguage(a[key]);
        if (words.length)
          ctx.addIssue({ code: 'custom', path: [key], message: `a mirror reflects and never prescribes; remove: ${words.join(', ')}` });
      }
    }
    if (a.type === 'multiplier' && !a.requires_consent)
      ctx.addIssue({ code: 'custom', path: ['requires_consent'], message: 'multiplier actions always require consent' });
    if (a.type !== 'multiplier' && a.requires_dual_channel)
      ctx.addIssue({ code: 'custom', path: ['requires_dual_channel'], message: 'only multiplier actions take a dual-channel approval' });
  });
export type PlaybookAction = z.infer<typeof playbookActionSchema>;

export const playbookInputSchema = z.strictObject({
  name: z.string().min(1).max(120),
  description: z.string().max(1000).optional(),
  category: z.string().min(1).max(64).regex(/^[a-z][a-z0-9_-]*$/, 'must be lower_snake_case'),
  actor_types: z.array(actorTypeSchema).min(1).max(2).optional(),
  triggers: z.array(triggerSchema).min(1).max(20),
  conditions: z.array(conditionSchema).max(20).default([]),
  actions: z.array(playbookActionSchema).min(1).max(10),
});
export type PlaybookInput = z.infer<typeof playbookInputSchema>;

export const playbookStatusSchema = z.enum(['draft', 'published', 'archived']);
export type PlaybookStatus = z.infer<typeof playbookStatusSchema>;

export const playbookSchema = playbookInputSchema.extend({
  playbook_id: idSchema,
  tenant_id: z.string(),
  version: z.number().int(),
  status: playbookStatusSchema,
  published_version: z.number().int().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Playbook = z.infer<typeof playbookSchema>;

/** What decisions use: the published version of a playbook. */
export interface PublishedPlaybook {
  playbook_id: string;
  version: number;
  definition: PlaybookInput;
}
