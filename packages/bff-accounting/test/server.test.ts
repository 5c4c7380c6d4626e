import http from 'node:http';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** A raw TCP client: everything the server sends, and whether it closed the connection. */
class RawClient {
  readonly socket: net.Socket;
  received = '';
  closed = false;
  readonly closing: Promise<void>;
  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.received += chunk));
    socket.on('error', () => undefined);
    this.closing = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closing.then(() => (this.closed = true));
  }
  static async connect(port: number): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const client = new RawClient(socket);
    closers.push(async () => void client.socket.destroy());
    return client;
  }
  /** Sends `text` one byte at a time, `gapMs` apart, until done or the server closed the connection; returns the bytes sent. */
  async trickle(text: string, gapMs: number): Promise<number> {
    let sent = 0;
    for (const byte of text) {
      if (this.closed) break;
      this.socket.write(byte);
      sent++;
      await sleep(gapMs);
    }
    return sent;
  }
  /** Resolves once `received` holds a whole response (head and, for a small fixed-length body, the body). */
  async response(): Promise<string> {
    while (!/\r\n\r\n/.test(this.received) && !this.closed) await sleep(10);
    await sleep(20);
    return this.received;
  }
}

const GET_HEALTH = 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n';

function healthApp(): Express {
  const app = express();
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return app;
}

describe('the limits of the HTTP server', () => {
  it('cuts a client that sends its headers byte by byte once the headers timeout has passed, with 408', async () => {
    const running = await listen(healthApp(), 0, '127.0.0.1', { headersTimeoutMs: 300, requestTimeoutMs: 1_000 });
    closers.push(() => running.drain(1_000));
    const client = await RawClient.connect(running.port);
    const headers = `GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`;

    const sent = await client.trickle(headers, 20);
    await client.closing;

    expect(sent).toBeLessThan(headers.length);
    expect(client.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('cuts a client that sends its body slower than the request timeout, with 408', async () => {
    const app = express();
    app.post('/upload', express.text(), (_req, res) => {
      res.json({ ok: true });
    });
    const running = await listen(app, 0, '127.0.0.1', { headersTimeoutMs: 300, requestTimeoutMs: 600 });
    closers.push(() => running.drain(1_000));
    const client = await RawClient.connect(running.port);
    const body = 'b'.repeat(200);
    client.socket.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n`);

    const sent = await client.trickle(body, 20);
    await client.closing;

    expect(sent).toBeLessThan(body.length);
    expect(client.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('lets a response stream for longer than the request timeout (an export), once the request is in', async () => {
    const app = express();
    app.get('/stream', async (_req, res) => {
      res.type('text/plain');
      for (let i = 0; i < 12; i++) {
        res.write(`line ${i}\n`);
        await sleep(100);
      }
      res.end('done\n');
    });
    const running = await listen(app, 0, '127.0.0.1', { headersTimeoutMs: 300, requestTimeoutMs: 400 });
    closers.push(() => running.drain(1_000));

    const res = await fetch(`http://127.0.0.1:${running.port}/stream`);
    const text = await res.text();

    expect(res.status).toBe(200);
    expect(text.split('\n')).toHaveLength(14);
    expect(text.endsWith('line 11\ndone\n')).toBe(true);
  });

  it('near its connection cap (nine tenths), closes idle keep-alive connections to make room', async () => {
    const running = await listen(healthApp(), 0, '127.0.0.1', { maxConnections: 10 });
    closers.push(() => running.drain(1_000));
    const idle: RawClient[] = [];
    for (let i = 0; i < 8; i++) {
      const client = await RawClient.connect(running.port);
      client.socket.write(GET_HEALTH);
      expect(await client.response()).toMatch(/^HTTP\/1\.1 200 /);
      idle.push(client);
    }

    const ninth = await RawClient.connect(running.port);
    await Promise.all(idle.map((client) => client.closing));
    ninth.socket.write(GET_HEALTH);

    expect(await ninth.response()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('at its connection cap, refuses a new connection and closes the idle ones, so the next client is served', async () => {
    const running = await listen(healthApp(), 0, '127.0.0.1', { maxConnections: 2 });
    closers.push(() => running.drain(1_000));
    const idle = [await RawClient.connect(running.port), await RawClient.connect(running.port)];
    for (const client of idle) {
      client.socket.write(GET_HEALTH);
      expect(await client.response()).toMatch(/^HTTP\/1\.1 200 /);
    }

    const refused = await RawClient.connect(running.port);
    await refused.closing;
    await Promise.all(idle.map((client) => client.closing));
    const next = await RawClient.connect(running.port);
    next.socket.write(GET_HEALTH);

    expect(refused.received).toBe('');
    expect(await next.response()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('beyond its connection cap, with every connection busy, refuses a new one', async () => {
    const running = await listen(healthApp(), 0, '127.0.0.1', { maxConnections: 2 });
    closers.push(() => running.drain(1_000));
    const busy = [await RawClient.connect(running.port), await RawClient.connect(running.port)];
    for (const client of busy) client.socket.write('GET /health HTTP/1.1\r\nHost: local');
    await sleep(50);

    const refused = await RawClient.connect(running.port);
    refused.socket.write(GET_HEALTH);
    await refused.closing;

    expect(refused.received).toBe('');
    expect(busy.map((client) => client.closed)).toEqual([false, false]);
  });
});
