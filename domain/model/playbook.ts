import { z } from 'zod';
import { actorTypeSchema, idSchema, scalarSchema, severitySchema, surfaceSchema, text, timestampSchema } from './common';
import { signalSourceSchema } from './signal';
import { findPrescriptiveLanguage, findUnknownPlaceholders, TEMPLATE_PLACEHOLDERS } from '../templates';
import { authoredTextProblem, conditionValueProblem } from '../privacy/privacy-filter';

export { REQUEST_TRIGGER_KIND } from './constants';

export const triggerSchema = z.strictObject({
  source: signalSourceSchema.optional(),
  kind: text(/^[a-z][a-z0-9_.-]*$/, 'must be lower_snake_case').min(1).max(64),
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

const conditionField = text(CONDITION_FIELD, 'must be actor_type, branch, repo_id, surface, file_path, signal.kind, signal.source, signal.severity or signal.payload.<key>');

/**
 * One shape per operator, so the OpenAPI document says which value each takes (`oneOf` on `op`). What JSON Schema
 * cannot say, the regex dialect of `matches`, is checked here and described under `x-regex-dialect`.
 */
export const conditionSchema = z.discriminatedUnion('op', [
  z.strictObject({ field: conditionField, op: z.enum(['eq', 'neq']), value: scalarSchema }),
  z.strictObject({ field: conditionField, op: z.literal('in'), value: z.array(scalarSchema, { error: '`in` takes an array' }).max(100) }),
  z.strictObject({ field: conditionField, op: z.enum(['gte', 'lte']), value: z.number({ error: '`gte` and `lte` take a number' }).finite() }),
  z.strictObject({
    field: conditionField,
    op: z.literal('matches'),
    value: text()
      .max(200)
      .superRefine((v, ctx) => {
        const problem = regexProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: `\`matches\` takes a safe regular expression: ${problem}` });
      })
      .meta({
        description: 'A JavaScript regular expression of at most 200 characters in a safe dialect (see x-regex-dialect).',
        'x-regex-dialect': 'valid JavaScript (no flags); no quantifier after a group; no look-arounds; no back-references; at most two unbounded quantifiers (*, +, {n,})',
      }),
  }),
], { error: 'op must be one of eq, neq, in, gte, lte, matches' })
  .superRefine((c, ctx) => {
    // A value to match is written by an admin and stored with the playbook: never a secret, an address or control characters.
    for (const v of Array.isArray(c.value) ? c.value : [c.value]) {
      const problem = typeof v === 'string' ? conditionValueProblem(v, { pattern: c.op === 'matches' }) : null;
      if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
    }
  });
export type Condition = z.infer<typeof conditionSchema>;

/** What a template may say, beyond what a pattern can: named in the document under these `x-` keys. */
const templateMeta = {
  description: 'Text with {{placeholder}} substitution; only the placeholders listed in x-placeholders are allowed.',
  'x-placeholders': TEMPLATE_PLACEHOLDERS,
};
/** A mirror reflects and never prescribes: no `!` (a pattern) and none of the words under x-prescriptive-words. */
const mirrorTextMeta = {
  ...templateMeta,
  description: `${templateMeta.description} A mirror reflects and never prescribes: no "!", and none of the words in x-prescriptive-words.`,
  'x-prescriptive-words': ['should', 'must', 'ought to', 'need to', 'have to', 'had better', 'please', 'consider', 'make sure', "don't forget", 'remember to', 'try to', 'fix', 'stop', 'avoid', 'bad', 'poor', 'lazy', 'careless', 'sloppy', 'unacceptable', 'shame'],
};

const actionBase = {
  title: text().min(1).max(200).meta(templateMeta),
  body: text().min(1).max(2000).meta(templateMeta),
  surfaces: z.array(surfaceSchema).min(1).max(4).optional(),
  priority: z.number().int().min(0).max(100).default(50),
  cooldown_minutes: z.number().int().min(0).max(30 * 24 * 60).optional(),
};
const noDualChannel = z.literal(false, { error: 'only multiplier actions take a dual-channel approval' }).default(false);
// eslint-disable-next-line no-control-regex -- the pattern keeps out NUL as well, as every text pattern must
const mirrorText = (max: number) => text(/^[^\u0000!]*$/, 'a mirror reflects and never prescribes; remove: !').min(1).max(max).meta(mirrorTextMeta);

/**
 * One shape per action type (`oneOf` on `type`): a multiplier always requires consent and only a multiplier takes a
 * dual-channel approval. The template rules JSON Schema cannot say are checked in superRefine below.
 */
export const playbookActionSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('mirror'), ...actionBase, title: mirrorText(200), body: mirrorText(2000), requires_consent: z.boolean().default(false), requires_dual_channel: noDualChannel }),
    z.strictObject({ type: z.literal('mentor'), ...actionBase, requires_consent: z.boolean().default(false), requires_dual_channel: noDualChannel }),
    z.strictObject({
      type: z.literal('multiplier'),
      ...actionBase,
      requires_consent: z.literal(true, { error: 'multiplier actions always require consent' }),
      requires_dual_channel: z.boolean().default(false),
    }),
  ], { error: 'type must be one of mirror, mentor, multiplier' })
  .superRefine((a, ctx) => {
    for (const key of ['title', 'body'] as const) {
      const unknown = findUnknownPlaceholders(a[key]);
      if (unknown.length) ctx.addIssue({ code: 'custom', path: [key], message: `unknown placeholders: ${unknown.join(', ')}` });
      const privacy = authoredTextProblem(a[key], { oneLine: key === 'title' });
      if (privacy) ctx.addIssue({ code: 'custom', path: [key], message: privacy });
      if (a.type === 'mirror') {
        // `!` is refused by the pattern above (and named there); the words are what a pattern cannot say.
        const words = findPrescriptiveLanguage(a[key]).filter((w) => !w.startsWith('!'));
        if (words.length)
          ctx.addIssue({ code: 'custom', path: [key], message: `a mirror reflects and never prescribes; remove: ${words.join(', ')}` });
      }
    }
  });
export type PlaybookAction = z.infer<typeof playbookActionSchema>;

const refuseSensitiveText = (oneLine: boolean) => (value: string, ctx: z.RefinementCtx): void => {
  const problem = authoredTextProblem(value, { oneLine });
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
};

export const playbookInputSchema = z.strictObject({
  name: text().min(1).max(120).superRefine(refuseSensitiveText(true)),
  description: text().max(1000).superRefine(refuseSensitiveText(false)).optional(),
  category: text(/^[a-z][a-z0-9_-]*$/, 'must be lower_snake_case').min(1).max(64),
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
  tenant_id: text(),
  version: z.number().int(),
  status: playbookStatusSchema,
  published_version: z.number().int().nullable(),
  created_at: timestampSchema,
  updated_at: timestampSchema,
});
export type Playbook = z.infer<typeof playbookSchema>;

/** What decisions use: the published version of a playbook. */
export interface PublishedPlaybook {
  playbook_id: string;
  version: number;
  definition: PlaybookInput;
}
