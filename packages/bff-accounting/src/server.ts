import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface RunningServer {
  readonly server: http.Server;
  readonly port: number;
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `graceMs`, then
   * cuts whatever is left. Resolves once the server is closed.
   */
  drain(graceMs: number): Promise<void>;
}

/** Listens on `host:port` (port 0: any free port) and resolves once bound. */
export async function listen(app: Express, port: number, host: string): Promise<RunningServer> {
  const server = http.createServer(app);
  // Longer than a typical load balancer's idle timeout, so the LB closes idle connections first.
  server.keepAliveTimeout = 65_000;
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
