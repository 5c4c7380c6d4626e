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
  'config.auditChain.key',
  'config.auditChain.previousKey',
];

/** How long a logged line may wait before it is written, unless enough lines are waiting. */
const LOG_FLUSH_INTERVAL_MS = 50;
/** How much may wait: 16 Ki characters (bytes for ASCII lines). */
const LOG_FLUSH_CHARS = 16 * 1024;

let stdout: pino.DestinationStream | undefined;

/**
 * stdout, written in batches: lines are kept in memory and written together, in one write(2),
 * once 16 Ki characters are waiting or 50 ms after the first of them, whichever comes first.
 * Under load that is one system call for about a hundred request lines instead of one per line
 * or per event-loop turn, which was much of a line's cost where system calls are expensive
 * (docs/BENCHMARKS.md, "What was changed"). The process's `exit` (also after an uncaught
 * exception, and on SIGTERM through the service's shutdown) writes what is waiting, and lines
 * logged after it are written at once. Lines of the last 50 ms are lost only when the process
 * ends without its `exit` event: SIGKILL, an abort, or a signal it does not handle. One shared
 * stream per process; sonic-boom does the writing (partial writes, EAGAIN).
 */
export function bufferedStdout(): pino.DestinationStream {
  if (stdout) return stdout;
  const out = pino.destination({ dest: 1, sync: true });
  // A closed stdout (EPIPE) leaves nowhere to log to: drop the lines rather than throw from
  // whichever call happened to log.
  out.on('error', () => undefined);
  let pending: string[] = [];
  let pendingChars = 0;
  let timer: NodeJS.Timeout | undefined;
  let exiting = false;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    pendingChars = 0;
    out.write(text);
  };
  process.once('exit', () => {
    exiting = true;
    flush();
    out.flushSync();
  });
  const stream = {
    write(line: string) {
      if (exiting) {
        out.write(line);
        return;
      }
      pending.push(line);
      pendingChars += line.length;
      if (pendingChars >= LOG_FLUSH_CHARS) flush();
      // Unref'd: waiting lines never keep the process alive; `exit` writes them.
      else timer ??= setTimeout(flush, LOG_FLUSH_INTERVAL_MS).unref();
    },
    /** pino's `logger.flush()`: writes what is waiting now. */
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

/** The bindings every line of the service starts with. */
const BASE_BINDINGS = { service: 'bff-accounting' };

/** `"level":"warn"` rather than 40, so `grep`/`jq` on `kubectl logs` read naturally. */
const levelField = (label: string) => ({ level: label });

/** The fields of a request's access line, written in this order after the service's bindings. */
export interface AccessLineFields {
  request_id: string;
  method: string;
  url: string;
  status: number;
  duration_ms: number;
}

/** Writes one `info` access line (when `info` is enabled), the line pino would write for `logger.info(fields, message)`. */
export type InfoAccessLine = (fields: AccessLineFields, message: string) => void;

const infoAccessLines = new WeakMap<Logger, InfoAccessLine>();

/**
 * The writer of `logger`'s `info` access lines when `logger` was made by `createLogger`:
 * it fills a fixed template with the five fields and writes it to the logger's destination.
 * The line is the one pino writes (tested), for about a third of the CPU: pino walks the
 * field object, picks a serializer per key and quotes every value, which is a measurable part
 * of a request's cost (docs/BENCHMARKS.md). For any other logger (a child, a test's own
 * pino), `undefined`: log through pino.
 */
export function infoAccessLine(logger: Logger): InfoAccessLine | undefined {
  return infoAccessLines.get(logger);
}

/** The service's root logger: JSON lines on stdout (`bufferedStdout`), or on `destination`. */
export function createLogger(level: string, destination: pino.DestinationStream = bufferedStdout()): Logger {
  const time = cachedIsoTime();
  const logger = pino(
    {
      level,
      base: BASE_BINDINGS,
      timestamp: time,
      formatters: { level: levelField },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
  // `{"level":"info"` and `,"service":"bff-accounting"`, from the same values pino formats.
  const head = JSON.stringify(levelField('info')).slice(0, -1);
  const bindings = `,${JSON.stringify(BASE_BINDINGS).slice(1, -1)}`;
  const quote = JSON.stringify;
  infoAccessLines.set(logger, (fields, message) => {
    if (!logger.isLevelEnabled('info')) return;
    destination.write(
      `${head}${time()}${bindings},"request_id":${quote(fields.request_id)},"method":${quote(fields.method)},"url":${quote(fields.url)},"status":${fields.status},"duration_ms":${fields.duration_ms},"msg":${quote(message)}}\n`,
    );
  });
  return logger;
}
