#!/usr/bin/env node
import { CliConfigError, parseCliConfig, type CliConfig } from './cliConfig.js';
import { startBankSandbox } from './startBankSandbox.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function fail(message: string, code: number): never {
  process.stderr.write(`bank-sandbox-sim: ${message}\n`);
  process.exit(code);
}

/** A clock that starts at `start` and then advances in real time, so demos are reproducible. */
function runningClock(start: Date): () => Date {
  const startedAt = Date.now();
  return () => new Date(start.getTime() + (Date.now() - startedAt));
}

function loadConfig(): CliConfig {
  try {
    return parseCliConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof CliConfigError) fail(err.message, 2);
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  if (!LOOPBACK.has(config.host)) {
    process.stderr.write(`bank-sandbox-sim: warning: listening on ${config.host}; /__sandbox admin endpoints have no auth\n`);
  }
  const running = await startBankSandbox({
    token: config.token,
    port: config.port,
    host: config.host,
    seed: config.seed,
    connections: config.connections.map((id) => ({ id, days: config.days, perDay: config.perDay })),
    ...(config.now ? { now: runningClock(config.now) } : {}),
    onUnexpectedError: (err) => {
      process.stderr.write(`bank-sandbox-sim: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    },
  });
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: running.url, connections: config.connections, seed: config.seed })}\n`);

  const stop = (signal: NodeJS.Signals): void => {
    running.close().then(
      () => {
        process.stdout.write(`${JSON.stringify({ event: 'stopped', signal })}\n`);
        process.exit(0);
      },
      (err: unknown) => fail(`could not stop cleanly: ${err instanceof Error ? err.message : String(err)}`, 1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err), 1));
