import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a `RecordingServer` received. */
export interface RecordedRequest {
  method: string;
  url: string;
  body: string;
}

/**
 * A local HTTP endpoint standing in for a service the BFF calls (a chat webhook, a
 * Pushgateway): it records every request and answers with the queued statuses, then 200.
 */
export class RecordingServer {
  readonly requests: RecordedRequest[] = [];
  /** Statuses for the next answers, in order; 200 once they run out. */
  statuses: number[] = [];
  /** `http://127.0.0.1:<port>`, set by `start()`. */
  base = '';
  private readonly server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.statusCode = this.statuses.shift() ?? 200;
      res.end('ok');
    });
  });

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The request bodies, parsed as JSON. */
  get bodies(): Record<string, unknown>[] {
    return this.requests.map((request) => JSON.parse(request.body) as Record<string, unknown>);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
