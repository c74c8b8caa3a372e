import { z } from 'zod';
import { SEVERITY_VALUES, SURFACE_VALUES } from './constants';

export { SEVERITY_RANK } from './constants';

/** Identifiers travel in URLs, Redis keys and Temporal workflow ids, so they are kept to a safe alphabet. */
export const idSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'must be 1-128 characters of letters, digits and . _ : @ -');

export const actorTypeSchema = z.enum(['human', 'ai_agent']);
export type ActorType = z.infer<typeof actorTypeSchema>;

export const surfaceSchema = z.enum(SURFACE_VALUES);
export type Surface = z.infer<typeof surfaceSchema>;

export const severitySchema = z.enum(SEVERITY_VALUES);
export type Severity = z.infer<typeof severitySchema>;

export const actionTypeSchema = z.enum(['mirror', 'mentor', 'multiplier']);
export type ActionType = z.infer<typeof actionTypeSchema>;

/** Small scalar values only: payloads never carry nested documents, code or free text blobs. */
export const scalarSchema = z.union([z.string().max(512), z.number().finite(), z.boolean(), z.null()]);
export type Scalar = z.infer<typeof scalarSchema>;

export const isoDateTimeSchema = z.iso.datetime({ offset: true });

/** IANA time zone, checked against the runtime's time zone database. */
export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/Berlin');

export const hhmmSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)');
