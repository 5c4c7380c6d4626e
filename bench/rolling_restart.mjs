// Rolling restart behind haproxy (issue 18): `node --import tsx bench/rolling_restart.mjs` (needs
// `pnpm build`, PostgreSQL and Debian's haproxy: scripts/install_test_deps.sh). The scenario of
// test/multiReplica.test.ts (test/support/rollingRestart.ts, test/support/haproxy.ts), with figures.
//
// Migrates a fresh schema, starts --replicas built BFFs on it (USE_PG=1, fixed loopback ports,
// OS_TENANT_ALLOWLIST_JSON=["default"], SHUTDOWN_DELAY_MS=--delay-ms, SHUTDOWN_GRACE_MS=--grace-ms,
// DB_POOL_MAX=5) behind haproxy (round robin, GET /ready checked every
// --inter-ms, DOWN after --fall failures, UP after --rise passes; retries on another server as
// --retry-on says). --clients keep-alive clients then send, one request after another with
// --think-ms between, GET /v1/accounting/audit?limit=20, GET /v1/accounting/os/sources and
// POST /v1/accounting/audit/manual-review with a fresh Idempotency-Key, in turn. After
// --settle seconds the replicas are restarted one at a time, --rounds times over: SIGTERM,
// wait for exit, start a new process on the same port, wait until haproxy has it UP; then
// --settle seconds more. Prints the requests answered, failed at the connection level, 5xx and
// other non-2xx, latency, haproxy's retries and redispatches, whether every acknowledged review
// is in audit_events, and per restart how long haproxy took to see the replica DOWN, the old
// process to exit, and the new one to be UP (healthy) again. Drops the schema at the end.
//
// Options (flag or environment variable; defaults in brackets):
//   --replicas N       [3]
//   --clients N        concurrent keep-alive clients [16]
//   --think-ms N       pause between a client's requests [5]
//   --rounds N         restarts of every replica, one after another [2]
//   --settle S         seconds of load before the first and after the last restart [5]
//   --delay-ms N       SHUTDOWN_DELAY_MS of the replicas [3000]
//   --grace-ms N       SHUTDOWN_GRACE_MS [10000]
//   --inter-ms N / --fall N / --rise N   haproxy health checks [500 / 2 / 2]
//   --retry-on TEXT    haproxy retry-on [conn-failure empty-response response-timeout]; "none"
//                      shows what the replicas' drain alone achieves
//   --json PATH        also write the raw results there
//   BENCH_DATABASE_URL (or TEST_DATABASE_URL)  [postgres://postgres@127.0.0.1:5432/test]

import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { haproxyBinary } from '../test/support/haproxy.ts';
import { BFF_ENTRY } from '../test/support/process.ts';
import { replicasBehindHaproxy, startLoad } from '../test/support/rollingRestart.ts';
import { machineInfo } from './lib/machine.mjs';
import { fail, log, markdownTable, ms, readOptions, thousands } from './lib/options.mjs';
import { connect, createMigratedSchema } from './lib/pgSchema.mjs';

const options = readOptions(
  {
    replicas: { kind: 'int', default: 3, min: 2 },
    clients: { kind: 'int', default: 16, min: 1 },
    'think-ms': { kind: 'int', default: 5 },
    rounds: { kind: 'int', default: 2, min: 1 },
    settle: { kind: 'number', default: 5 },
    'delay-ms': { kind: 'int', default: 3000 },
    'grace-ms': { kind: 'int', default: 10000 },
    'inter-ms': { kind: 'int', default: 500, min: 100 },
    fall: { kind: 'int', default: 2, min: 1 },
    rise: { kind: 'int', default: 2, min: 1 },
    'retry-on': { kind: 'string', default: 'conn-failure empty-response response-timeout' },
    json: { kind: 'string' },
  },
  fileURLToPath(import.meta.url),
);

if (!existsSync(BFF_ENTRY)) fail(`${BFF_ENTRY} is missing: run "pnpm build" first`);
let haproxy;
try {
  haproxy = haproxyBinary();
} catch (err) {
  fail(err.message);
}

const cleanups = [];
async function cleanUp() {
  while (cleanups.length > 0) await cleanups.pop()().catch((err) => log(`clean-up: ${err.message}`));
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping the load, the replicas and haproxy, dropping the schema`);
    void cleanUp().finally(() => process.exit(130));
  });
}

function percentile(sorted, p) {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// ---------------------------------------------------------------------------------------------
// The run

async function main() {
  const appName = 'bench-rolling';
  const schema = await createMigratedSchema('bench_rolling', appName);
  cleanups.push(() => schema.drop().then(() => log(`dropped schema ${schema.schema}`)));
  const client = await connect(undefined, `${appName}-check`);
  cleanups.push(() => client.end());

  const cluster = replicasBehindHaproxy({
    databaseUrl: schema.url,
    env: {
      DB_POOL_MAX: '5',
      OS_TENANT_ALLOWLIST_JSON: '["default"]',
      SHUTDOWN_DELAY_MS: String(options['delay-ms']),
      SHUTDOWN_GRACE_MS: String(options['grace-ms']),
    },
    haproxy: { interMs: options['inter-ms'], fall: options.fall, rise: options.rise, retryOn: options['retry-on'] },
  });
  cleanups.push(() => cluster.stop());
  const lb = await cluster.start(options.replicas);
  log(`${options.replicas} replicas UP behind haproxy at ${lb.url}; ${options.clients} clients for ${options.settle} s, then ${options.rounds} rolling restart(s)`);

  const load = startLoad(lb.url, { clients: options.clients, thinkMs: options['think-ms'] });
  const loadStarted = performance.now();
  await sleep(options.settle * 1_000);
  const restarts = [];
  const restartsStarted = performance.now();
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const replica of cluster.replicas) {
      const restart = await cluster.restart(replica);
      restarts.push({ round, replica: replica.name, ...restart });
      log(`round ${round} ${replica.name}: DOWN after ${ms(restart.downMs)} ms, exited (${restart.exitCode}) after ${ms(restart.exitMs)} ms, new one UP after ${ms(restart.upMs)} ms`);
    }
  }
  const restartsMs = performance.now() - restartsStarted;
  await sleep(options.settle * 1_000);
  const outcomes = await load.stop();
  const loadSeconds = (performance.now() - loadStarted) / 1_000;
  const stats = await lb.stats();
  const backend = stats.get('BACKEND');

  const acknowledged = new Set(outcomes.filter((o) => o.op === 'review' && o.status >= 200 && o.status < 300).map((o) => o.key));
  const { rows } = await client.query(
    `SELECT subject_id FROM ${schema.schema}.audit_events WHERE tenant = 'default' AND action = 'manual_review_request'`,
  );
  const stored = new Set(rows.map((row) => row.subject_id));
  const latencies = Float64Array.from(outcomes.filter((o) => o.status !== undefined).map((o) => o.ms)).sort();
  const result = {
    machine: machineInfo((await client.query('SELECT version()')).rows[0].version),
    options,
    loadSeconds,
    restartsSeconds: restartsMs / 1_000,
    requests: outcomes.length,
    requestsPerSecond: outcomes.length / loadSeconds,
    failed: outcomes.filter((o) => o.status === undefined).length,
    status5xx: outcomes.filter((o) => o.status >= 500).length,
    otherNon2xx: outcomes.filter((o) => o.status !== undefined && o.status < 500 && (o.status < 200 || o.status > 299)).length,
    errors: [...new Set(outcomes.filter((o) => o.error).map((o) => o.error))].slice(0, 5),
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies.at(-1) ?? null },
    writesAcknowledged: acknowledged.size,
    writesAcknowledgedMissing: [...acknowledged].filter((key) => !stored.has(key)).length,
    writesStored: stored.size,
    haproxy: {
      retries: backend?.retries,
      redispatches: backend?.redispatches,
      connectionErrors: backend?.connectionErrors,
      responseErrors: backend?.responseErrors,
      responses5xx: stats.get('FRONTEND')?.responses5xx,
    },
    restarts,
  };

  const { machine } = result;
  process.stdout.write(
    [
      `Machine: ${machine.nproc} cores (${machine.cpuModel}), Node ${machine.node}, ${machine.postgres.split(' on ')[0]}; haproxy ${
execFileSync(haproxy, ['-v'], { encoding: 'utf8' }).split('\n')[0].split(' ')[2]}`,
      `Settings: ${options.replicas} replicas, ${options.clients} clients (think ${options['think-ms']} ms), ${options.rounds} round(s) of restarts, ` +
        `SHUTDOWN_DELAY_MS=${options['delay-ms']}, checks inter ${options['inter-ms']} ms fall ${options.fall} rise ${options.rise}, retry-on ${options['retry-on']}`,
      '',
      markdownTable(
        ['requests', 'req/s', 'failed (connection)', '5xx', 'other non-2xx', 'p50 ms', 'p99 ms', 'max ms', 'haproxy retries / redispatches', 'acknowledged writes missing'],
        [[
          thousands(result.requests),
          result.requestsPerSecond.toFixed(0),
          result.failed,
          result.status5xx,
          result.otherNon2xx,
          ms(result.latencyMs.p50),
          ms(result.latencyMs.p99),
          ms(result.latencyMs.max),
          `${result.haproxy.retries} / ${result.haproxy.redispatches}`,
          `${result.writesAcknowledgedMissing} of ${thousands(result.writesAcknowledged)}`,
        ]],
      ),
      '',
      markdownTable(
        ['round', 'replica', 'SIGTERM to LB DOWN ms', 'SIGTERM to exit ms', 'exit code', 'start to listening ms', 'start to LB UP ms', 'out of rotation ms'],
        restarts.map((r) => [r.round, r.replica, ms(r.downMs), ms(r.exitMs), r.exitCode, ms(r.listeningMs), ms(r.upMs), ms(r.outOfRotationMs)]),
      ),
      result.errors.length ? `\nConnection errors seen: ${result.errors.join('; ')}` : '',
      '',
    ].join('\n'),
  );
  if (options.json) writeFileSync(options.json, `${JSON.stringify(result, null, 2)}\n`);
}

try {
  await main();
} finally {
  await cleanUp();
}
