// PROTOTYPE for the benchmark only (not used by the service): src/middleware/httpMetrics.ts
// with the labelled children cached per (method, route, code), so a request does not hash a
// label object twice, and performance.now() instead of a BigInt hrtime. The label values are
// bounded: Node's parser accepts a fixed set of methods, routes are patterns, codes are few.

const UNMATCHED_ROUTE = '__unmatched__';

function routeLabel(req, locals) {
  if (locals.routeLabel) return locals.routeLabel;
  const path = req.route?.path;
  return typeof path === 'string' ? req.baseUrl + path : UNMATCHED_ROUTE;
}

/** Times every request and counts it by method, route pattern and status code. */
export function leanHttpMetrics(metrics) {
  const children = new Map();
  const childrenFor = (method, route, code) => {
    const key = `${method} ${route} ${code}`;
    let found = children.get(key);
    if (!found) {
      found = {
        duration: metrics.httpRequestDuration.labels(method, route, String(code)),
        total: metrics.httpRequestsTotal.labels(method, route, String(code)),
      };
      children.set(key, found);
    }
    return found;
  };
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const { duration, total } = childrenFor(req.method, routeLabel(req, res.locals), res.statusCode);
      duration.observe((performance.now() - started) / 1e3);
      total.inc();
    });
    next();
  };
}
