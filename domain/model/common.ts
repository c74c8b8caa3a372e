import { z } from 'zod';
import { SEVERITY_VALUES, SURFACE_VALUES } from './constants';

export { SEVERITY_RANK } from './constants';

/**
 * The one rule for text (every string a request may carry, down to the values nested in jsonb payloads): PostgreSQL
 * refuses U+0000 in text and jsonb, and an unpaired UTF-16 surrogate cannot be written as UTF-8, so both are refused
 * at the edge with a 4xx naming the field instead of failing in the database as a 500. The NUL rule is a `pattern`
 * in the OpenAPI document; JSON Schema cannot name a lone surrogate, so the document says it in words (api/openapi.ts).
 */
// eslint-disable-next-line no-control-regex -- matching the control character NUL is the point of this rule
export const TEXT_PATTERN = /^[^\u0000]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `s` breaks the text rule, or null; plain code for validators that do not use zod (ubi-event.ts). */
export function textProblem(s: string): string | null {
  if (!TEXT_PATTERN.test(s)) return 'must not contain NUL (U+0000)';
  if (LONE_SURROGATE.test(s)) return 'must not contain an unpaired UTF-16 surrogate';
  return null;
}

/**
 * A string under the text rule; chain `.min()` and `.max()` as on `z.string()`. A field with a stricter alphabet
 * passes its own `pattern` (which must exclude NUL, as every character class here does): one pattern per field keeps
 * the document simple for generators, which cannot intersect two patterns and would filter most of what they draw.
 */
export function text(pattern?: RegExp, message?: string) {
  return z
    .string()
    // `abort`: a string that breaks the pattern gets that one message, not a second one from the checks after it.
    .regex(pattern ?? TEXT_PATTERN, { message: pattern ? message : 'must not contain NUL (U+0000)', abort: true })
    .superRefine((s, ctx) => {
      const problem = pattern ? textProblem(s) : LONE_SURROGATE.test(s) ? 'must not contain an unpaired UTF-16 surrogate' : null;
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/**
 * The one rule for timestamps: RFC 3339 `date-time` (seconds required, `T` and `Z` upper case, an offset or `Z`),
 * a real calendar day, years 2000-2100 and offsets within ±14:00, the range real clocks use. PostgreSQL refuses
 * offsets past ±15:59, and years far from now are typing mistakes that would only make empty or absurd answers.
 * The `pattern` carries all of this except the calendar check (no 30 February) into the OpenAPI document.
 */
export const TIMESTAMP_MIN_YEAR = 2000;
export const TIMESTAMP_MAX_YEAR = 2100;
export const TIMESTAMP_PATTERN =
  /^(20\d\d|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)$/;
const TIMESTAMP_MESSAGE = `must be an RFC 3339 date-time such as 2025-01-31T09:30:00Z, years ${TIMESTAMP_MIN_YEAR}-${TIMESTAMP_MAX_YEAR}, offset within ±14:00`;

/** Whether `s` is a timestamp by the rule above; plain code for validators that do not use zod (ubi-event.ts). */
export function isTimestamp(s: string): boolean {
  const m = TIMESTAMP_PATTERN.exec(s);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Date.UTC rolls 2021-02-30 over into March; a day that does not come back unchanged does not exist.
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

export const timestampSchema = z
  .string()
  .regex(TIMESTAMP_PATTERN, { message: TIMESTAMP_MESSAGE, abort: true })
  .refine(isTimestamp, 'must be a day that exists in the calendar')
  .meta({ format: 'date-time' });

/** Kept as the name the schemas already use. */
export const isoDateTimeSchema = timestampSchema;

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
export const scalarSchema = z.union([text().max(512), z.number().finite(), z.boolean(), z.null()], {
  error: 'must be a single value: a string of at most 512 characters, a number, a boolean or null',
});
export type Scalar = z.infer<typeof scalarSchema>;

/**
 * Current IANA spellings of zones the ICU in Node still lists under their old names (Asia/Calcutta, Europe/Kiev...),
 * and the UTC names, which Intl.supportedValuesOf leaves out. Each is kept only if this runtime accepts it.
 */
const TIME_ZONE_ALIASES = [
  'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Ho_Chi_Minh', 'Asia/Yangon', 'Europe/Kyiv',
  'America/Nuuk', 'Pacific/Kanton', 'Atlantic/Faroe', 'Pacific/Chuuk', 'Pacific/Pohnpei', 'America/Argentina/Buenos_Aires',
  'America/Indiana/Indianapolis', 'America/Kentucky/Louisville',
];

function acceptedByIntl(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The zone names a timezone field takes: the runtime's ICU list plus the aliases above (read once, at start). */
export const TIME_ZONES: [string, ...string[]] = [...new Set([...Intl.supportedValuesOf('timeZone'), ...TIME_ZONE_ALIASES.filter(acceptedByIntl)])].sort() as [string, ...string[]];

/** IANA time zone: an `enum` in the OpenAPI document, so the document names exactly the zones the server accepts. */
export const timeZoneSchema = z.enum(TIME_ZONES, { error: 'must be an IANA time zone such as Europe/Berlin' });

export const hhmmSchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)');
