import { ConfigError, loadConfig } from '../config/config';
import { createLogger } from '../observability/logger';
import { startTracing } from '../observability/tracing';
import { VERSION } from './version';

/** `npm start`: everything in one process with embedded defaults for whatever is not configured. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  // Before the runtime's modules load: http, pg and ioredis are instrumented as they are first required (ADR 0015).
  const tracing = startTracing(config, VERSION);
  const { startRuntime } = await import('./runtime');
  const logger = createLogger(config.LOG_LEVEL);
  const runtime = await startRuntime(config, logger);
  const lines = [
    '',
    'MMM engine + UBI is running',
    `  API:              ${runtime.apiUrl ?? '(API disabled)'}`,
    `  OpenAPI:          ${runtime.apiUrl ? `${runtime.apiUrl}/v1/openapi.json` : '-'}`,
    ...(runtime.metricsUrl ? [`  Ops:              ${runtime.metricsUrl}/healthz, /readyz, /metrics`] : []),
    `  Temporal address: ${runtime.temporalAddress} (namespace ${config.TEMPORAL_NAMESPACE})`,
    `  Temporal UI:      ${runtime.temporalUiUrl ?? '(external cluster)'}`,
    `  Fatigue store:    ${runtime.redisMode}`,
    `  Tracing:          ${tracing ? `OTLP ${tracing.protocol} to ${tracing.url} (${config.OTEL_TRACES_SAMPLER})` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT)'}`,
    `  Demo tenant:      ${config.SEED_DEMO ? config.DEMO_TENANT_ID : '(not seeded)'}`,
    '  A token:          npm run token -- --tenant demo --sub dev-1 --roles service',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await runtime.stop();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error('failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
