import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import v8 from 'node:v8';
import express, { type Express, type Request, type Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { adoptServerClasses, listen } from '../src/server.js';
import '../src/types.js';

// V8's own view of object shapes: whether two objects share a map (hidden class).
v8.setFlagsFromString('--allow-natives-syntax');
// A V8 intrinsic can only be called from code compiled after the flag is set.
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

/**
 * An app whose middleware adds properties to every request and response, as the BFF's does,
 * and whose route holds the first request of a pair until the second arrives, then compares
 * the two requests' shapes and the two responses' shapes at the same point of their lives.
 */
function pairProbe(): { app: Express; shared: Promise<{ req: boolean; res: boolean }> } {
  const app = express();
  app.use((req, res, next) => {
    req.requestId = 'probe';
    res.locals.routeLabel = '/pair';
    next();
  });
  let first: { req: Request; res: Response } | undefined;
  let report!: (value: { req: boolean; res: boolean }) => void;
  const shared = new Promise<{ req: boolean; res: boolean }>((resolve) => (report = resolve));
  app.get('/warm', (_req, res) => {
    res.json({});
  });
  app.get('/pair', (req, res) => {
    if (!first) {
      first = { req, res };
      return;
    }
    report({ req: haveSameMap(first.req, req), res: haveSameMap(first.res, res) });
    first.res.json({});
    res.json({});
  });
  return { app, shared };
}

async function probe(port: number, shared: Promise<{ req: boolean; res: boolean }>): Promise<{ req: boolean; res: boolean }> {
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 3; i++) await (await fetch(`${base}/warm`)).arrayBuffer();
  const pair = [fetch(`${base}/pair`), fetch(`${base}/pair`)];
  const result = await shared;
  for (const res of await Promise.all(pair)) await res.arrayBuffer();
  return result;
}

describe('the HTTP server of the app', () => {
  it("builds each request and response with the prototypes Express gives them, so Express's re-parenting changes nothing", async () => {
    const app = express();
    const running = await listen(app, 0, '127.0.0.1');
    closers.push(() => running.drain(1_000));
    const seen: boolean[] = [];
    // Ahead of the app's own listener: the objects as Node built them.
    running.server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      seen.push(Object.getPrototypeOf(req) === app.request, Object.getPrototypeOf(res) === app.response);
    });
    app.get('/', (req, res) => {
      res.json({ ip: req.ip, accepts: req.accepts('json') });
    });

    const res = await fetch(`http://127.0.0.1:${running.port}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ip: '127.0.0.1', accepts: 'json' });
    expect(seen).toEqual([true, true]);
  });

  it('gives every request one shape and every response one shape, through Express and the middleware', async () => {
    const { app, shared } = pairProbe();
    const running = await listen(app, 0, '127.0.0.1');
    closers.push(() => running.drain(1_000));
    expect(await probe(running.port, shared)).toEqual({ req: true, res: true });
  });

  it('is what makes the shapes shared: the same app on a plain http server gives each request its own', async () => {
    const { app, shared } = pairProbe();
    const server = http.createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    expect(await probe((server.address() as AddressInfo).port, shared)).toEqual({ req: false, res: false });
  });

  it('keeps one pair of classes per app, however often it is listened on', async () => {
    const app = express();
    const original = app.request;
    app.get('/', (_req, res) => {
      res.json({ ok: true });
    });
    for (let i = 0; i < 2; i++) {
      const running = await listen(app, 0, '127.0.0.1');
      closers.push(() => running.drain(1_000));
      expect((await fetch(`http://127.0.0.1:${running.port}/`)).status).toBe(200);
    }
    expect(adoptServerClasses(app)).toBe(adoptServerClasses(app));
    // One layer between the classes' prototype and Express's own.
    expect(Object.getPrototypeOf(app.request)).toBe(original);
  });
});
