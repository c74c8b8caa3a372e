import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { AppError, ValidationError } from '../domain/errors';
import type { AuthContext } from './auth';
import { authorizeRoute, loadAuthorizedResource, type AuthRule, type RouteResource } from './authorization';
import { fieldsFromZod } from './error-handler';
import { nameServerSpan } from '../observability/trace-context';

type Method = 'get' | 'post' | 'put' | 'delete';

export interface HandlerContext<P, Q, B, R = unknown> {
  params: P;
  query: Q;
  body: B;
  auth: AuthContext;
  /** The route's `resource`, loaded (and its owner checked) before the handler runs. */
  resource: R;
  req: Request;
  res: Response;
}

export interface HandlerResult {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
  /** A non-JSON answer (Prometheus text): sent as is with this content type instead of `body` as JSON. */
  text?: { contentType: string; content: string };
}

/**
 * One declaration per route: the zod schemas it validates with are also what the OpenAPI document is generated from,
 * so the two cannot drift. `auth` says who may call (api/authorization.ts enforces it before the handler runs and
 * the OpenAPI document shows it); every route that is not public must declare it.
 */
export interface RouteSpec<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType, R = any> {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  public?: boolean;
  auth?: AuthRule;
  resource?: RouteResource<R, z.infer<P>, z.infer<Q>, z.infer<B>>;
  params?: P;
  query?: Q;
  body?: B;
  /** Request headers the handler reads; `schema` is what it accepts, shown in the OpenAPI document. */
  headers?: Array<{ name: string; description: string; schema?: z.ZodType }>;
  response: z.ZodType;
  status?: number;
  /** The success answer's media type when it is not JSON (the handler then answers with `text`). */
  contentType?: string;
  /** Other statuses the handler answers with the same `response` schema (e.g. 503 from readiness), by description. */
  alsoAnswers?: Record<number, string>;
  handler: (ctx: HandlerContext<z.infer<P>, z.infer<Q>, z.infer<B>, R>) => Promise<HandlerResult>;
}

export function defineRoute<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R = undefined>(spec: RouteSpec<P, Q, B, R>): RouteSpec {
  return spec as unknown as RouteSpec;
}

function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, part: 'path' | 'query' | 'body'): T {
  if (!schema) return value as T;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const status = part === 'body' ? 422 : 400;
    throw new ValidationError(`the request ${part} is not valid`, fieldsFromZod(parsed.error, part === 'body' ? undefined : part), status);
  }
  return parsed.data;
}

export function mountRoutes(router: Router, routes: RouteSpec[], authMiddleware: (req: Request, res: Response, next: (err?: unknown) => void) => void): void {
  for (const route of routes) {
    const handlers = [
      ...(route.public ? [] : [authMiddleware, authorizeRoute(route)]),
      async (req: Request, res: Response) => {
        res.locals.route = route.path;
        nameServerSpan(req.method, route.path);
        if (route.body && (req.body === undefined || !req.is('application/json')) && route.method !== 'get')
          throw new ValidationError('the request body must be JSON (Content-Type: application/json)', [{ field: '(body)', message: 'missing JSON body' }], 415);
        const parts = {
          params: parsePart(route.params, req.params, 'path'),
          query: parsePart(route.query, req.query, 'query'),
          body: parsePart(route.body, req.body, 'body'),
          auth: req.auth as AuthContext,
        };
        const result = await route.handler({ ...parts, resource: await loadAuthorizedResource(route, parts), req, res });
        for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, v);
        if (result.text) res.status(result.status ?? route.status ?? 200).type(result.text.contentType).send(result.text.content);
        else res.status(result.status ?? route.status ?? 200).json(result.body);
      },
    ];
    router[route.method](route.path, ...handlers);
  }
}

/**
 * A method a known path does not declare gets 405 with `Allow` naming the declared ones (and OPTIONS gets 204 with
 * the same header), in the error envelope, instead of falling through to 404. Mount after every route of the paths.
 */
export function answerUndeclaredMethods(router: Router, declared: Array<Pick<RouteSpec, 'method' | 'path'>>): void {
  const byPath = new Map<string, Set<string>>();
  for (const r of declared) {
    const methods = byPath.get(r.path) ?? byPath.set(r.path, new Set()).get(r.path)!;
    methods.add(r.method.toUpperCase());
    // Express answers HEAD with the GET handler.
    if (r.method === 'get') methods.add('HEAD');
  }
  for (const [path, methods] of byPath) {
    const allow = [...methods].join(', ');
    router.all(path, (req: Request, res: Response) => {
      res.locals.route = path;
      res.setHeader('Allow', allow);
      if (req.method === 'OPTIONS') return void res.status(204).end();
      throw new AppError(405, 'method_not_allowed', `${req.method} is not allowed on ${path}; allowed: ${allow}`, { allow: [...methods] });
    });
  }
}
