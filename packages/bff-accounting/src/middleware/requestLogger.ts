import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger.js';

/**
 * One JSON line per finished request (pino-http), bound to the request id. Kept lean on
 * purpose: no headers (so no credentials), no per-request serializer work beyond a few fields.
 * `req.log` is the request-scoped logger handlers and middleware use.
 */
export function requestLogger(logger: Logger): RequestHandler {
  const summary = (req: IncomingMessage, res: ServerResponse, durationMs: number) => ({
    method: req.method,
    url: (req as Request).originalUrl ?? req.url,
    status: res.statusCode,
    duration_ms: durationMs,
  });
  return pinoHttp({
    logger,
    genReqId: (req) => (req as Request).requestId,
    customAttributeKeys: { reqId: 'request_id', responseTime: 'duration_ms' },
    quietReqLogger: true,
    quietResLogger: true,
    wrapSerializers: false,
    // pino-http binds the whole request to a child logger per request; serialising it (socket and
    // all) cost about half the server's CPU in bench/run.mjs. Our lines never use it.
    serializers: { req: () => undefined },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessMessage: (req, res) => `${req.method} ${(req as Request).originalUrl ?? req.url} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${(req as Request).originalUrl ?? req.url} ${res.statusCode}`,
    customSuccessObject: (req, res, value: { duration_ms: number }) => summary(req, res, value.duration_ms),
    customErrorObject: (req, res, _err, value: { duration_ms: number }) => summary(req, res, value.duration_ms),
  }) as unknown as RequestHandler;
}
