import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths removed from every log line. Request logs carry no headers at all; these guard
 * anything else that might carry credentials into a log by mistake.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.token',
  '*.secret',
  '*.password',
  'config.bankSandbox.token',
  'config.exportSigning',
];

/** The service's root logger: JSON lines on stdout. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'bff-accounting' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"warn" rather than 40, so `grep`/`jq` on `kubectl logs` read naturally.
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}
