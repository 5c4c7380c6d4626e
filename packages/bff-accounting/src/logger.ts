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

let stdout: pino.DestinationStream | undefined;

/**
 * stdout, written once per turn of the event loop: the lines logged in one turn (under load,
 * the lines of many requests) go out in one write(2) instead of one each, which is much of a
 * log line's cost where system calls are expensive (docs/BENCHMARKS.md). A line waits at most
 * for the end of the current turn; the process's `exit` flushes what is left, so only a
 * SIGKILL within that turn can lose lines. One shared stream per process.
 */
export function turnBufferedStdout(): pino.DestinationStream {
  if (stdout) return stdout;
  // minLength: sonic-boom keeps lines until flushed (or until 16 KiB, then writes at once).
  const out = pino.destination({ dest: 1, sync: true, minLength: 16 * 1024 - 1 });
  let scheduled = false;
  const flush = () => {
    if (!scheduled) return; // flushed already (logger.flush()), nothing new since
    scheduled = false;
    out.flush();
  };
  process.once('exit', () => out.flushSync());
  const stream = {
    write(line: string) {
      out.write(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    /** pino's `logger.flush()`: writes what this turn logged now. */
    flush(done?: (err?: Error) => void) {
      flush();
      done?.();
    },
  };
  stdout = stream;
  return stream;
}

/**
 * pino's `isoTime` (`,"time":"2026-12-04T16:37:49.123Z"`), formatted once per millisecond:
 * under load many lines share a millisecond, and formatting a date is a measurable part of
 * a log line's cost (docs/BENCHMARKS.md). Same text as `isoTime`, to the millisecond.
 */
export function cachedIsoTime(): () => string {
  let lastMs = Number.NaN;
  let lastText = '';
  return () => {
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastText = `,"time":"${new Date(now).toISOString()}"`;
    }
    return lastText;
  };
}

/** The service's root logger: JSON lines on stdout (`turnBufferedStdout`), or on `destination`. */
export function createLogger(level: string, destination: pino.DestinationStream = turnBufferedStdout()): Logger {
  return pino(
    {
      level,
      base: { service: 'bff-accounting' },
      timestamp: cachedIsoTime(),
      // "level":"warn" rather than 40, so `grep`/`jq` on `kubectl logs` read naturally.
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}
