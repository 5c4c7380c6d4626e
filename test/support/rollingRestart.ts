import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHaproxy, type HaproxyOptions, type RunningHaproxy } from './haproxy.js';
import { spawnBffOnPostgres, type BffProcess } from './process.js';
import { freePort } from './prometheus.js';

/**
 * BFF replicas behind haproxy restarted one at a time under a steady load of keep-alive clients:
 * shared by test/multiReplica.test.ts (which asserts) and bench/rolling_restart.mjs (which
 * reports figures).
 */

// ---------------------------------------------------------------------------------------------
// A steady load of keep-alive clients

export interface Outcome {
  op: 'audit' | 'sources' | 'review';
  /** The status code, or undefined when the request failed at the connection level. */
  status?: number;
  error?: string;
  /** The review's Idempotency-Key, also its subject_id. */
  key?: string;
  /** Milliseconds from sending the request to its answer or failure. */
  ms: number;
}

export const IDENTITY = { 'X-Tenant': 'default', 'X-User-Role': 'operator' };

/** One request on `agent`'s connection; resolves with the status once the body is read. */
export function send(agent: http.Agent, url: string, method: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method,
      agent,
      headers: body === undefined ? headers : { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) },
      timeout: 30_000,
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

export interface Load {
  /** Every request so far, in the order they ended. */
  outcomes: Outcome[];
  /** Waits (bounded) until `count` more requests have been answered or failed. */
  progress(count: number, timeoutMs?: number): Promise<void>;
  /** Lets each client finish its request in flight; resolves with all outcomes. */
  stop(): Promise<Outcome[]>;
}

/**
 * `clients` clients, each on one keep-alive connection, sending one request after another
 * (audit list, sources list, a manual review with a fresh Idempotency-Key, in turn) with
 * `thinkMs` between, until stopped or `maxSeconds` have passed.
 */
export function startLoad(base: string, options: { clients: number; thinkMs: number; maxSeconds?: number }): Load {
  const outcomes: Outcome[] = [];
  let stopped = false;
  const until = Date.now() + (options.maxSeconds ?? Infinity) * 1_000;
  const client = async (id: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let n = 0; !stopped && Date.now() < until; n += 1) {
      const op = (['audit', 'sources', 'review'] as const)[n % 3] as Outcome['op'];
      const key = op === 'review' ? `rr-${id}-${n}` : undefined;
      const started = performance.now();
      try {
        const status =
          op === 'audit'
            ? await send(agent, `${base}/v1/accounting/audit?limit=20`, 'GET', IDENTITY)
            : op === 'sources'
              ? await send(agent, `${base}/v1/accounting/os/sources`, 'GET', IDENTITY)
              : await send(agent, `${base}/v1/accounting/audit/manual-review`, 'POST', { ...IDENTITY, 'Idempotency-Key': key as string },
                  JSON.stringify({ subject_type: 'bank_tx', subject_id: key, reason: 'rolling restart' }));
        outcomes.push({ op, status, key, ms: performance.now() - started });
      } catch (err) {
        outcomes.push({ op, key, error: err instanceof Error ? err.message : String(err), ms: performance.now() - started });
      }
      if (options.thinkMs > 0) await sleep(options.thinkMs);
    }
    agent.destroy();
  };
  const running = Promise.all(Array.from({ length: options.clients }, (_, id) => client(id)));
  return {
    outcomes,
    async progress(count, timeoutMs = 20_000) {
      const target = outcomes.length + count;
      const deadline = Date.now() + timeoutMs;
      while (outcomes.length < target) {
        if (Date.now() > deadline) throw new Error(`the load made no progress: ${outcomes.length} of ${target} requests after ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    async stop() {
      stopped = true;
      await running;
      return outcomes;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The replicas and their restart

/** One BFF replica: haproxy's server name, its fixed loopback port, the process serving it now. */
export interface Replica {
  readonly name: string;
  readonly port: number;
  bff: BffProcess;
}

/** One replica's restart, in milliseconds from its SIGTERM unless said otherwise. */
export interface Restart {
  /** The old process's exit code (0 after a clean drain). */
  exitCode: number | null;
  /** Until haproxy had the replica DOWN. */
  downMs: number;
  /** Until the old process exited. */
  exitMs: number;
  /** From starting the new process to its "listening on" line. */
  listeningMs: number;
  /** From starting the new process to haproxy having it UP. */
  upMs: number;
  /** Until haproxy had the new process UP. */
  outOfRotationMs: number;
}

export interface ReplicaSet {
  /** The replicas, in start order (`bff1`, `bff2`, ...). */
  readonly replicas: readonly Replica[];
  /** Starts `count` replicas, haproxy in front of them, and resolves with it once all are UP. */
  start(count: number): Promise<RunningHaproxy>;
  /**
   * SIGTERM to `replica`'s process; once haproxy has it DOWN and it has exited, a new process on
   * the same port, until haproxy has it UP.
   */
  restart(replica: Replica): Promise<Restart>;
  /** Stops haproxy and SIGKILLs what still runs. */
  stop(): Promise<void>;
}

/**
 * Replicas of the built BFF on the PostgreSQL schema of `databaseUrl` (`spawnBffOnPostgres` with
 * `env` on top, e.g. SHUTDOWN_DELAY_MS), behind haproxy with `haproxy`'s checks and retries.
 * `timeoutMs` bounds each wait: a replica's "listening on" line, haproxy seeing it DOWN or UP.
 */
export function replicasBehindHaproxy(options: { databaseUrl: string; env: Record<string, string>; haproxy?: HaproxyOptions; timeoutMs?: number }): ReplicaSet {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const replicas: Replica[] = [];
  let lb: RunningHaproxy | undefined;
  const spawn = (port: number) => spawnBffOnPostgres(options.databaseUrl, { ...options.env, PORT: String(port) });

  return {
    replicas,
    async start(count) {
      // Fixed ports: a restarted replica comes back on its port, haproxy's server line stays.
      for (let i = 1; i <= count; i += 1) {
        const port = await freePort();
        replicas.push({ name: `bff${i}`, port, bff: spawn(port) });
      }
      // On an empty schema all of them migrate at once (the migrations' advisory lock serializes them).
      await Promise.all(replicas.map(({ bff }) => bff.waitFor(/listening on/, timeoutMs)));
      lb = await startHaproxy(replicas.map(({ name, port }) => ({ name, port })), options.haproxy);
      for (const { name } of replicas) await lb.waitForStatus(name, 'UP', timeoutMs);
      return lb;
    },
    async restart(replica) {
      if (!lb) throw new Error('restart() before start()');
      const old = replica.bff;
      const sigterm = performance.now();
      old.child.kill('SIGTERM');
      // /ready answers 503 during SHUTDOWN_DELAY_MS: haproxy takes the replica out while it still serves.
      const [downMs, [exitCode, exitMs]] = await Promise.all([
        lb.waitForStatus(replica.name, 'DOWN', timeoutMs).then(() => performance.now() - sigterm),
        old.exited.then((code) => [code, performance.now() - sigterm] as const),
      ]);
      const spawned = performance.now();
      replica.bff = spawn(replica.port);
      await replica.bff.waitFor(/listening on/, timeoutMs);
      const listeningMs = performance.now() - spawned;
      await lb.waitForStatus(replica.name, 'UP', timeoutMs);
      const up = performance.now();
      return { exitCode, downMs, exitMs, listeningMs, upMs: up - spawned, outOfRotationMs: up - sigterm };
    },
    async stop() {
      await lb?.stop();
      for (const { bff } of replicas) if (bff.child.exitCode === null) bff.child.kill('SIGKILL');
      await Promise.all(replicas.map(({ bff }) => bff.exited));
    },
  };
}
