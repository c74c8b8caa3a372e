import { z } from 'zod';
import { actionTypeSchema, actorTypeSchema, idSchema, scalarSchema, severitySchema, surfaceSchema } from './common';
import { signalSourceSchema } from './signal';
import { findPrescriptiveLanguage, findUnknownPlaceholders } from '../templates';
import { authoredTextProblem, conditionValueProblem } from '../privacy/privacy-filter';

export { REQUEST_TRIGGER_KIND } from './constants';

export const triggerSchema = z.strictObject({
  source: signalSourceSchema.optional(),
  kind: z.string().min(1).max(64).regex(/^[a-z][a-z0-9_.-]*$/, 'must be lower_snake_case'),
  min_severity: severitySchema.optional(),
  surfaces: z.array(surfaceSchema).min(1).max(4).optional(),
});
export type Trigger = z.infer<typeof triggerSchema>;

export const CONDITION_FIELD = /^(actor_type|branch|repo_id|surface|file_path|signal\.(kind|source|severity)|signal\.payload\.[A-Za-z0-9_]{1,64})$/;

/**
 * `matches` takes a deliberately small regular-expression dialect, because JavaScript regexes backtrack and a playbook
 * is evaluated on every decision against caller-supplied text: no quantified groups (`(a|a)*`, `(a+)+`), no
 * back-references or look-arounds, and at most two unbounded quantifiers (`*`, `+`, `{n,}`). Matching also reads
 * at most MATCHES_MAX_INPUT characters (domain/playbook-matching.ts), which bounds the worst case to milliseconds.
 */
export function regexProblem(pattern: string): string | null {
  if (pattern.length > 200) return 'at most 200 characters';
  try {
    new RegExp(pattern);
  } catch {
    return 'not a valid regular expression';
  }
  // Strip escapes and character classes first, so `\(` or `[(+]` are not read as groups or quantifiers.
  const skeleton = pattern.replace(/\\./g, 'x').replace(/\[(?:\\.|[^\]\\])*\]/g, 'x');
  if (/\)\s*(?:[*+?]|\{\d)/.test(skeleton)) return 'no quantifier may follow a group';
  if (/\(\?(?:[=!]|<[=!])/.test(skeleton)) return 'no look-arounds';
  if (/\\[1-9]|\\k</.test(pattern)) return 'no back-references';
  const unbounded = (skeleton.match(/[*+]|\{\d+,\}/g) ?? []).length;
  if (unbounded > 2) return 'at most two unbounded quantifiers (*, +, {n,})';
  return null;
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
    // A value to match is written by an admin and stored with the playbook: never a secret, an address or control characters.
    for (const v of Array.isArray(c.value) ? c.value : [c.value]) {
      const problem = typeof v === 'string' ? conditionValueProblem(v, { pattern: c.op === 'matches' }) : null;
      if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
    }
    if (c.op === 'matches') {
      const problem = typeof c.value === 'string' ? regexProblem(c.value) : 'takes a string';
      if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: `\`matches\` takes a safe regular expression: ${problem}` });
    }
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
      const privacy = authoredTextProblem(a[key], { oneLine: key === 'title' });
      if (privacy) ctx.addIssue({ code: 'custom', path: [key], message: privacy });
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

const refuseSensitiveText = (oneLine: boolean) => (text: string, ctx: z.RefinementCtx): void => {
  const problem = authoredTextProblem(text, { oneLine });
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};

export const playbookInputSchema = z.strictObject({
  name: z.string().min(1).max(120).superRefine(refuseSensitiveText(true)),
  description: z.string().max(1000).superRefine(refuseSensitiveText(false)).optional(),
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
