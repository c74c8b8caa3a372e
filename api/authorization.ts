import type { NextFunction, Request, Response } from 'express';
import { ForbiddenError } from '../domain/errors';
import { idSchema } from '../domain/model/common';
import type { AuthContext, Role } from './auth';

/** The admin roles: they may do everything an admin route allows, in their own tenant only. */
export const ADMINS = ['mmm_admin', 'tenant_admin'] as const satisfies readonly Role[];

/**
 * Where a request names the tenant it addresses. `token`: it names none, and everything is read and written under the
 * token's tenant (a tenant-owned id of another tenant is then refused by its repository, 403 or 404).
 */
export type TenantSource = 'token' | 'path' | 'query' | 'body';

/**
 * Where a request names the actor whose data it is, for the "the actor themself" part of a rule: `actor_id` in the
 * path, the query or the body, or the owner of the route's `resource` (loaded once, before the handler).
 */
export type SelfSource = 'path' | 'query' | 'body' | 'resource';

/**
 * Who may call a route, declared once in its spec and enforced before its handler runs (`authorizeRoute`,
 * `loadAuthorizedResource`). A caller passes when the token's tenant is the one the request addresses, and it holds
 * one of `roles` (`any`: every token of the tenant), or `self` is declared and the caller is that actor.
 */
export interface AuthRule {
  roles: readonly Role[] | 'any';
  tenant: TenantSource;
  self?: SelfSource;
  /** Rules that stay with the use case because they depend on the resource's state; documented, not enforced here. */
  also?: string;
}

/** A route's resource: loaded from the parsed request before the handler (which receives it), and who owns it. */
export interface RouteResource<R, P = any, Q = any, B = any> {
  load(ctx: { params: P; query: Q; body: B; auth: AuthContext }): Promise<R>;
  /** The actor the resource belongs to (null: no actor owns it, so only the roles may use it). */
  owner?(resource: NoInfer<R>): string | null;
}

/** What authorisation needs of a route spec (route.ts's RouteSpec has these). */
export interface AuthorizedRoute {
  method: string;
  path: string;
  public?: boolean;
  auth?: AuthRule;
  resource?: RouteResource<unknown>;
}

function hasAnyRole(auth: AuthContext, roles: readonly string[]): boolean {
  return auth.roles.some((r) => roles.includes(r));
}

/** The value the request gives at `source` for `key`, or undefined when it gives no string there. */
function named(req: Request, source: 'path' | 'query' | 'body', key: string): string | undefined {
  const from = source === 'path' ? req.params : source === 'query' ? req.query : req.body;
  const value = from && typeof from === 'object' ? (from as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The rule of a route, checked when the app is built: a protected route with no rule, or a rule it cannot apply, fails fast. */
export function ruleOf(route: AuthorizedRoute): AuthRule {
  const where = `${route.method.toUpperCase()} ${route.path}`;
  if (!route.auth) throw new Error(`${where} declares no authorisation rule (auth) and is not public`);
  if (route.auth.self === 'resource' && !route.resource?.owner) throw new Error(`${where}: self: 'resource' needs a resource with an owner`);
  if (route.auth.self === 'path' && !route.path.includes(':actor_id')) throw new Error(`${where}: self: 'path' needs an :actor_id path parameter`);
  if (route.auth.tenant === 'path' && !route.path.includes(':tenant_id')) throw new Error(`${where}: tenant: 'path' needs a :tenant_id path parameter`);
  return route.auth;
}

/**
 * The part of the rule that the request itself decides, checked on the raw request before it is validated, so a
 * caller who may not use a route learns nothing about its schema. Values are compared exactly; a value that is not a
 * valid id does not name a tenant (validation then refuses it: every declared tenant_id is an id, required in path and
 * body) and a value that is not a string does not name the caller.
 */
export function checkRequest(rule: AuthRule, auth: AuthContext, req: Request): void {
  if (rule.tenant !== 'token') {
    const tenant = named(req, rule.tenant, 'tenant_id');
    // An invalid id names no tenant either: validation answers it (400/422 naming the field), as for any caller.
    if (tenant !== undefined && idSchema.safeParse(tenant).success && tenant !== auth.tenant_id) throw new ForbiddenError('forbidden_tenant', 'the token is for another tenant', { tenant_id: tenant });
  }
  if (rule.roles === 'any' || hasAnyRole(auth, rule.roles)) return;
  if (!rule.self) throw new ForbiddenError('forbidden_role', `this needs one of the roles: ${rule.roles.join(', ')}`, { required_roles: rule.roles });
  if (rule.self === 'resource') return; // decided once the resource is loaded (checkOwner)
  const actorId = named(req, rule.self, 'actor_id');
  if (actorId !== auth.sub) throw forbiddenActor(rule, actorId);
}

/** The part of a `self: 'resource'` rule that needs the resource: a caller without the roles must own it. */
export function checkOwner(rule: AuthRule, auth: AuthContext, owner: string | null): void {
  if (rule.self !== 'resource' || rule.roles === 'any' || hasAnyRole(auth, rule.roles)) return;
  if (owner === null || owner !== auth.sub) throw forbiddenActor(rule);
}

function forbiddenActor(rule: AuthRule, actorId?: string): ForbiddenError {
  const roles = rule.roles === 'any' ? [] : rule.roles;
  return new ForbiddenError('forbidden_actor', `only the actor themself${roles.length ? ` or one of ${roles.join(', ')}` : ''} may do this`, {
    ...(actorId !== undefined ? { actor_id: actorId } : {}),
    required_roles: roles,
  });
}

/** Express middleware for a protected route, after authentication: the request part of its declared rule. */
export function authorizeRoute(route: AuthorizedRoute) {
  const rule = ruleOf(route);
  return (req: Request, _res: Response, next: NextFunction) => {
    try {
      checkRequest(rule, req.auth as AuthContext, req);
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** Loads the route's resource (when it declares one) from the parsed request and applies the owner part of its rule. */
export async function loadAuthorizedResource(route: AuthorizedRoute, ctx: { params: unknown; query: unknown; body: unknown; auth: AuthContext }): Promise<unknown> {
  if (!route.resource) return undefined;
  const resource = await route.resource.load(ctx);
  if (!route.public && route.auth?.self === 'resource') checkOwner(route.auth, ctx.auth, route.resource.owner?.(resource) ?? null);
  return resource;
}

const SELF_WHERE: Record<SelfSource, string> = {
  path: 'the `actor_id` in the path',
  query: 'the `actor_id` query parameter',
  body: 'the `actor_id` in the body',
  resource: 'the actor the resource belongs to',
};
const TENANT_WHERE: Record<TenantSource, string> = {
  token: "the token's tenant",
  path: 'the `tenant_id` in the path, which must be the token\'s tenant',
  query: 'the `tenant_id` query parameter when given, which must be the token\'s tenant',
  body: 'the `tenant_id` in the body, which must be the token\'s tenant',
};

/** One sentence saying who may call the route, for its OpenAPI description. */
export function describeRule(route: AuthorizedRoute): string {
  if (route.public) return 'Who: anyone (no token).';
  const rule = ruleOf(route);
  const roles = rule.roles === 'any' ? ['any token of the tenant'] : rule.roles.map((r) => `\`${r}\``);
  const who = rule.self ? [...roles, `the actor themself (${SELF_WHERE[rule.self]})`] : roles;
  const list = who.length > 1 ? `${who.slice(0, -1).join(', ')} or ${who[who.length - 1]}` : who[0] ?? 'nobody';
  return `Who: ${list}. Tenant: ${TENANT_WHERE[rule.tenant]}. Anyone else: 403.${rule.also ? ` Also: ${rule.also}.` : ''}`;
}

/** The OpenAPI fields of an operation: its bearer security (none for public routes) and the rule as `x-` extensions. */
export function openApiSecurity(route: AuthorizedRoute): Record<string, unknown> {
  if (route.public) return { security: [] };
  const rule = ruleOf(route);
  return {
    security: [{ bearer: [] }],
    'x-required-roles': rule.roles === 'any' ? [] : [...rule.roles],
    ...(rule.roles === 'any' ? { 'x-any-tenant-token': true } : {}),
    ...(rule.self ? { 'x-self': rule.self } : {}),
    'x-tenant': rule.tenant,
  };
}
