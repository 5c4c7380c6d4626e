import type { RequestHandler, Response } from 'express';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Lifecycle } from '../readiness.js';
import { createHttpRecorder } from './httpMetrics.js';
import { resolveRequestId } from './requestId.js';
import { createAccessLog } from './requestLogger.js';

const STARTED = Symbol('started');

/** A response with the time its request started (`performance.now()`). */
type TimedResponse = Response & { [STARTED]: number };

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
  const accessLog = createAccessLog(logger);
  // One listener function for every request (`this` is the response), rather than a closure
  // and a `once` wrapper per request: 'close' is emitted once per response anyway.
  function onClose(this: TimedResponse) {
    const req = this.req;
    const elapsedMs = performance.now() - this[STARTED];
    // An abandoned request is logged, not counted: its status code was never sent.
    if (this.writableFinished) record(req, this, elapsedMs / 1_000);
    accessLog(req, this, elapsedMs);
  }
  return (req, res, next) => {
    (res as TimedResponse)[STARTED] = performance.now();
    req.requestId = resolveRequestId(req);
    res.setHeader('X-Request-Id', req.requestId);
    if (lifecycle.shuttingDown) res.setHeader('Connection', 'close');
    res.on('close', onClose);
    next();
  };
}
