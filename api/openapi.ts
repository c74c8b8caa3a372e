import { z } from 'zod';
import { describeRule, openApiSecurity } from './authorization';
import type { RouteSpec } from './route';

const errorEnvelope = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

function jsonSchema(schema: z.ZodType, io: 'input' | 'output') {
  return z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' });
}

/** OpenAPI 3.0 generated from the same route declarations (and zod schemas) the handlers validate with. */
export function buildOpenApi(routes: RouteSpec[], info: { title: string; version: string }) {
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
    for (const h of r.headers ?? []) parameters.push({ name: h.name, in: 'header', required: false, description: h.description, schema: { type: 'string' } });
    const responses: Record<string, unknown> = {
      [String(r.status ?? 200)]: { description: 'OK', content: { 'application/json': { schema: jsonSchema(r.response, 'output') } } },
      default: { description: 'Error', content: { 'application/json': { schema: jsonSchema(errorEnvelope, 'output') } } },
    };
    paths[path] ??= {};
    paths[path][r.method] = {
      summary: r.summary,
      description: describeRule(r),
      tags: [r.tag],
      ...openApiSecurity(r),
      parameters,
      ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } } : {}),
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
    openapi: '3.0.3',
    info,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
