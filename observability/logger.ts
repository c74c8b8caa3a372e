import pino from 'pino';
import { logTraceFields } from './trace-context';

export type Logger = pino.Logger;

/**
 * Structured JSON logs; secrets and tokens are redacted wherever they might appear. `destination`: stdout unless given.
 * A line written inside a traced operation carries its `trace_id` and `span_id` (ADR 0015).
 */
export function createLogger(level: string, base: Record<string, unknown> = {}, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'mmm-ubi', ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: logTraceFields,
    redact: {
      paths: ['authorization', 'req.headers.authorization', 'token', '*.token', 'secret', '*.secret', 'private_key'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
