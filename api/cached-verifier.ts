import type { AuthContext, TokenVerifier } from './auth';

export interface CachedVerifierOptions {
  /** Tokens kept; the oldest is dropped beyond this. */
  maxEntries?: number;
  /** No answer is reused longer than this, even when the token lives longer. */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * Reuses the answer for a bearer token already verified, until the token's own `exp` (and at most `maxAgeMs`): a
 * surface sends the same token with every decide, and verifying it each time was about a twentieth of the API's CPU
 * per decision (ADR 0012). Only successes are kept, keyed by the whole token, so a changed or forged token is verified
 * afresh; a token past its `exp` is verified again, which refuses it.
 */
export function createCachedVerifier(inner: TokenVerifier, opts: CachedVerifierOptions = {}): TokenVerifier {
  const maxEntries = opts.maxEntries ?? 10_000;
  const maxAgeMs = opts.maxAgeMs ?? 60_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { auth: AuthContext; until: number }>();
  return {
    async verify(token) {
      const hit = cache.get(token);
      if (hit && hit.until > now()) return hit.auth;
      if (hit) cache.delete(token);
      const auth = await inner.verify(token);
      const exp = expiryMs(token);
      if (exp !== null) {
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
        cache.set(token, { auth, until: Math.min(exp, now() + maxAgeMs) });
      }
      return auth;
    },
  };
}

/** The `exp` claim of a JWT already verified (its payload is the second dot-separated part), in ms; null without one. */
function expiryMs(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}
