import net from 'node:net';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../observability/logger';

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

/**
 * A port the OS says is free on 127.0.0.1. Core binds it a moment later; Core cannot bind port 0 and tell us which
 * port it got, so this small window (another process taking the port in between) is the price, and it is a loopback
 * port on a pod of its own in production.
 */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
