import { DatabaseError } from 'sequelize';
import { sleep } from '../lib/sleep';

/** SQLSTATEs PostgreSQL raises when it aborted a transaction so that another could go on: running it again is right. */
const TRANSIENT_SQLSTATES = new Set(['40P01', '40001']);

/** A deadlock (40P01) or serialization failure (40001): nothing was committed, and the same transaction may succeed. */
export function isTransientDatabaseError(err: unknown): boolean {
  const code = err instanceof DatabaseError ? (err.parent as { code?: string } | undefined)?.code : (err as { code?: string } | null)?.code;
  return typeof code === 'string' && TRANSIENT_SQLSTATES.has(code);
}

/**
 * Runs a whole transaction again when PostgreSQL chose it as a deadlock's victim. A transaction that locks rows of
 * several tables (an erasure) can meet another that locks the same rows in another order (a baseline recompute, a
 * feature batch); PostgreSQL breaks the cycle by aborting one, which then must start over rather than fail the request.
 */
export async function retryTransient<T>(run: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= attempts || !isTransientDatabaseError(err)) throw err;
      // Apart, with jitter, so the two sides of the cycle do not meet again in step.
      await sleep(25 * attempt + Math.random() * 25);
    }
  }
}
