import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Lifecycle } from '../readiness.js';
import { createHttpRecorder } from './httpMetrics.js';
import { resolveRequestId } from './requestId.js';
import { accessLogger, logRequest } from './requestLogger.js';

export interface RequestContextOptions {
  logger: Logger;
  metrics: Metrics;
  lifecycle: Lifecycle;
}

/**
 * The first middleware of every request: sets `req.requestId` and echoes it in `X-Request-Id`,
 * asks keep-alive clients to reconnect (to another pod) while the process drains, and, once
 * the response is done, records the HTTP metrics and writes the request's log line. One
 * listener per request does both: this runs on every request, so it is kept lean
 * (docs/BENCHMARKS.md). `req.log` comes from `installRequestLog`.
 */
export function requestContext({ logger, metrics, lifecycle }: RequestContextOptions): RequestHandler {
  const record = createHttpRecorder(metrics);
  const accessLog = accessLogger(logger);
  return (req, res, next) => {
    const started = performance.now();
    req.requestId = resolveRequestId(req);
    res.setHeader('X-Request-Id', req.requestId);
    if (lifecycle.shuttingDown) res.setHeader('Connection', 'close');
    res.once('close', () => {
      const elapsedMs = performance.now() - started;
      // An abandoned request is logged, not counted: its status code was never sent.
      if (res.writableFinished) record(req, res, elapsedMs / 1_000);
      logRequest(accessLog, req, res, elapsedMs);
    });
    next();
  };
}
