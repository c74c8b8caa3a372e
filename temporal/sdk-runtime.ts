import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../observability/logger';
import { freeLoopbackPort } from '../lib/free-port';

const LEVELS: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR' };

/** Where the Runtime installed by this module serves the SDK's Prometheus metrics (one Runtime per process). */
let installedMetricsAddress: string | undefined;

/**
 * Installs the Temporal SDK's Runtime once per process (a second call is a no-op and answers the first one's address):
 * - the SDK's own logs (worker state, core) go into our structured JSON log, at warn by default so a healthy run stays
 *   quiet;
 * - the SDK's runtime metrics (task slots, poll and schedule-to-start latencies, sticky cache, client requests) are
 *   served by Core's Prometheus exporter on `metricsBindAddress`, or, when none is given, on a free loopback port that
 *   only this process reaches. Either way the process's own /metrics fetches that text and appends it to the service
 *   metrics, so one scrape holds both (temporal/sdk-metrics.ts; the choice is ADR 0011).
 *
 * Returns the address the SDK metrics are served on, or undefined when some other code installed the Runtime first.
 */
export async function installSdkRuntime(logger: Logger, opts: { level?: string; metricsBindAddress?: string } = {}): Promise<string | undefined> {
  if (Runtime._instance) return installedMetricsAddress;
  const bindAddress = opts.metricsBindAddress ?? `127.0.0.1:${await freeLoopbackPort()}`;
  // Another call may have installed it while we looked for a port.
  if (Runtime._instance) return installedMetricsAddress;
  const level = opts.level ?? 'warn';
  const sdkLevel = LEVELS[level] ?? 'WARN';
  const sdk = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    // Counters end in _total and durations are in seconds, as Prometheus names them and as our own metrics do.
    telemetryOptions: { metrics: { prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true } } },
    logger: new DefaultLogger(sdkLevel, (entry) => {
      const method = entry.level === 'TRACE' ? 'trace' : entry.level === 'DEBUG' ? 'debug' : entry.level === 'INFO' ? 'info' : entry.level === 'WARN' ? 'warn' : 'error';
      sdk[method](entry.meta ?? {}, entry.message);
    }),
  });
  installedMetricsAddress = bindAddress;
  return bindAddress;
}
