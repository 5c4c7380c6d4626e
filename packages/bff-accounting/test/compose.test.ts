import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { inSeries, underPrefix } from '../src/middleware/compose.js';

/** A middleware that appends `name` to the `X-Trace` response header, then continues. */
const mark = (name: string): RequestHandler => (req, res, next) => {
  res.setHeader('X-Trace', [res.getHeader('X-Trace'), name].filter(Boolean).join(','));
  next();
};

const reportError: ErrorRequestHandler = (err: Error, req, res, next) => {
  void next;
  res.status(500).json({ error: err.message, trace: res.getHeader('X-Trace') ?? null });
};

function appWith(...ahead: RequestHandler[]) {
  const app = express();
  app.use(...ahead);
  app.use((req, res) => {
    res.json({ trace: res.getHeader('X-Trace') ?? null, url: req.url, baseUrl: req.baseUrl, path: req.path });
  });
  app.use(reportError);
  return app;
}

describe('underPrefix', () => {
  const app = appWith(underPrefix('/v1', mark('a'), mark('b')));

  it('runs its handlers in order for the prefix and paths below it, in any letter case', async () => {
    for (const path of ['/v1', '/v1/', '/v1/accounting/audit', '/V1/accounting/audit?x=1']) {
      const res = await request(app).get(path);
      expect(res.body.trace, path).toBe('a,b');
    }
  });

  it('skips requests outside the prefix, including paths that only start with the same letters', async () => {
    for (const path of ['/', '/health', '/v10/accounting', '/v1x', '/api/v1/accounting']) {
      const res = await request(app).get(path);
      expect(res.body.trace, path).toBeNull();
    }
  });

  it('leaves the URL as it came: handlers and routes see the full path', async () => {
    const res = await request(app).get('/v1/accounting/audit?limit=5');
    expect(res.body).toMatchObject({ url: '/v1/accounting/audit?limit=5', baseUrl: '', path: '/v1/accounting/audit' });
  });

  it('treats a prefix with special characters literally', async () => {
    const dotted = appWith(underPrefix('/v1.0', mark('a')));
    expect((await request(dotted).get('/v1.0/x')).body.trace).toBe('a');
    expect((await request(dotted).get('/v1x0/x')).body.trace).toBeNull();
  });
});

describe('inSeries', () => {
  it('runs every handler in order, then the next layer', async () => {
    const res = await request(appWith(inSeries(mark('a'), mark('b'), mark('c')))).get('/x');
    expect(res.status).toBe(200);
    expect(res.body.trace).toBe('a,b,c');
  });

  it('stops at next(err) and hands the error to the error middleware', async () => {
    const failing: RequestHandler = (req, res, next) => next(new Error('refused'));
    const res = await request(appWith(inSeries(mark('a'), failing, mark('never')))).get('/x');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'refused', trace: 'a' });
  });

  it('hands a throw to the error middleware, also one after an asynchronous next()', async () => {
    const later: RequestHandler = (req, res, next) => void setImmediate(() => next());
    const throwing: RequestHandler = () => {
      throw new Error('thrown');
    };
    for (const app of [appWith(inSeries(mark('a'), throwing)), appWith(inSeries(mark('a'), later, throwing))]) {
      const res = await request(app).get('/x');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ error: 'thrown', trace: 'a' });
    }
  });

  it('hands a rejected promise of an async handler to the error middleware', async () => {
    const rejecting: RequestHandler = async () => {
      await Promise.resolve();
      throw new Error('rejected');
    };
    const res = await request(appWith(inSeries(mark('a'), rejecting, mark('never')))).get('/x');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'rejected', trace: 'a' });
  });

  it('treats a promise rejected without a reason, or with a falsy one, as an error, as Express does', async () => {
    for (const reason of [undefined, '', 0, false]) {
      const rejecting: RequestHandler = () => Promise.reject(reason);
      const res = await request(appWith(inSeries(mark('a'), underPrefix('/x', rejecting, mark('gate'))))).get('/x');
      expect(res.status, String(reason)).toBe(500);
      expect(res.body).toEqual({ error: 'Rejected promise', trace: 'a' });
    }
  });

  it("continues with the next handler on next('route') or a falsy value, as separate middleware layers would", async () => {
    for (const value of ['route', false, 0, '']) {
      const skipping: RequestHandler = (req, res, next) => next(value);
      const res = await request(appWith(inSeries(mark('a'), skipping, mark('gate')))).get('/x');
      expect(res.status, String(value)).toBe(200);
      expect(res.body.trace, String(value)).toBe('a,gate');
    }
  });

  it("leaves the app's router on next('router'), skipping the rest of the series and the routes", async () => {
    const app = express();
    app.use(inSeries(mark('a'), (req, res, next) => next('router'), mark('never')));
    app.get('/x', (req, res) => void res.json({ route: true }));
    const res = await request(app).get('/x');
    expect(res.status).toBe(404);
    expect(res.headers['x-trace']).toBe('a');
  });
});
