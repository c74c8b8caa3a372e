import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../observability/logger';

const LEVELS: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR' };

/**
 * Routes the Temporal SDK's own logs (worker state, core) into our structured JSON log, at warn by default so a
 * healthy run stays quiet, and, when an address is given, serves the SDK's runtime metrics (task slots, poll and
 * schedule-to-start latencies, sticky cache) on their own Prometheus endpoint, apart from the service's metrics.
 * The SDK allows one Runtime per process, so a second call is a no-op.
 */
export function installSdkLogging(logger: Logger, opts: { level?: string; metricsBindAddress?: string } = {}): void {
  if (Runtime._instance) return;
  const level = opts.level ?? 'warn';
  const sdkLevel = LEVELS[level] ?? 'WARN';
  const sdk = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    ...(opts.metricsBindAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: opts.metricsBindAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } }
      : {}),
    logger: new DefaultLogger(sdkLevel, (entry) => {
      const method = entry.level === 'TRACE' ? 'trace' : entry.level === 'DEBUG' ? 'debug' : entry.level === 'INFO' ? 'info' : entry.level === 'WARN' ? 'warn' : 'error';
      sdk[method](entry.meta ?? {}, entry.message);
    }),
  });
}
