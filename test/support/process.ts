import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BFF_ENTRY = fileURLToPath(new URL('../../packages/bff-accounting/dist/index.js', import.meta.url));
export const WORKER_ENTRY = fileURLToPath(new URL('../../scripts/worker_sync_external.mjs', import.meta.url));

export interface NodeProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves with the first stdout line matching `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** The port from the "listening" line. */
  port(): Promise<number>;
  stop(): Promise<number | null>;
}

/**
 * Runs the built BFF (`dist/index.js`, as in the Docker image) with exactly `env` plus PATH.
 * `pnpm test` builds first; running vitest alone needs `pnpm build`.
 */
export function spawnBff(env: Record<string, string>): NodeProcess {
  if (!existsSync(BFF_ENTRY)) throw new Error(`${BFF_ENTRY} is missing: run "pnpm build" first`);
  return spawnNode(BFF_ENTRY, [], env);
}

/**
 * The built BFF on real PostgreSQL at `databaseUrl` (its schema in the URL), on a free port of
 * 127.0.0.1, with `env` on top.
 */
export function spawnBffOnPostgres(databaseUrl: string, env: Record<string, string> = {}): NodeProcess {
  return spawnBff({ USE_PG: '1', DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', ...env });
}

/** Runs `node entry ...args` with exactly `env` plus PATH, collecting its output line by line. */
export function spawnNode(entry: string, args: readonly string[], env: Record<string, string>): NodeProcess {
  const child = spawn(process.execPath, [entry, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      stdout.push(line);
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  // 'close', not 'exit': it fires once the output pipes are drained too, so no last line is missed.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

  const waitFor = (pattern: RegExp, timeoutMs = 30_000) => {
    const seen = stdout.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${stdout.join('\n')}\n${stderr.join('')}`)), timeoutMs);
      waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`process exited (${code}) before logging ${pattern}:\n${stdout.join('\n')}\n${stderr.join('')}`));
      });
    });
  };

  return {
    child,
    stdout,
    stderr,
    exited,
    waitFor,
    async port() {
      const line = await waitFor(/listening on/);
      return (JSON.parse(line) as { port: number }).port;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The BFF's process handle (same shape as any node process). */
export type BffProcess = NodeProcess;
