import { z } from 'zod';
import { describeRule, openApiSecurity } from './authorization';
import type { RouteSpec } from './route';

const errorEnvelope = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  // OpenAPI 3.1 schemas are JSON Schema 2020-12, which can say what 3.0 cannot and the server checks: the names a
  // record's keys must have (propertyNames) and a nullable enum (anyOf with null).
  const { $schema: _drop, ...js } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    // A discriminated union's branches exclude each other (one value of the discriminator each): say so with oneOf.
    override: ({ zodSchema, jsonSchema: js }) => {
      const def = zodSchema._zod.def as { type: string; discriminator?: string };
      if (def.type === 'union' && def.discriminator && js.anyOf) {
        js.oneOf = js.anyOf;
        delete js.anyOf;
      }
    },
  });
  return js;
}

/** What every string and every body in the document is held to, beyond what each schema says. */
const DOCUMENT_RULES =
  'Every string field refuses NUL (U+0000, also stated as a pattern) and unpaired UTF-16 surrogates (x-text-rule). ' +
  'Every timestamp is RFC 3339 with seconds, years 2000-2100 and an offset within ±14:00 (a pattern), on a real calendar day. ' +
  'A request body larger than its x-max-body-bytes is refused with 413.';

/** OpenAPI 3.1 generated from the same route declarations (and zod schemas) the handlers validate with. */
export function buildOpenApi(routes: RouteSpec[], info: { title: string; version: string }, opts: { maxBodyBytes?: (path: string) => number } = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [location, schema] of [['path', r.params], ['query', r.query]] as const) {
      if (!schema) continue;
      const js = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {}))
        parameters.push({ name, in: location, required: location === 'path' || (js.required ?? []).includes(name), schema: s });
    }
    for (const h of r.headers ?? [])
      parameters.push({ name: h.name, in: 'header', required: false, description: h.description, schema: h.schema ? jsonSchema(h.schema, 'input') : { type: 'string' } });
    const success = { content: { [r.contentType ?? 'application/json']: { schema: r.contentType ? { type: 'string' } : jsonSchema(r.response, 'output') } } };
    const responses: Record<string, unknown> = {
      [String(r.status ?? 200)]: { description: 'OK', ...success },
      ...Object.fromEntries(Object.entries(r.alsoAnswers ?? {}).map(([status, description]) => [status, { description, ...success }])),
      default: { description: 'Error', content: { 'application/json': { schema: jsonSchema(errorEnvelope, 'output') } } },
    };
    paths[path] ??= {};
    paths[path][r.method] = {
      summary: r.summary,
      description: describeRule(r),
      tags: [r.tag],
      ...openApiSecurity(r),
      parameters,
      ...(r.body
        ? { requestBody: { required: true, 'x-max-body-bytes': opts.maxBodyBytes?.(r.path), content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } }
        : {}),
      responses,
    };
  }
  // Served outside the route table (they are not JSON resources), described here so the document is complete.
  paths['/metrics'] = {
    get: { summary: 'Prometheus metrics (text exposition format)', tags: ['ops'], security: [], responses: { 200: { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } } } },
  };
  paths['/v1/openapi.json'] = {
    get: { summary: 'This document', tags: ['ops'], security: [], responses: { 200: { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } } } },
  };
  return {
    openapi: '3.1.0',
    info: { ...info, description: DOCUMENT_RULES },
    'x-text-rule': 'no NUL (U+0000) and no unpaired UTF-16 surrogate in any string, nested payloads included',
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
