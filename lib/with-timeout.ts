/**
 * Settles like `promise`, or rejects with `onTimeout()` after `ms`; the timer is always cleared. The one place that
 * bounds a wait (dependency budgets, readiness checks, how long a caller waits for a decision).
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error = () => new Error(`timed out after ${ms} ms`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
