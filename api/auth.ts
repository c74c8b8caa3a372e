import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { IamClient } from '../lib/clients/iam-client';
import { ServiceCallError } from '../lib/clients/service-client';
import { AppError, UnauthorizedError } from '../domain/errors';
import { createTtlCache } from '../lib/ttl-cache';

export const ROLES = ['mmm_admin', 'tenant_admin', 'approver', 'service'] as const;
export type Role = (typeof ROLES)[number];

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

/** Verifies a bearer token to the caller's identity: HS256 locally (embedded default), or the IAM service. */
export interface TokenVerifier {
  verify(token: string): Promise<AuthContext>;
  /** When present (IAM), asked after verification whether the caller may make this request; throws when not. */
  authorize?(auth: AuthContext, request: { action: string; resource: string }): Promise<void>;
}

/** IAM could not answer: requests fail closed, with a code that says so (never verified locally instead). */
export function iamUnavailable(cause: unknown): AppError {
  return new AppError(503, 'iam_unavailable', 'the identity service (IAM) cannot verify this request right now; retry later', { dependency: 'iam' }, { cause });
}

/**
 * Tokens and authorisation through the IAM service (`IAM_BASE_URL`). Answers, allow and deny alike, are cached for
 * `cacheTtlMs` under a hash of the token (never the token itself) and never past the token's `exp` when it has one.
 * IAM down, slow or its breaker open: 503 `iam_unavailable`. IAM refusing the token: 401 `invalid_token`.
 */
export function createIamVerifier(deps: { iam: Pick<IamClient, 'verify' | 'decide'>; cacheTtlMs: number; now?: () => number }): TokenVerifier {
  const now = deps.now ?? Date.now;
  const verified = createTtlCache<{ auth: AuthContext | null; expiresAt: number }>({ ttlMs: deps.cacheTtlMs, now });
  const decisions = createTtlCache<'allow' | 'deny'>({ ttlMs: deps.cacheTtlMs, now });
  const failClosed = (err: unknown): never => {
    // IAM answering 4xx to our verify call means it does not accept this token; anything else means IAM is not there.
    if (err instanceof ServiceCallError && err.isRefusal) throw new UnauthorizedError('invalid_token', 'the bearer token is not valid');
    throw iamUnavailable(err);
  };
  return {
    async verify(token) {
      const key = crypto.createHash('sha256').update(token).digest('base64url');
      const answer = await verified
        .get(key, async () => {
          const r = await deps.iam.verify(token);
          if (!r.valid || !r.claims) return { auth: null, expiresAt: Infinity };
          const exp = expiryOf(token);
          return { auth: { sub: r.claims.sub, tenant_id: r.claims.tenant_id, roles: r.claims.roles }, expiresAt: exp ?? Infinity };
        })
        .catch(failClosed);
      if (!answer.auth) throw new UnauthorizedError('invalid_token', 'the bearer token is not valid');
      if (answer.expiresAt <= now()) throw new UnauthorizedError('expired_token', 'the bearer token has expired');
      return answer.auth;
    },
    async authorize(auth, request) {
      const key = `${auth.tenant_id}\u0000${auth.sub}\u0000${request.action}\u0000${request.resource}`;
      const decision = await decisions
        .get(key, () => deps.iam.decide({ subject: auth.sub, action: request.action, resource: request.resource, tenant_id: auth.tenant_id }))
        .catch((err) => {
          throw iamUnavailable(err);
        });
      if (decision !== 'allow') throw new AppError(403, 'iam_denied', 'IAM does not allow this request', { action: request.action });
    },
  };
}

/** The `exp` of a JWT-shaped token, read without verifying (IAM verified it); undefined for opaque tokens. */
function expiryOf(token: string): number | undefined {
  const decoded = jwt.decode(token);
  return decoded && typeof decoded === 'object' && typeof decoded.exp === 'number' ? decoded.exp * 1000 : undefined;
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
      // The route template (e.g. "POST /v1/mmm/decide"), not the concrete path, is the action IAM decides on.
      if (verifier.authorize) await verifier.authorize(req.auth, { action: `${req.method} ${req.route?.path ?? req.path}`, resource: req.originalUrl.split('?')[0] });
      next();
    } catch (err) {
      next(err);
    }
  };
}
