import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { ForbiddenError, UnauthorizedError } from '../domain/errors';

export const ROLES = ['mmm_admin', 'tenant_admin', 'approver', 'service'] as const;
export type Role = (typeof ROLES)[number];
export const ADMIN_ROLES: Role[] = ['mmm_admin', 'tenant_admin'];

export interface AuthContext {
  sub: string;
  tenant_id: string;
  roles: string[];
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(128),
  tenant_id: z.string().min(1).max(128),
  roles: z.array(z.string().max(64)).max(32).default([]),
  exp: z.number(),
});

/** Verifies a bearer token to the caller's identity. The embedded default is HS256; IAM verification comes later. */
export interface TokenVerifier {
  verify(token: string): Promise<AuthContext>;
}

export function createHs256Verifier(secret: string): TokenVerifier {
  // A KeyObject made once: given a string, jsonwebtoken rebuilds a key object on every request.
  const key = crypto.createSecretKey(Buffer.from(secret, 'utf8'));
  return {
    async verify(token) {
      let decoded: unknown;
      try {
        // The algorithm is pinned: a token that names another (or none) is refused.
        decoded = jwt.verify(token, key, { algorithms: ['HS256'] });
      } catch (err) {
        if (err instanceof jwt.TokenExpiredError) throw new UnauthorizedError('expired_token', 'the bearer token has expired');
        throw new UnauthorizedError('invalid_token', 'the bearer token is not valid');
      }
      const claims = claimsSchema.safeParse(decoded);
      if (!claims.success) throw new UnauthorizedError('invalid_token', 'the bearer token lacks sub, tenant_id, roles or exp');
      return { sub: claims.data.sub, tenant_id: claims.data.tenant_id, roles: claims.data.roles };
    },
  };
}

export function signDevToken(secret: string, claims: { sub: string; tenant_id: string; roles: string[] }, ttlSeconds = 3600): string {
  return jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn: ttlSeconds });
}

declare module 'express-serve-static-core' {
  interface Request {
    auth?: AuthContext;
  }
}

export function authenticate(verifier: TokenVerifier) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (!header) return next(new UnauthorizedError('missing_token', 'an Authorization: Bearer token is required'));
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return next(new UnauthorizedError('invalid_token', 'the Authorization header must be "Bearer <token>"'));
    try {
      req.auth = await verifier.verify(match[1]);
      next();
    } catch (err) {
      next(err);
    }
  };
}

export function hasAnyRole(auth: AuthContext, roles: readonly string[]): boolean {
  return auth.roles.some((r) => roles.includes(r));
}

export function requireRole(auth: AuthContext, roles: readonly string[]): void {
  if (!hasAnyRole(auth, roles))
    throw new ForbiddenError('forbidden_role', `this needs one of the roles: ${roles.join(', ')}`, { required_roles: roles });
}

/** A token for tenant A never reads or changes tenant B. */
export function requireTenant(auth: AuthContext, tenantId: string): void {
  if (auth.tenant_id !== tenantId)
    throw new ForbiddenError('forbidden_tenant', 'the token is for another tenant', { tenant_id: tenantId });
}

/** The actor themself, or someone holding one of `roles`. */
export function requireSelfOr(auth: AuthContext, actorId: string, roles: readonly string[]): void {
  if (auth.sub !== actorId && !hasAnyRole(auth, roles))
    throw new ForbiddenError('forbidden_actor', `only the actor or one of ${roles.join(', ')} may do this`, { actor_id: actorId });
}
