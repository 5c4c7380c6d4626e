import type { Express, Request, Response } from 'express';
import type { Logger } from '../logger.js';

const REQUEST_LOG = Symbol('requestLog');

interface WithRequestLog {
  [REQUEST_LOG]?: Logger;
  requestId: string;
}

/**
 * Makes `req.log` the request-scoped logger (`logger.child({request_id})`) on every request of
 * `app`. The child is built on first use only: most requests log one line at the end and need
 * none, while denials and 5xx log through it. Installed once on the app's request prototype.
 */
export function installRequestLog(app: Express, logger: Logger): void {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    get(this: WithRequestLog): Logger {
      return (this[REQUEST_LOG] ??= logger.child({ request_id: this.requestId }));
    },
  });
}

/**
 * The logger of the per-request lines: `logger` without its redaction pass, which costs about
 * half of writing a line (docs/BENCHMARKS.md). Safe because those lines hold only the fixed
 * fields `logRequest` writes, never a header or a body; everything else keeps redaction.
 */
export function accessLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: [] } });
}

/**
 * Writes the one JSON line of a request: `{request_id, method, url, status, duration_ms}` and
 * the message `"GET /path 200"`, at `info`, or `error` from 500. A request the client
 * abandoned before the response was complete logs at `warn` with `aborted: true`. Never a
 * header, so never a credential.
 */
export function logRequest(logger: Logger, req: Request, res: Response, durationMs: number): void {
  const url = req.originalUrl;
  const status = res.statusCode;
  const line = { request_id: req.requestId, method: req.method, url, status, duration_ms: Math.round(durationMs) };
  const message = `${req.method} ${url} ${status}`;
  if (!res.writableFinished) logger.warn({ ...line, aborted: true }, `${message} (aborted by the client)`);
  else if (status >= 500) logger.error(line, message);
  else logger.info(line, message);
}
