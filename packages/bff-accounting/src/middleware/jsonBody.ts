import express, { type RequestHandler } from 'express';

/** The methods whose requests carry a body here; the API's GET routes never read one. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * `express.json({limit})` for requests that may carry a body. GET, HEAD and DELETE requests,
 * most of the traffic, skip the body parser's checks entirely (docs/BENCHMARKS.md); a body
 * sent with them is ignored, as no handler of theirs reads `req.body`.
 */
export function jsonBody(limit: string): RequestHandler {
  const parse = express.json({ limit });
  return (req, res, next) => {
    if (BODY_METHODS.has(req.method)) parse(req, res, next);
    else next();
  };
}
