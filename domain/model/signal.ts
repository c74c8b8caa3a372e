import { z } from 'zod';
import { idSchema, isoDateTimeSchema, scalarSchema, severitySchema, text } from './common';

export const signalSourceSchema = z.enum(['ubi', 'detection', 'release', 'incident', 'test']);
export type SignalSource = z.infer<typeof signalSourceSchema>;

/** The normalised signal envelope every source is mapped to (FR-1). */
export const signalSchema = z.strictObject({
  signal_id: idSchema,
  source: signalSourceSchema,
  kind: text(/^[a-z][a-z0-9_.-]*$/, 'must be lower_snake_case').min(1).max(64),
  severity: severitySchema,
  occurred_at: isoDateTimeSchema,
  payload: z
    .record(text(/^[A-Za-z0-9_]+$/, 'payload keys are letters, digits and _').min(1).max(64), scalarSchema)
    .refine((p) => Object.keys(p).length <= 32, 'at most 32 payload keys')
    .meta({ maxProperties: 32 })
    .default({}),
});
export type Signal = z.infer<typeof signalSchema>;

/** A behavioural signal as context assembly keeps it (data minimisation, NFR-3): the rest of the UBI signal is dropped. */
export const recentSignalSchema = z.object({
  signal_id: text(),
  dimension: text(),
  signal_type: text(),
  severity: text(),
  score: z.number(),
  created_at: text(),
});
export type RecentSignal = z.infer<typeof recentSignalSchema>;
