import type { Request, RequestHandler } from 'express';
import { UNMATCHED_ROUTE, type Metrics } from '../metrics.js';

/** The Express route pattern that answered (e.g. `/v1/accounting/os/sources/:source`), never the raw URL. */
function routeLabel(req: Request, locals: { routeLabel?: string }): string {
  if (locals.routeLabel) return locals.routeLabel;
  const path: unknown = req.route?.path;
  return typeof path === 'string' ? req.baseUrl + path : UNMATCHED_ROUTE;
}

/** Times every request and counts it by method, route pattern and status code. */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const labels = { method: req.method, route: routeLabel(req, res.locals), code: res.statusCode };
      metrics.httpRequestDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      metrics.httpRequestsTotal.inc(labels);
    });
    next();
  };
}
