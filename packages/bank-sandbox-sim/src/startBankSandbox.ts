import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBankSandbox, type BankSandbox, type BankSandboxOptions } from './BankSandbox.js';
import { createBankSandboxApp } from './http/createBankSandboxApp.js';

export interface StartBankSandboxOptions extends BankSandboxOptions {
  /** The bearer token contract requests must carry. */
  token: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Default `127.0.0.1`. The admin endpoints have no auth: keep it on loopback. */
  host?: string;
  onUnexpectedError?: (err: unknown) => void;
}

export interface RunningBankSandbox {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:54321`. */
  url: string;
  port: number;
  sandbox: BankSandbox;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Builds a sandbox and serves it over HTTP on `host:port` (loopback by default). */
export async function startBankSandbox(options: StartBankSandboxOptions): Promise<RunningBankSandbox> {
  const { token, port = 0, host = '127.0.0.1', onUnexpectedError, ...sandboxOptions } = options;
  const sandbox = createBankSandbox(sandboxOptions);
  const app = createBankSandboxApp({ sandbox, token, ...(onUnexpectedError ? { onUnexpectedError } : {}) });
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostInUrl}:${address.port}`,
    port: address.port,
    sandbox,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
