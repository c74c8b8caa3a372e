import { z } from 'zod';
import { actorTypeSchema, idSchema, isoDateTimeSchema, isTimestamp, text, textProblem, type ActorType } from './common';
import { classifyString, EVENT_TYPES, EVENT_TYPE_RULES, filterProperties, type DroppedProperty } from '../ubi/privacy';

/** CONTRACT.md: a batch holds up to 1000 events. */
export const MAX_EVENTS_PER_BATCH = 1000;
/** Events older than this are refused (retention never keeps them anyway); events from the future beyond the skew too. */
export const MAX_EVENT_AGE_DAYS = 400;
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The event as documented in OpenAPI. The handler does not parse events with it: each event is checked on its own by
 * validateEvent() below, plain code that does the shape checks and the privacy classification in one pass (100,000
 * events in ~0.15 s on this machine, about what this zod schema alone takes without any privacy check).
 */
export const ubiEventSchema = z.object({
  event_id: idSchema,
  tenant_id: idSchema,
  actor_id: idSchema,
  actor_type: actorTypeSchema,
  event_type: z.enum(EVENT_TYPES as [string, ...string[]]),
  occurred_at: isoDateTimeSchema,
  source: idSchema,
  team_id: idSchema.optional(),
  repo_id: idSchema.optional(),
  properties: z.record(text(), z.union([text().max(64), z.number(), z.boolean()])).optional(),
});

export const ingestBodySchema = z.object({
  events: z
    // Items are any JSON on purpose: each event is validated on its own and a bad one is listed in `rejected` of the
    // 202, not refused with its batch. The event's shape is documented beside it, under x-event-schema.
    .array(
      z.unknown().meta({
        description: 'One event, validated on its own (x-event-schema): an invalid one is listed in `rejected` and the rest are stored',
        'x-event-schema': (({ $schema: _s, ...rest }) => rest)(z.toJSONSchema(ubiEventSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>),
      }),
    )
    .min(1)
    .max(MAX_EVENTS_PER_BATCH),
});

export const ingestResponseSchema = z.object({
  accepted: z.number().int().describe('events stored now or already stored before (a repeated event_id counts once)'),
  duplicates: z.number().int().describe('accepted events whose (tenant_id, event_id) was already stored'),
  rejected: z.array(z.object({ index: z.number().int(), reason: text(), field: text().optional() })),
  dropped: z.array(z.object({ index: z.number().int(), fields: z.array(z.object({ field: text(), reason: text() })) }))
    .describe('properties removed by the privacy filter from events that were accepted'),
});

/** A validated, privacy-filtered event, ready to store. */
export interface UbiEvent {
  event_id: string;
  tenant_id: string;
  actor_id: string;
  actor_type: ActorType;
  event_type: string;
  occurred_at: Date;
  source: string;
  team_id: string | null;
  repo_id: string | null;
  properties: Record<string, string | number>;
}

export type EventVerdict =
  | { ok: true; event: UbiEvent; dropped: DroppedProperty[] }
  | { ok: false; reason: string; field: string };

const ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const ALLOWED_KEYS = new Set(['event_id', 'tenant_id', 'actor_id', 'actor_type', 'event_type', 'occurred_at', 'source', 'team_id', 'repo_id', 'properties']);

/**
 * A caller's key named back in a rejection, cut short; one the text rule refuses (NUL, a lone surrogate) is named by
 * its position instead, so nothing of it is echoed.
 */
function echoedKey(key: string, index: number, parent: string): string {
  return textProblem(key) ? `${parent}[${index}]` : `${parent ? `${parent}.` : ''}${key.slice(0, 64)}`;
}

/** Identifiers go into the store as they are, so one that is an e-mail address or a token is refused, not filtered. */
function checkId(value: unknown, field: string, required: boolean): { reason: string; field: string } | null {
  if (value === undefined || value === null) return required ? { reason: 'missing', field } : null;
  if (typeof value !== 'string' || !ID.test(value)) return { reason: 'invalid_id', field };
  const finding = classifyString(value);
  if (finding === 'email_address' || finding === 'secret_or_token') return { reason: finding, field };
  return null;
}

/**
 * Validates and privacy-filters one raw event for the caller's tenant. `nowMs` comes from the caller (domain code has
 * no clock). Unknown top-level keys reject the event: a client sending fields we do not know is likely sending more
 * than it should.
 */
export function validateEvent(raw: unknown, tenantId: string, nowMs: number): EventVerdict {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: 'not_an_object', field: '(event)' };
  const e = raw as Record<string, unknown>;
  for (const [i, key] of Object.keys(e).entries()) if (!ALLOWED_KEYS.has(key)) return { ok: false, reason: 'unknown_field', field: echoedKey(key, i, '') };
  for (const [field, required] of [['event_id', true], ['tenant_id', true], ['actor_id', true], ['source', true], ['team_id', false], ['repo_id', false]] as const) {
    const bad = checkId(e[field], field, required);
    if (bad) return { ok: false, ...bad };
  }
  if (e.tenant_id !== tenantId) return { ok: false, reason: 'forbidden_tenant', field: 'tenant_id' };
  if (e.actor_type !== 'human' && e.actor_type !== 'ai_agent') return { ok: false, reason: 'invalid_actor_type', field: 'actor_type' };
  if (typeof e.event_type !== 'string' || !EVENT_TYPE_RULES[e.event_type]) return { ok: false, reason: 'unknown_event_type', field: 'event_type' };
  if (typeof e.occurred_at !== 'string' || !isTimestamp(e.occurred_at)) return { ok: false, reason: 'invalid_timestamp', field: 'occurred_at' };
  const occurred = Date.parse(e.occurred_at);
  if (Number.isNaN(occurred)) return { ok: false, reason: 'invalid_timestamp', field: 'occurred_at' };
  if (occurred > nowMs + MAX_CLOCK_SKEW_MS) return { ok: false, reason: 'in_the_future', field: 'occurred_at' };
  if (occurred < nowMs - MAX_EVENT_AGE_DAYS * 86_400_000) return { ok: false, reason: 'too_old', field: 'occurred_at' };
  let props: Record<string, unknown> = {};
  if (e.properties !== undefined && e.properties !== null) {
    if (typeof e.properties !== 'object' || Array.isArray(e.properties)) return { ok: false, reason: 'invalid_properties', field: 'properties' };
    props = e.properties as Record<string, unknown>;
    if (Object.keys(props).length > 32) return { ok: false, reason: 'too_many_properties', field: 'properties' };
    // Properties are stored as jsonb: the shared text rule keeps NUL and lone surrogates out of keys and values.
    for (const [i, [key, value]] of Object.entries(props).entries())
      if (textProblem(key) || (typeof value === 'string' && textProblem(value))) return { ok: false, reason: 'invalid_text', field: echoedKey(key, i, 'properties') };
  }
  const { kept, dropped, missing } = filterProperties(e.event_type, props);
  if (missing) {
    const why = dropped.find((d) => d.field === `properties.${missing}`);
    return { ok: false, reason: why ? `required_property_dropped: ${why.reason}` : 'missing_required_property', field: `properties.${missing}` };
  }
  return {
    ok: true,
    dropped,
    event: {
      event_id: e.event_id as string,
      tenant_id: tenantId,
      actor_id: e.actor_id as string,
      actor_type: e.actor_type,
      event_type: e.event_type,
      occurred_at: new Date(occurred),
      source: e.source as string,
      team_id: (e.team_id as string | undefined) ?? null,
      repo_id: (e.repo_id as string | undefined) ?? null,
      properties: kept,
    },
  };
}

/** The bus topic UBI also ingests from: one event per message as in `POST /v1/ubi/events`, keyed by tenant id. */
export const UBI_EVENTS_TOPIC = 'ubi.events';
