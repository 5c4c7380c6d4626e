import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/**
 * The path of the first of `names` found on PATH. The alert and Prometheus tests need the real
 * binaries and are never skipped: a missing one fails with how to install it.
 */
export function requireTool(...names: string[]): string {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not in this directory
      }
    }
  }
  throw new Error(
    `${names.join(' or ')} is not installed: run scripts/install_test_deps.sh ` +
      '(Debian packages prometheus and prometheus-alertmanager). These tests are never skipped.',
  );
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (bounded), resolving with its exit code and output whatever the code. */
export function runCommand(file: string, args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, timeout: options.timeoutMs ?? 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A loopback port nobody listened on a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RunningServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Everything the process wrote so far. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `binary` with `args(port)` on a free loopback port and waits (bounded) for `/-/ready`.
 * A process that exits first (say another process took the port meanwhile) is retried twice.
 */
async function startServer(binary: string, args: (port: number) => string[], readyTimeoutMs = 20_000): Promise<RunningServer> {
  let lastOutput = '';
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const child: ChildProcess = spawn(binary, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    };

    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline && child.exitCode === null) {
      const ready = await fetch(`${url}/-/ready`).then(
        (res) => res.ok,
        () => false,
      );
      if (ready) return { url, output: () => output, stop };
      await sleep(100);
    }
    await stop();
    lastOutput = output;
    if (child.exitCode === null || child.exitCode === 0) break; // timed out rather than failed to start
  }
  throw new Error(`${binary} did not become ready:\n${lastOutput}`);
}

/**
 * A real Prometheus on loopback with `config` (an object, written as JSON, which YAML reads) and
 * its TSDB in `dir`. Its API then answers what Prometheus itself loaded and computed.
 */
export async function startPrometheus(config: object, dir: string): Promise<RunningServer> {
  const binary = requireTool('prometheus');
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  return startServer(binary, (port) => [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
}

/** A real Alertmanager on loopback with `configFile`, state in `dir`, clustering off. */
export async function startAlertmanager(configFile: string, dir: string): Promise<RunningServer> {
  const binary = requireTool('prometheus-alertmanager', 'alertmanager');
  return startServer(binary, (port) => [
    `--config.file=${configFile}`,
    `--storage.path=${dir}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query through Prometheus' HTTP API; throws on an error answer. */
export async function queryPrometheus(url: string, query: string): Promise<PromSample[]> {
  const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query })}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSample[] } };
  if (body.status !== 'success' || !body.data) throw new Error(`query ${query} failed: ${body.error ?? res.status}`);
  if (body.data.resultType !== 'vector') throw new Error(`query ${query} returned a ${body.data.resultType}, not a vector`);
  return body.data.result;
}

export interface LoadedRule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  /** Alerting rules: the `for:` in seconds. */
  duration?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  health: string;
  lastError?: string;
  lastEvaluation: string;
}

/** Every rule as Prometheus loaded it (`/api/v1/rules`), group by group. */
export async function loadedRules(url: string): Promise<{ group: string; rule: LoadedRule }[]> {
  const res = await fetch(`${url}/api/v1/rules`);
  const body = (await res.json()) as { data: { groups: { name: string; rules: LoadedRule[] }[] } };
  return body.data.groups.flatMap((group) => group.rules.map((rule) => ({ group: group.name, rule })));
}
