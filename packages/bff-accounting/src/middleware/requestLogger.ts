import type { Express, Request, Response } from 'express';
import { infoAccessLine, type AccessLineFields, type Logger } from '../logger.js';

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

/** Writes the one access line of a request whose response is done or abandoned. */
export type AccessLog = (req: Request, res: Response, durationMs: number) => void;

/**
 * The access log of `logger`: one JSON line per request, `{request_id, method, url, status,
 * duration_ms}` and the message `"GET /path 200"`, at `info`, or `error` from 500. A request
 * the client abandoned before the response was complete logs at `warn` with `aborted: true`.
 * Never a header, so never a credential; that is why these lines skip the redaction pass,
 * which costs about half of writing a line (docs/BENCHMARKS.md). The `info` lines, nearly all
 * of them, go through `infoAccessLine`'s template when `logger` has one.
 */
export function createAccessLog(logger: Logger): AccessLog {
  const plain = logger.child({}, { redact: { paths: [] } });
  const info = infoAccessLine(logger) ?? ((line: AccessLineFields, message: string) => plain.info(line, message));
  return (req, res, durationMs) => {
    const url = req.originalUrl;
    const status = res.statusCode;
    const line = { request_id: req.requestId, method: req.method, url, status, duration_ms: Math.round(durationMs) };
    const message = `${req.method} ${url} ${status}`;
    if (!res.writableFinished) plain.warn({ ...line, aborted: true }, `${message} (aborted by the client)`);
    else if (status >= 500) plain.error(line, message);
    else info(line, message);
  };
}
