import type { Request, Response } from 'express';
import type { Histogram } from 'prom-client';
import type { TalliedSeries } from '../CounterTally.js';
import { UNMATCHED_ROUTE, type Metrics } from '../metrics.js';

/** The Express route pattern that answered (e.g. `/v1/accounting/os/sources/:source`), never the raw URL. */
function routeLabel(req: Request, res: Response): string {
  if (res.locals.routeLabel) return res.locals.routeLabel;
  const path: unknown = req.route?.path;
  return typeof path === 'string' ? req.baseUrl + path : UNMATCHED_ROUTE;
}

interface Series {
  duration: Histogram.Internal<'method' | 'route' | 'code'>;
  total: TalliedSeries;
}

/** Records one answered request in `http_request_duration_seconds` and `http_requests_total`. */
export type HttpRecorder = (req: Request, res: Response, seconds: number) => void;

/**
 * Builds the recorder of the HTTP metrics, labelled by method, route pattern and status code.
 * The labelled series are looked up once per label set and kept: every label is bounded
 * (Node's parser knows a fixed set of methods, routes are patterns, codes are few), and a
 * request then costs one map lookup, one histogram observation and an addition (the request
 * counter is tallied, `CounterTally`), instead of hashing a label object per metric.
 */
export function createHttpRecorder(metrics: Metrics): HttpRecorder {
  const series = new Map<string, Series>();
  return (req, res, seconds) => {
    const route = routeLabel(req, res);
    const code = String(res.statusCode);
    const key = `${req.method} ${code} ${route}`;
    let found = series.get(key);
    if (!found) {
      found = {
        duration: metrics.httpRequestDuration.labels(req.method, route, code),
        total: metrics.tally.series(metrics.httpRequestsTotal, req.method, route, code),
      };
      series.set(key, found);
    }
    found.duration.observe(seconds);
    found.total.inc();
  };
}
