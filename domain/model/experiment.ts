import { z } from 'zod';
import { idSchema, surfaceSchema, text, timestampSchema } from './common';
import { findUnknownPlaceholders } from '../templates';
import { authoredTextProblem } from '../privacy/privacy-filter';
import { FEATURES } from '../ubi/features';

/** The bounds of an experiment (FR-9, CONTRACT.md "Experiment"). */
export const EXPERIMENT_LIMITS = { minArms: 2, maxArms: 10, maxOverrides: 10, maxWindowDays: 90, defaultBurnIn: 50, defaultMinShare: 0.01, defaultMinSamples: 30 } as const;

/** Override text is a template like the playbook's: known placeholders only, nothing an address or secret would be. */
const overrideText = (max: number, oneLine: boolean) =>
  text()
    .min(1)
    .max(max)
    .superRefine((v, ctx) => {
      const unknown = findUnknownPlaceholders(v);
      if (unknown.length) ctx.addIssue({ code: 'custom', message: `unknown placeholders: ${unknown.join(', ')}` });
      const problem = authoredTextProblem(v, { oneLine });
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .meta({ description: "Replaces the action's template; a mirror action's override is held to the mirror rules (no prescriptive language)." });

export const armOverrideSchema = z.strictObject({
  action_index: z.number().int().min(0).max(9).meta({ description: "The index of the action in the playbook's published version" }),
  title: overrideText(200, true).optional(),
  body: overrideText(2000, false).optional(),
  surfaces: z.array(surfaceSchema).min(1).max(4).optional(),
  priority: z.number().int().min(0).max(100).optional(),
});
export type ArmOverride = z.infer<typeof armOverrideSchema>;

export const armSchema = z
  .strictObject({
    arm_id: idSchema.max(64),
    weight: z.number({ error: 'weight must be a number ≥ 0' }).finite().min(0, 'weight must be ≥ 0').max(1_000_000),
    holdout: z.boolean().optional().meta({ description: 'The control arm: shown nothing (its decisions list the playbook as suppressed `experiment_holdout`)' }),
    overrides: z.array(armOverrideSchema).max(EXPERIMENT_LIMITS.maxOverrides).optional(),
  })
  .superRefine((arm, ctx) => {
    if (arm.holdout && arm.overrides?.length) ctx.addIssue({ code: 'custom', path: ['overrides'], message: 'a holdout arm is shown nothing and takes no overrides' });
    const seen = new Set<number>();
    (arm.overrides ?? []).forEach((o, i) => {
      if (seen.has(o.action_index)) ctx.addIssue({ code: 'custom', path: ['overrides', i, 'action_index'], message: `action ${o.action_index} is overridden twice` });
      seen.add(o.action_index);
    });
  });
export type Arm = z.infer<typeof armSchema>;

export const experimentMetricSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('outcome'), outcome: z.literal('accepted', { error: 'the outcome metric is `accepted`' }) }),
    z.strictObject({
      kind: z.literal('behaviour'),
      feature: z.enum(FEATURES.map((f) => f.name) as [string, ...string[]], { error: 'must be a UBI feature name' }),
      window_days: z.number().int().min(1).max(EXPERIMENT_LIMITS.maxWindowDays),
    }),
  ],
  { error: 'metric.kind must be outcome or behaviour' },
);
export type ExperimentMetric = z.infer<typeof experimentMetricSchema>;

export const guardrailsSchema = z.strictObject({
  max_dismiss_rate: z.number().min(0).max(1).optional(),
  max_opt_out_rate: z.number().min(0).max(1).optional(),
  min_samples: z.number().int().min(1).max(1_000_000).default(EXPERIMENT_LIMITS.defaultMinSamples),
});
export type Guardrails = z.infer<typeof guardrailsSchema>;

export const experimentStrategySchema = z.enum(['fixed', 'thompson'], { error: 'strategy must be fixed or thompson' });
export type ExperimentStrategy = z.infer<typeof experimentStrategySchema>;

/** The share of traffic the holdout arms keep under any strategy: their weight over all weights. */
export function holdoutShare(arms: Array<Pick<Arm, 'weight' | 'holdout'>>): number {
  const total = arms.reduce((s, a) => s + a.weight, 0);
  return total > 0 ? arms.filter((a) => a.holdout).reduce((s, a) => s + a.weight, 0) / total : 0;
}

/** The body of POST and PUT /v1/mmm/experiments. */
export const experimentInputSchema = z
  .strictObject({
    name: text().min(1).max(120).superRefine((v, ctx) => {
      const problem = authoredTextProblem(v, { oneLine: true });
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
    playbook_id: idSchema,
    arms: z.array(armSchema).min(EXPERIMENT_LIMITS.minArms, 'an experiment has at least 2 arms').max(EXPERIMENT_LIMITS.maxArms, 'an experiment has at most 10 arms'),
    strategy: experimentStrategySchema.default('fixed'),
    min_share: z.number().min(0).max(0.5).default(EXPERIMENT_LIMITS.defaultMinShare).meta({ description: 'thompson: the share of traffic every arm keeps at least' }),
    metric: experimentMetricSchema.default({ kind: 'outcome', outcome: 'accepted' }),
    burn_in: z.number().int().min(0).max(100_000).default(EXPERIMENT_LIMITS.defaultBurnIn).meta({ description: 'thompson: decisions shown per arm before the weights move' }),
    guardrails: guardrailsSchema.optional(),
  })
  .superRefine((e, ctx) => {
    const ids = new Set<string>();
    e.arms.forEach((a, i) => {
      if (ids.has(a.arm_id)) ctx.addIssue({ code: 'custom', path: ['arms', i, 'arm_id'], message: `arm_id ${a.arm_id} is used twice` });
      ids.add(a.arm_id);
    });
    const holdouts = e.arms.filter((a) => a.holdout).length;
    if (holdouts > 1) ctx.addIssue({ code: 'custom', path: ['arms'], message: 'at most one arm is the holdout' });
    if (holdouts === e.arms.length) ctx.addIssue({ code: 'custom', path: ['arms'], message: 'at least one arm is not the holdout' });
    if (e.arms.every((a) => a.weight === 0)) ctx.addIssue({ code: 'custom', path: ['arms'], message: 'at least one arm has a weight above 0' });
    if (e.metric.kind === 'behaviour' && holdouts === 0) ctx.addIssue({ code: 'custom', path: ['metric'], message: 'a behaviour metric is measured against a holdout arm; add one' });
    if (e.strategy === 'thompson') {
      if (e.metric.kind !== 'outcome') ctx.addIssue({ code: 'custom', path: ['metric'], message: 'a thompson bandit learns from an outcome metric; use strategy fixed for a behaviour metric' });
      const bandit = e.arms.length - holdouts;
      if (e.min_share * bandit > 1 - holdoutShare(e.arms) + 1e-12)
        ctx.addIssue({ code: 'custom', path: ['min_share'], message: `min_share × ${bandit} arms leaves nothing to the holdout's share; lower it` });
    }
  });
export type ExperimentInput = z.infer<typeof experimentInputSchema>;

export const experimentStatusSchema = z.enum(['draft', 'active', 'paused', 'completed']);
export type ExperimentStatus = z.infer<typeof experimentStatusSchema>;

export const armResultSchema = z.object({
  arm_id: text(),
  holdout: z.boolean(),
  assigned: z.number().int(),
  shown: z.number().int(),
  accepted: z.number().int(),
  dismissed: z.number().int(),
  ignored: z.number().int(),
  snoozed: z.number().int(),
  acceptance_rate: z.number().nullable(),
  dismiss_rate: z.number().nullable(),
  actors_shown: z.number().int(),
  opted_out: z.number().int(),
  opt_out_rate: z.number().nullable(),
  current_weight: z.number(),
  probability_best: z.number().nullable(),
  paused_reason: text().nullable(),
  paused_at: timestampSchema.nullable(),
});
export type ArmResult = z.infer<typeof armResultSchema>;

export const armEffectSchema = z.object({
  arm_id: text(),
  feature: text(),
  window_days: z.number().int(),
  /** The arm's mean minus the holdout's mean; null until both have a sample. */
  difference: z.number().nullable(),
  /** Welch's 95% interval of the difference; null until both have at least two samples. */
  interval: z.object({ lower: z.number(), upper: z.number(), level: z.literal(0.95) }).nullable(),
  arm_mean: z.number().nullable(),
  holdout_mean: z.number().nullable(),
  samples: z.object({ arm: z.number().int(), holdout: z.number().int() }),
});
export type ArmEffect = z.infer<typeof armEffectSchema>;

export const experimentResultsSchema = z.object({
  arms: z.array(armResultSchema),
  /** Against the holdout, for a behaviour metric; null otherwise. */
  effect: z.array(armEffectSchema).nullable(),
  weights_updated_at: timestampSchema.nullable(),
});
export type ExperimentResults = z.infer<typeof experimentResultsSchema>;

export const experimentSchema = z.object({
  experiment_id: text(),
  tenant_id: text(),
  name: text(),
  playbook_id: text(),
  arms: z.array(armSchema),
  strategy: experimentStrategySchema,
  min_share: z.number(),
  metric: experimentMetricSchema,
  burn_in: z.number().int(),
  guardrails: guardrailsSchema.nullable(),
  status: experimentStatusSchema,
  created_at: timestampSchema,
  updated_at: timestampSchema,
  results: experimentResultsSchema,
});
export type Experiment = z.infer<typeof experimentSchema>;
