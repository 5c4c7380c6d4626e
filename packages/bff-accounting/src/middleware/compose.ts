import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * One middleware that runs `handlers` in order for requests under `prefix` (the prefix itself
 * or `prefix/...`, case-insensitive, as `app.use(prefix, ...)` matches) and skips the others.
 *
 * Unlike `app.use(prefix, ...handlers)` it adds one layer to the app instead of one per
 * handler, and leaves `req.url` and `req.baseUrl` alone: Express rewrites them around every
 * mounted layer and then parses the URL again, a cost every API request paid twice
 * (docs/BENCHMARKS.md). Handlers see the full path in `req.path`. Errors behave as in Express:
 * a handler's `next(err)`, a throw, or a rejected promise goes to the error middleware.
 */
export function underPrefix(prefix: string, ...handlers: RequestHandler[]): RequestHandler {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${escaped}(?:/|$)`, 'i');
  return (req, res, next) => {
    if (!pattern.test(req.path)) {
      next();
      return;
    }
    runInOrder(handlers, req, res, next);
  };
}

/**
 * `handlers` as one middleware, run in order: one layer in the app instead of one each (every
 * layer costs each request a dispatch through Express's router; docs/BENCHMARKS.md). Errors
 * behave as in Express: `next(err)`, a throw or a rejected promise goes to the error middleware.
 */
export function inSeries(...handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => runInOrder(handlers, req, res, next);
}

function runInOrder(handlers: readonly RequestHandler[], req: Request, res: Response, done: NextFunction): void {
  let index = 0;
  // `next(value)` as Express's router reads it from a middleware layer: nothing, a falsy value
  // or 'route' continues with the next handler; 'router' and anything else leave the series
  // ('router' skips the rest of the app's router, an error goes to the error middleware).
  const step = (err?: unknown): void => {
    if (err && err !== 'route') {
      done(err);
      return;
    }
    const handler = handlers[index++];
    if (!handler) {
      done();
      return;
    }
    try {
      const result: unknown = handler(req, res, step);
      // As Express's router does: a rejection, even with a falsy reason, is an error.
      if (isThenable(result)) result.then(undefined, (error: unknown) => done(error || new Error('Rejected promise')));
    } catch (error) {
      done(error);
    }
  };
  step();
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
