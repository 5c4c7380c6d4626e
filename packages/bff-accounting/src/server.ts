import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Express } from 'express';

/** The request and response classes `http.createServer` builds its objects with. */
export type ServerClasses = http.ServerOptions<typeof http.IncomingMessage, typeof http.ServerResponse>;

/**
 * Request and response classes for `app`'s server whose instances are born with the prototypes
 * Express gives every request and response, and, to that end, makes those classes' prototypes
 * `app.request` and `app.response` (they inherit from the old ones, so everything Express and
 * `installRequestLog` put there is still found). One pair per app, however often it is called.
 *
 * Why: Express 5 re-parents each request and response with `Object.setPrototypeOf` in
 * `app.handle`. On an object Node built with another prototype, V8 then gives that object a
 * map (hidden class) of its own, and every property added later (Express's `req.res`,
 * `req.next`, `req.baseUrl`..., our `requestId` and `policy`) makes yet another new map: no two
 * requests share a shape, and every property access on `req` and `res`, in Express, in Node's
 * http code and in our middleware, misses its inline cache. When the prototype is already the
 * right one, the re-parenting is a no-op and all requests share their maps: about 4x less CPU
 * per request (docs/BENCHMARKS.md, "Where the time goes").
 *
 * Not for an app that is later mounted in another (`parent.use(path, app)`): Express's mount
 * re-parents `app.request` onto the parent's and would cut the chain. The BFF's app is never
 * mounted.
 */
export function adoptServerClasses(app: Express): ServerClasses {
  let classes = adopted.get(app);
  if (!classes) {
    classes = bornWithAppPrototypes(app);
    adopted.set(app, classes);
  }
  return classes;
}

const adopted = new WeakMap<Express, ServerClasses>();

function bornWithAppPrototypes(app: Express): ServerClasses {
  class AppRequest extends http.IncomingMessage {}
  class AppResponse<Incoming extends http.IncomingMessage = http.IncomingMessage> extends http.ServerResponse<Incoming> {}
  Object.setPrototypeOf(AppRequest.prototype, app.request);
  Object.setPrototypeOf(AppResponse.prototype, app.response);
  app.request = AppRequest.prototype as Express['request'];
  app.response = AppResponse.prototype as Express['response'];
  return { IncomingMessage: AppRequest, ServerResponse: AppResponse };
}

export interface RunningServer {
  readonly server: http.Server;
  readonly port: number;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `graceMs`, then
   * cuts whatever is left. Resolves once the server is closed.
   */
  drain(graceMs: number): Promise<void>;
}

/** What one server accepts from its clients (config `HTTP_*`); an omitted limit keeps Node's default. */
export interface ServerLimits {
  /** How long a client may take to send the request headers; then 408 and the connection is closed. */
  readonly headersTimeoutMs?: number;
  /**
   * How long a client may take to send the whole request (headers and body); then 408. Only the
   * request: a response, e.g. a long export stream, may take as long as it needs.
   */
  readonly requestTimeoutMs?: number;
  /** Open connections at most; beyond, new ones are refused (see `reclaimIdleNearCap`). */
  readonly maxConnections?: number;
}

/** How often Node looks for requests past their timeouts (its default, 30 s, would let a slow client stay that much longer). */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * Keep-alive connections stay open 65 s after their last request, so near the cap most of them
 * may be idle, held by a load balancer's pool, while new clients are refused. From nine tenths of
 * the cap on, each new connection closes the idle ones (never one with a request in progress or
 * one that has not sent its first request yet), and so does a connection refused at the cap;
 * their clients reconnect when they need to.
 */
function reclaimIdleNearCap(server: http.Server, maxConnections: number): void {
  const watermark = Math.ceil(maxConnections * 0.9);
  let open = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    socket.once('close', () => open--);
    if (open >= watermark) server.closeIdleConnections();
  });
  server.on('drop', () => server.closeIdleConnections());
}

/**
 * Listens on `host:port` (port 0: any free port) with `limits`, and resolves once bound. The
 * server builds its requests and responses with `adoptServerClasses(app)`, which changes
 * `app.request` and `app.response` (see there).
 */
export async function listen(app: Express, port: number, host: string, limits: ServerLimits = {}): Promise<RunningServer> {
  const { headersTimeoutMs, requestTimeoutMs, maxConnections } = limits;
  const server = http.createServer(
    {
      ...adoptServerClasses(app),
      ...(headersTimeoutMs !== undefined ? { headersTimeout: headersTimeoutMs } : {}),
      ...(requestTimeoutMs !== undefined ? { requestTimeout: requestTimeoutMs } : {}),
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, headersTimeoutMs ?? Infinity),
    },
    app,
  );
  // Longer than a typical load balancer's idle timeout, so the LB closes idle connections first.
  server.keepAliveTimeout = 65_000;
  if (maxConnections !== undefined) {
    server.maxConnections = maxConnections;
    reclaimIdleNearCap(server, maxConnections);
  }
  server.listen(port, host);
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;

  return {
    server,
    port: bound,
    async drain(graceMs: number) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Connections that go idle after finishing their request are closed as they go idle.
      const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
      try {
        await closed;
      } finally {
        clearInterval(idleSweep);
        clearTimeout(deadline);
      }
    },
  };
}
