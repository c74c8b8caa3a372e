import { withTimeout } from '../lib/with-timeout';
import type { Metrics } from '../observability/metrics';

export interface DependencyCheck {
  name: string;
  /** A required dependency that is down makes `ready` answer 503. */
  required: boolean;
  /** What is serving, e.g. "redis" or "memory (single node only)". */
  mode?: string;
  check(): Promise<void>;
}

export interface DependencyState {
  name: string;
  status: 'up' | 'down';
  required: boolean;
  mode?: string;
  latency_ms: number;
  error?: string;
}

const CHECK_TIMEOUT_MS = 1500;

export async function checkDependencies(checks: DependencyCheck[], metrics?: Metrics): Promise<{ ready: boolean; dependencies: DependencyState[] }> {
  const dependencies = await Promise.all(
    checks.map(async (c): Promise<DependencyState> => {
      const started = Date.now();
      try {
        await withTimeout(c.check(), CHECK_TIMEOUT_MS, () => new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`));
        metrics?.dependencyUp.set({ dependency: c.name }, 1);
        return { name: c.name, status: 'up', required: c.required, mode: c.mode, latency_ms: Date.now() - started };
      } catch (err) {
        metrics?.dependencyUp.set({ dependency: c.name }, 0);
        return {
          name: c.name, status: 'down', required: c.required, mode: c.mode, latency_ms: Date.now() - started,
          error: err instanceof Error ? err.message : String(err),
        };
      }
    }),
  );
  return { ready: dependencies.every((d) => d.status === 'up' || !d.required), dependencies };
}
