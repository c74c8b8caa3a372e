import { z } from 'zod';
import { actorTypeSchema, idSchema, isoDateTimeSchema, severitySchema, text } from './common';

/** Every behavioural signal UBI produces is published here; the engine consumes this topic. */
export const BEHAVIOURAL_SIGNALS_TOPIC = 'ubi.behavioural_signals';
/** `high` and `critical` signals are also published here, for detection consumers. */
export const DETECTION_SIGNALS_TOPIC = 'ubi.behavioural_signals.detection';

/** Where the baseline a signal was scored against came from (cold start falls back to team, then default). */
export const baselineSourceSchema = z.enum(['personal', 'team', 'default']);
export const coldStartStateSchema = z.enum(['insufficient', 'warming', 'ready']);

/**
 * A behavioural signal as UBI stores and publishes it (CONTRACT.md "Signal", plus the fields that explain it). This
 * is the message on the bus; consumers validate it with this schema and dead-letter what does not parse.
 */
export const behaviouralSignalSchema = z.object({
  signal_id: idSchema,
  tenant_id: idSchema,
  actor_id: idSchema,
  actor_type: actorTypeSchema,
  team_id: idSchema.nullable().default(null),
  dimension: text(/^[a-z][a-z0-9_]*$/, 'must be lower_snake_case').min(1).max(64),
  signal_type: text(/^[a-z][a-z0-9_.-]*$/, 'must be lower_snake_case').min(1).max(64),
  severity: severitySchema,
  value: z.number().finite(),
  baseline: z.object({
    mean: z.number().finite(),
    spread: z.number().finite().min(0),
    samples: z.number().int().min(0),
    source: baselineSourceSchema,
  }),
  score: z.number().min(0).max(100),
  explanation: z.record(text(), z.unknown()),
  window_start: isoDateTimeSchema,
  window_end: isoDateTimeSchema,
  created_at: isoDateTimeSchema,
  config_version: z.number().int().min(0),
});
export type BehaviouralSignal = z.infer<typeof behaviouralSignalSchema>;
