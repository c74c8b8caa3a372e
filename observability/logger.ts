import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs; secrets and tokens are redacted wherever they might appear. `destination`: stdout unless given. */
export function createLogger(level: string, base: Record<string, unknown> = {}, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'mmm-ubi', ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['authorization', 'req.headers.authorization', 'token', '*.token', 'secret', '*.secret', 'private_key'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
