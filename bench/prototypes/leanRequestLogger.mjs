// PROTOTYPE for the benchmark only (not used by the service): a request logger that writes
// the same one line per request as src/middleware/requestLogger.ts (pino-http), with less work:
//
// - no per-request child loggers: pino-http builds two per request (`{request_id}` and
//   `{req}`), and the second serializes the whole IncomingMessage into its bindings even
//   though it is never used (quietReqLogger); here `req.log` is a lazy getter that makes the
//   `{request_id}` child only when a handler or middleware actually logs (denials, 5xx);
// - one 'close' listener instead of pino-http's finish/close/error trio.
//
// Fields, message and levels match requestLogger.ts: {request_id, method, url, status,
// duration_ms} and "GET /path 200", info below 500 and error from 500; like pino-http it also
// logs requests the client aborted (on 'close' without 'finish').

const CHILD = Symbol('requestLog');
const installedOn = new WeakSet();

/** Makes `req.log` a lazily built `logger.child({request_id})` for every request of this prototype. */
function installLazyLog(proto, logger) {
  if (installedOn.has(proto)) return;
  installedOn.add(proto);
  Object.defineProperty(proto, 'log', {
    configurable: true,
    get() {
      return (this[CHILD] ??= logger.child({ request_id: this.requestId }));
    },
    set(value) {
      this[CHILD] = value;
    },
  });
}

/** One JSON line per finished (or aborted) request; `req.log` bound to the request id. */
export function leanRequestLogger(logger) {
  return (req, res, next) => {
    installLazyLog(Object.getPrototypeOf(req), logger);
    const started = performance.now();
    res.once('close', () => {
      const status = res.statusCode;
      const url = req.originalUrl ?? req.url;
      const line = {
        request_id: req.requestId,
        method: req.method,
        url,
        status,
        duration_ms: Math.round(performance.now() - started),
      };
      const msg = `${req.method} ${url} ${status}`;
      if (status >= 500) logger.error(line, msg);
      else logger.info(line, msg);
    });
    next();
  };
}
