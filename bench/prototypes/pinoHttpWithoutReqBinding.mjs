// PROTOTYPE for the benchmark only (not used by the service): src/middleware/requestLogger.ts
// unchanged except for one option, `serializers: { req: () => undefined }`.
//
// Why: for every request pino-http builds `logger.child({ req })` (its "full request
// logger"), even with quietReqLogger, where that child is never used. Without a `req`
// serializer pino stringifies the whole IncomingMessage (socket, server and all, several KB,
// through safe-stable-stringify's cycle-safe path) into the child's bindings, per request.
// A `req` serializer that returns undefined makes pino skip the binding; the log line is
// unchanged, since requestLogger's customSuccessObject never logs `req`.

import { createRequire } from 'node:module';

const bffRequire = createRequire(new URL('../../packages/bff-accounting/package.json', import.meta.url));
const { pinoHttp } = bffRequire('pino-http');

/** requestLogger.ts with the `req` binding switched off. */
export function pinoHttpWithoutReqBinding(logger) {
  const summary = (req, res, durationMs) => ({
    method: req.method,
    url: req.originalUrl ?? req.url,
    status: res.statusCode,
    duration_ms: durationMs,
  });
  return pinoHttp({
    logger,
    genReqId: (req) => req.requestId,
    customAttributeKeys: { reqId: 'request_id', responseTime: 'duration_ms' },
    quietReqLogger: true,
    quietResLogger: true,
    wrapSerializers: false,
    serializers: { req: () => undefined },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: (req, res) => `${req.method} ${req.originalUrl ?? req.url} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${req.originalUrl ?? req.url} ${res.statusCode}`,
    customSuccessObject: (req, res, value) => summary(req, res, value.duration_ms),
    customErrorObject: (req, res, _err, value) => summary(req, res, value.duration_ms),
  });
}
