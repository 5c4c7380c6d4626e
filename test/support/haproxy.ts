import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireTool } from './prometheus.js';

/** One BFF behind the load balancer: haproxy's server name and its loopback port. */
export interface Backend {
  name: string;
  port: number;
}

/** How haproxy checks the servers and retries requests; defaults in brackets. */
export interface HaproxyOptions {
  /** Milliseconds between two checks of a server [500]. */
  interMs?: number;
  /** Failed checks in a row that mark a server DOWN [2]. */
  fall?: number;
  /** Passed checks in a row that bring it back UP [2]. */
  rise?: number;
  /** haproxy's `retry-on` [conn-failure empty-response response-timeout]; `none` never retries. */
  retryOn?: string;
}

/** A row of haproxy's `show stat`: the counters these tests read, by column name. */
export interface ProxyStat {
  /** `UP`, `DOWN`, `UP 1/2` (going down), `DOWN 1/2` (coming up), `MAINT`, ... */
  status: string;
  /** Requests retried (`wretr`) and redispatched to another server (`wredis`). */
  retries: number;
  redispatches: number;
  /** Connection errors to servers (`econ`) and response errors (`eresp`). */
  connectionErrors: number;
  responseErrors: number;
  /** Responses sent, by class (`hrsp_5xx`); on a server row, only those it answered. */
  responses5xx: number;
  /** Sessions in all (`stot`). */
  sessions: number;
}

export interface RunningHaproxy {
  /** `http://127.0.0.1:<port>`: the frontend. */
  url: string;
  /** `show stat` by server name, plus `FRONTEND` and `BACKEND` rows. */
  stats(): Promise<Map<string, ProxyStat>>;
  /** Resolves once `server`'s status is exactly `status`; rejects after `timeoutMs` saying what it was. */
  waitForStatus(server: string, status: 'UP' | 'DOWN', timeoutMs?: number): Promise<void>;
  /** What haproxy wrote so far (server state changes and alerts). */
  output(): string;
  /** SIGTERM (then SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * The haproxy configuration of the multi-replica test and the rolling-restart benchmark: HTTP
 * mode, round robin over `backends`, each health-checked with `GET /ready` (a draining BFF
 * answers 503 and drops out). By default a request whose connection to a server failed (a
 * replica that stopped listening) or that got no answer at all is retried, on another server, up
 * to 3 times: the BFF's manual reviews carry an `Idempotency-Key`, so a replayed write is
 * answered from its stored outcome, never run twice.
 */
export function haproxyConfig(options: { port: number; socket: string; backends: readonly Backend[] } & HaproxyOptions): string {
  const { interMs = 500, fall = 2, rise = 2, retryOn = 'conn-failure empty-response response-timeout' } = options;
  return [
    'global',
    '    maxconn 1024',
    `    stats socket ${options.socket} mode 600 level admin`,
    // Server state changes and alerts only (no line per request).
    '    log stderr format short local0 notice',
    '',
    'defaults',
    '    mode http',
    '    log global',
    '    option log-health-checks',
    '    timeout connect 2s',
    // Client and client keep-alive timeouts longer than any run, so the LB never closes a
    // client's idle connection under it; that would be a lost request no replica caused.
    '    timeout client 5m',
    '    timeout http-keep-alive 5m',
    '    timeout server 30s',
    '    timeout check 2s',
    '    retries 3',
    '    option redispatch 1',
    `    retry-on ${retryOn}`,
    '',
    'frontend api',
    `    bind 127.0.0.1:${options.port}`,
    '    default_backend bff',
    '',
    'backend bff',
    '    balance roundrobin',
    '    option httpchk GET /ready',
    '    http-check expect status 200',
    `    default-server inter ${interMs}ms fall ${fall} rise ${rise}`,
    ...options.backends.map((backend) => `    server ${backend.name} 127.0.0.1:${backend.port} check`),
    '',
  ].join('\n');
}

/** Sends one command to haproxy's runtime API and resolves with the whole answer. */
function runtimeCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let answer = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => (answer += chunk));
    conn.on('end', () => resolve(answer));
    conn.on('error', reject);
    conn.end(`${command}\n`);
  });
}

function parseStats(csv: string): Map<string, ProxyStat> {
  const [header = '', ...lines] = csv.trim().split('\n');
  const columns = header.replace(/^# /, '').split(',');
  const stats = new Map<string, ProxyStat>();
  for (const line of lines) {
    const cells = line.split(',');
    const cell = (name: string) => cells[columns.indexOf(name)] ?? '';
    const count = (name: string) => Number(cell(name)) || 0;
    if (cell('pxname') !== 'bff' && cell('pxname') !== 'api') continue;
    stats.set(cell('svname'), {
      status: cell('status'),
      retries: count('wretr'),
      redispatches: count('wredis'),
      connectionErrors: count('econ'),
      responseErrors: count('eresp'),
      responses5xx: count('hrsp_5xx'),
      sessions: count('stot'),
    });
  }
  return stats;
}

/** haproxy on PATH, or where Debian puts it (/usr/sbin, not on every user's PATH). */
export function haproxyBinary(): string {
  try {
    return requireTool('haproxy');
  } catch {
    if (existsSync('/usr/sbin/haproxy')) return '/usr/sbin/haproxy';
    throw new Error('haproxy is not installed: run scripts/install_test_deps.sh (Debian package haproxy). These tests are never skipped.');
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts Debian's haproxy in the foreground (`-db`) on a free loopback port in front of
 * `backends`, with its config and runtime API socket in a temporary directory, and resolves once
 * the runtime API answers. Whether the servers are UP is for the caller to wait for.
 */
export async function startHaproxy(backends: readonly Backend[], options: HaproxyOptions = {}): Promise<RunningHaproxy> {
  const binary = haproxyBinary();
  const dir = await mkdtemp(join(tmpdir(), 'haproxy-'));
  const socket = join(dir, 'admin.sock');
  const configFile = join(dir, 'haproxy.cfg');
  let lastOutput = '';
  // A port taken by someone else between freePort() and haproxy's bind: try another.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    await writeFile(configFile, haproxyConfig({ ...options, port, socket, backends }));
    const child = spawn(binary, ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const stats = async () => parseStats(await runtimeCommand(socket, 'show stat'));
    const kill = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    };

    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const up = await stats().then(
        (rows) => rows.has('FRONTEND'),
        () => false,
      );
      if (up) {
        return {
          url: `http://127.0.0.1:${port}`,
          stats,
          output: () => output,
          async stop() {
            await kill();
            await rm(dir, { recursive: true, force: true });
          },
          async waitForStatus(server, status, timeoutMs = 20_000) {
            const until = Date.now() + timeoutMs;
            let seen: string | undefined;
            while (Date.now() < until) {
              seen = (await stats()).get(server)?.status;
              if (seen === status) return;
              // Fine-grained: bench/rolling_restart.mjs reports how long DOWN and UP took.
              await sleep(50);
            }
            throw new Error(`haproxy server ${server} is still "${seen}" after ${timeoutMs} ms, not ${status}:\n${output}`);
          },
        };
      }
      await sleep(100);
    }
    const hung = child.exitCode === null;
    await kill();
    lastOutput = output;
    if (hung) break; // did not come up rather than failed to bind
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`haproxy did not start:\n${lastOutput}`);
}
