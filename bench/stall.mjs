// Cheap-route latency under heavy work (issue 18): `node bench/stall.mjs` (needs `pnpm build`
// and PostgreSQL). Docs: docs/BENCHMARKS.md "Cheap-route latency under heavy work".
//
// Seeds a fresh schema: tenant "default" gets --audit-rows audit events
// (bench/lib/auditSeed.mjs, plus 30 % more of two other tenants) and one source without lines;
// each reconciliation scenario gets a tenant of its own (recon-recon, recon-combined) with
// --bank-lines bank lines in external_ledger and --entries ledger entries (the labelled
// reconciliation data set of seed 7, as bench/recon.mjs uses), so each reconciliation is a
// first, full run. Starts the built BFF (USE_PG=1, LOG_LEVEL=info, stdout drained,
// EXPORT_MAX_CONCURRENT = --exports) and drives each of --paths (tenant "default") at --rate
// req/s, open loop (bench/lib/loadgen.mjs, latency from when each request was due):
//   1. idle baseline: --baseline seconds, nothing else running;
//   2. each of --scenarios, after --lead seconds of load: "exports" starts --exports
//      concurrent full-tenant audit exports of "default" (read as fast as they come), "recon"
//      one reconciliation of its tenant (POST /v1/accounting/recon/run; a 202 {run_id} is
//      polled at GET .../recon/runs/{run_id} until succeeded or failed, a 200 is the
//      synchronous run), "combined" both at once; the load runs on until all of it finished.
// os/sources counts a source's lines (about 10 ms of PostgreSQL at 50,000), so "default"'s
// source has none: the route stays cheap. Reports, per path, p50 / p99 / max of the requests
// due while the heavy work ran (from when each was due, and from when it was sent) against the
// baseline, the heavy work's durations, the BFF's event-loop delay (nodejs_eventloop_lag_* of
// its /metrics, read just before and just after) and CPU, and how much CPU other processes
// used meanwhile. Prints Markdown (stdout), progress (stderr), and writes the raw results to
// bench/results/stall-<time>.json. Drops the schema and stops the BFF at the end, also on
// Ctrl-C or at the --deadline. About 4 minutes on a quiet 2-vCPU machine.
//
// Options (flag or environment variable; defaults in brackets):
//   --bank-lines N          bank lines of "default" [50000]
//   --entries N             ledger entries of "default" [50000]
//   --audit-rows N          audit events of "default" [100000]
//   --exports N             concurrent exports, also EXPORT_MAX_CONCURRENT [3]
//   --format F              ndjson or csv [ndjson]
//   --scenarios a,b         heavy work, in this order [exports,recon,combined]
//   --paths a,b             cheap routes [/health,/v1/accounting/os/sources]
//   --rate N                req/s on each path [60]
//   --baseline S            seconds of the idle baseline [15]
//   --lead S                seconds of load before the heavy work starts [3]
//   --deadline S            the whole run stops after this long [1500]
//   --quiet-threshold P     before each phase, wait until other processes (tests, builds) use
//                           less than P % of a core [15] ...
//   --quiet-wait S          ... for at most S seconds [180]; what they used during each phase
//                           is reported either way
//   --bff PATH              BENCH_BFF_ENTRY  [packages/bff-accounting/dist/index.js]
//   --server-core N / --load-core N          pin the BFF (with its worker threads) / the load
//                                            generators to a core (taskset) [not pinned]
//   BENCH_DATABASE_URL (or TEST_DATABASE_URL) [postgres://postgres@127.0.0.1:5432/test]

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { auditSeedSql } from './lib/auditSeed.mjs';
import { coreBusyPercent, coreTimes, cpuBetween, machineInfo, pinned, processCpuSeconds, snapshotProcesses, waitForQuiet } from './lib/machine.mjs';
import { REPO_ROOT, startNode } from './lib/nodeProcess.mjs';
import { fail, log, markdownTable, ms, readOptions, thousands } from './lib/options.mjs';
import { backendPids, BENCH_DATABASE_URL, connect, createMigratedSchema } from './lib/pgSchema.mjs';

const options = readOptions(
  {
    'bank-lines': { kind: 'int', default: 50_000, min: 1 },
    entries: { kind: 'int', default: 50_000, min: 1 },
    'audit-rows': { kind: 'int', default: 100_000, min: 100 },
    exports: { kind: 'int', default: 3, min: 0 },
    format: { kind: 'string', default: 'ndjson' },
    paths: { kind: 'list', default: ['/health', '/v1/accounting/os/sources'] },
    rate: { kind: 'int', default: 60, min: 1 },
    baseline: { kind: 'int', default: 15, min: 1 },
    lead: { kind: 'int', default: 3, min: 0 },
    deadline: { kind: 'int', default: 1500, min: 60 },
    'quiet-threshold': { kind: 'int', default: 15, min: 1 },
    'quiet-wait': { kind: 'int', default: 180, min: 0 },
    bff: { kind: 'string', env: 'BENCH_BFF_ENTRY', default: `${REPO_ROOT}packages/bff-accounting/dist/index.js` },
    scenarios: { kind: 'list', default: ['exports', 'recon', 'combined'] },
    'server-core': { kind: 'int', default: undefined },
    'load-core': { kind: 'int', default: undefined },
  },
  fileURLToPath(import.meta.url),
);
if (!['ndjson', 'csv'].includes(options.format)) fail('--format must be ndjson or csv');
if (options.scenarios.some((work) => !['exports', 'recon', 'combined'].includes(work))) fail('--scenarios must be among exports,recon,combined');
if (!existsSync(options.bff)) fail(`${options.bff} is missing: run "pnpm build" first`);
const serviceCore = `${REPO_ROOT}packages/service-core-accounting/dist/index.js`;
if (!existsSync(serviceCore)) fail(`${serviceCore} is missing: run "pnpm build" first`);
const { generateLabelledDataset } = await import(serviceCore);

const TENANT = 'default';
const SOURCE = 'bank_sbx';
/**
 * Each scenario with a reconciliation reconciles a tenant of its own holding the same data, so
 * each is a first (full) run: a tenant's later runs only redo what changed.
 */
const reconTenant = (work) => `recon-${work}`;
const RECON_TENANTS = options.scenarios.filter((work) => work !== 'exports').map(reconTenant);
const HEADERS = { 'X-Tenant': TENANT, 'X-User-Role': 'admin' };
const P99_TARGET_MS = 50;
const SECRET = randomBytes(32).toString('hex');
const epochNow = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// Clean-up on every exit path, and a deadline

const cleanups = [];
async function cleanUp() {
  while (cleanups.length > 0) await cleanups.pop()().catch((err) => log(`clean-up: ${err.message}`));
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}
const deadline = setTimeout(() => {
  log(`still running after ${options.deadline} s: stopping`);
  void cleanUp().finally(() => process.exit(1));
}, options.deadline * 1_000);
deadline.unref();

// ---------------------------------------------------------------------------------------------
// Seeding

/** Inserts `rows` with one `INSERT ... SELECT FROM unnest(...)` per 10,000. */
async function insertUnnest(client, sql, columns, rows) {
  for (let i = 0; i < rows.length; i += 10_000) {
    const chunk = rows.slice(i, i + 10_000);
    await client.query(sql, columns.map((column) => chunk.map((row) => row[column])));
  }
}

async function seedReconData(client, tenant, dataset, entries) {
  await client.query(`INSERT INTO external_sources (tenant, source, kind, connection_id) VALUES ($1, $2, 'bank_sbx', 'conn_default')`, [tenant, SOURCE]);
  await insertUnnest(
    client,
    `INSERT INTO external_ledger (tenant, source, external_id, account_id, amount, currency, booked_date, status, description, counterparty, reference)
     SELECT '${tenant}', '${SOURCE}', u.* FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[], $5::date[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u
     ON CONFLICT DO NOTHING`,
    ['id', 'accountId', 'amount', 'currency', 'bookedDate', 'status', 'description', 'counterparty', 'reference'],
    dataset.transactions,
  );
  await insertUnnest(
    client,
    `INSERT INTO ledger_entries (tenant, entry_id, amount, currency, entry_date, memo, reference, counterparty)
     SELECT '${tenant}', u.* FROM unnest($1::text[], $2::numeric[], $3::text[], $4::date[], $5::text[], $6::text[], $7::text[]) AS u
     ON CONFLICT DO NOTHING`,
    ['id', 'amount', 'currency', 'date', 'memo', 'reference', 'counterparty'],
    entries,
  );
}

async function seed(client) {
  const dataset = generateLabelledDataset({ seed: 7, transactions: options['bank-lines'] });
  const entries = dataset.entries.slice(0, options.entries);
  // "default" (the cheap routes, the exports) has one source without lines: os/sources counts a
  // source's lines, about 10 ms of PostgreSQL at 50,000, which would not be a cheap route.
  await client.query(`INSERT INTO external_sources (tenant, source, kind, connection_id) VALUES ($1, $2, 'bank_sbx', 'conn_default')`, [TENANT, SOURCE]);
  for (const tenant of RECON_TENANTS) await seedReconData(client, tenant, dataset, entries);
  await client.query(auditSeedSql(options['audit-rows']));
  await client.query('VACUUM (ANALYZE) external_ledger, ledger_entries, audit_events');
  const { rows } = await client.query(
    `SELECT (SELECT count(*) FROM external_ledger WHERE tenant = $2)::int AS bank_lines,
            (SELECT count(*) FROM ledger_entries WHERE tenant = $2)::int AS entries,
            (SELECT count(*) FROM audit_events WHERE tenant = $1)::int AS audit_rows,
            (SELECT count(*) FROM audit_events)::int AS all_audit_rows`,
    [TENANT, RECON_TENANTS[0] ?? TENANT],
  );
  return rows[0];
}

// ---------------------------------------------------------------------------------------------
// The BFF, the load, the heavy work

async function startBff(url) {
  const bff = startNode(options.bff, {
    core: options['server-core'],
    env: {
      USE_PG: '1',
      DATABASE_URL: url,
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      OS_TENANT_ALLOWLIST_JSON: JSON.stringify([TENANT, ...RECON_TENANTS]),
      EXPORT_SIGN_SECRET: SECRET,
      EXPORT_MAX_CONCURRENT: String(Math.max(1, options.exports)),
    },
  });
  cleanups.push(() => bff.stop());
  const { port } = JSON.parse(await bff.waitFor(/listening on/, 60_000));
  return { bff, port };
}

/** One request; resolves with the status, the body (text) and the trailers. */
function call(port, method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'Content-Type': 'application/json' } : {}) } }, (res) => {
      const parts = [];
      res.on('data', (chunk) => parts.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(parts).toString('utf8'), trailers: res.trailers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** The open-loop load on `path`, until stopped (SIGTERM) or `maxSeconds`. */
function startLoad(port, path, maxSeconds) {
  const spec = { mode: 'open', url: `http://127.0.0.1:${port}${path}`, headers: HEADERS, rate: options.rate, durationSeconds: maxSeconds, samples: true };
  const [command, argv] = pinned(options['load-core'], process.execPath, [fileURLToPath(new URL('./lib/loadgen.mjs', import.meta.url)), JSON.stringify(spec)]);
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'], cwd: REPO_ROOT });
  cleanups.push(async () => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const result = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load generator exited with code ${code}`))));
  });
  return { pid: child.pid, stop: () => child.kill('SIGTERM'), result };
}

/**
 * Our processes: this one, the BFF, the load generators and the BFF's PostgreSQL backends. A
 * phase waits for the others to go quiet first, and reports what they used meanwhile.
 */
function createPhases(client, appName, bffPid) {
  const own = new Set([process.pid, bffPid]);
  const refresh = async () => {
    for (const pid of await backendPids(client, appName)) own.add(pid);
  };
  return {
    own,
    bffPid,
    async quiet(name) {
      await refresh();
      const waited = await waitForQuiet({
        ownPids: () => own,
        thresholdPercent: options['quiet-threshold'],
        maxWaitSeconds: options['quiet-wait'],
        onWait: (other) => log(`  ${name}: other processes use ${other} % of a core; waiting up to ${options['quiet-wait']} s for quiet`),
      });
      return { before: snapshotProcesses(), cores: coreTimes(), started: performance.now(), waitedSeconds: waited.waitedSeconds };
    },
    /** CPU of everything else during the phase begun at `mark`, in % of one core. */
    async others(mark) {
      await refresh();
      const wallSeconds = (performance.now() - mark.started) / 1_000;
      const cpu = cpuBetween(mark.before, snapshotProcesses(), wallSeconds, own);
      const busy = coreBusyPercent(mark.cores, coreTimes());
      return { quietWaitSeconds: mark.waitedSeconds, otherPercent: cpu.otherPercent, ownPercent: cpu.ownPercent, coreBusyPercent: busy };
    },
  };
}

/** p50 / p99 / max of sorted `values`. */
function percentiles(values) {
  const sorted = Float64Array.from(values).sort();
  const at = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);
  return { count: sorted.length, p50: at(50), p99: at(99), max: sorted.length ? sorted[sorted.length - 1] : null };
}

/**
 * Latencies of the `samples` ([due epoch ms, from due ms, from sent ms]) due in [from, to):
 * from when each was due (what a client sees), and from when it was sent (without the load
 * generator's own lateness, to tell the BFF's share).
 */
function latencyWindow(samples, from, to) {
  const due = samples.filter(([at]) => at >= from && at < to);
  return { ...percentiles(due.map(([, fromDue]) => fromDue)), fromSent: percentiles(due.map(([, , fromSent]) => fromSent)) };
}

/** The event-loop delay the BFF's default metrics saw since the last scrape (prom-client resets it at each). */
async function eventLoopLag(port) {
  const { text } = await call(port, 'GET', '/metrics', {});
  const value = (name) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]) * 1_000;
  return { p99: value('nodejs_eventloop_lag_p99_seconds'), max: value('nodejs_eventloop_lag_max_seconds') };
}

async function reconcileTenant(port, tenant) {
  const headers = { 'X-Tenant': tenant, 'X-User-Role': 'operator' };
  const started = performance.now();
  const first = await call(port, 'POST', '/v1/accounting/recon/run', { ...headers, 'Idempotency-Key': `stall-${randomBytes(6).toString('hex')}` }, {});
  if (first.status === 200) return { mode: 'synchronous (200)', seconds: (performance.now() - started) / 1_000, status: 200, result: JSON.parse(first.text) };
  if (first.status !== 202) throw new Error(`POST recon/run answered ${first.status}: ${first.text.slice(0, 300)}`);
  const { run_id: runId } = JSON.parse(first.text);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const poll = await call(port, 'GET', `/v1/accounting/recon/runs/${encodeURIComponent(runId)}`, headers);
    const body = JSON.parse(poll.text);
    if (poll.status !== 200) throw new Error(`GET recon/runs/${runId} answered ${poll.status}: ${poll.text.slice(0, 300)}`);
    if (body.status === 'succeeded' || body.status === 'failed') {
      return { mode: 'asynchronous (202, polled)', seconds: (performance.now() - started) / 1_000, status: body.status, result: body };
    }
  }
}

/** One full-tenant export, read as fast as it comes and counted, not kept. */
function exportTenant(port) {
  const started = performance.now();
  const path = `/v1/accounting/exports/audit?format=${options.format}`;
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers: { ...HEADERS, 'X-User-Role': 'auditor' } }, (res) => {
        let bytes = 0;
        let lines = 0;
        let head = '';
        res.on('data', (chunk) => {
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
          if (head.length < 300) head += chunk.toString('utf8', 0, 300);
        });
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            seconds: (performance.now() - started) / 1_000,
            status: res.statusCode,
            bytes,
            // CSV records are CRLF-terminated after a header row; an NDJSON line is one event.
            rows: options.format === 'csv' ? lines - 1 : lines,
            signed: Boolean(res.trailers['x-export-signature']),
            ...(res.statusCode === 200 ? {} : { error: head.slice(0, 300) }),
          }),
        );
      })
      .on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------
// The run

function codeVersion() {
  const git = (...args) => {
    try {
      return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  return { commit: git('rev-parse', '--short', 'HEAD'), uncommittedFiles: (git('status', '--porcelain', '--', 'packages') ?? '').split('\n').filter(Boolean).length };
}

/** One heavy scenario under the load: `work` is 'recon', 'exports' or 'combined'. */
async function heavyScenario(port, phases, work) {
  const mark = await phases.quiet(work);
  const withRecon = work !== 'exports';
  const exportCount = work === 'recon' ? 0 : options.exports;
  log(`${work}: load for ${options.lead} s, then ${[withRecon ? 'one reconciliation' : '', exportCount ? `${exportCount} export(s)` : ''].filter(Boolean).join(' and ')} at once`);
  const loads = options.paths.map((path) => startLoad(port, path, options.deadline));
  for (const load of loads) phases.own.add(load.pid);
  await new Promise((resolve) => setTimeout(resolve, options.lead * 1_000));
  await eventLoopLag(port); // resets the BFF's event-loop delay histogram
  const cpuBefore = processCpuSeconds(phases.bffPid);
  const from = epochNow();
  const started = performance.now();
  const [recon, ...exports] = await Promise.all([
    withRecon ? reconcileTenant(port, reconTenant(work)).then((r) => (log(`  reconciliation done after ${r.seconds.toFixed(1)} s (${r.mode})`), r)) : undefined,
    ...Array.from({ length: exportCount }, (_, i) =>
      exportTenant(port).then((r) => (log(`  export ${i + 1}: ${r.status} after ${r.seconds.toFixed(1)} s, ${thousands(r.rows)} rows`), r)),
    ),
  ]);
  const to = epochNow();
  const seconds = (performance.now() - started) / 1_000;
  const bffCpuSeconds = processCpuSeconds(phases.bffPid) - cpuBefore;
  const eventLoopLagMs = await eventLoopLag(port);
  const machine = await phases.others(mark);
  for (const load of loads) load.stop();
  const loaded = await Promise.all(loads.map((load) => load.result));
  return {
    work,
    seconds,
    bffCpuSeconds,
    eventLoopLagMs,
    machine,
    recon,
    exports,
    routes: options.paths.map((path, i) => ({
      path,
      latency: latencyWindow(loaded[i].samples, from, to),
      statuses: loaded[i].statuses,
      errors: loaded[i].errors,
      shed: loaded[i].shed,
      // Every answer of the window, [ms since the heavy work started, from due, from sent], for a closer look.
      samples: loaded[i].samples.filter(([due]) => due >= from && due < to).map(([due, ...rest]) => [Math.round(due - from), ...rest]),
    })),
  };
}

async function main() {
  const appName = `bench-stall-${randomBytes(3).toString('hex')}`;
  log('creating and migrating a schema');
  const schema = await createMigratedSchema('bench_stall', appName);
  cleanups.push(() => schema.drop().then(() => log(`dropped schema ${schema.schema}`)));
  const client = await connect(BENCH_DATABASE_URL, `${appName}-bench`);
  cleanups.push(() => client.end());
  await client.query(`SET search_path = ${schema.schema}, public`);
  const { rows: version } = await client.query('SELECT version()');

  log(`seeding ${thousands(options['bank-lines'])} bank lines, ${thousands(options.entries)} ledger entries, ${thousands(options['audit-rows'])} audit events`);
  const seeding = performance.now();
  const data = await seed(client);
  log(`  ${JSON.stringify(data)} in ${((performance.now() - seeding) / 1_000).toFixed(1)} s`);

  const { bff, port } = await startBff(schema.url);
  log(`BFF pid ${bff.pid} on 127.0.0.1:${port}`);
  for (const path of options.paths) {
    const check = await call(port, 'GET', path, HEADERS);
    if (check.status !== 200) throw new Error(`${path} answered ${check.status}: ${check.text.slice(0, 300)}`);
  }
  // Warm-up, not recorded.
  await Promise.all(options.paths.map((path) => startLoad(port, path, 3).result));

  const phases = createPhases(client, appName, bff.pid);
  const mark = await phases.quiet('idle baseline');
  log(`idle baseline: ${options.baseline} s at ${options.rate} req/s on ${options.paths.join(', ')}`);
  const baselineLoads = options.paths.map((path) => startLoad(port, path, options.baseline));
  for (const load of baselineLoads) phases.own.add(load.pid);
  const baselineResults = await Promise.all(baselineLoads.map((load) => load.result));
  const idle = {
    machine: await phases.others(mark),
    routes: options.paths.map((path, i) => ({ path, latency: latencyWindow(baselineResults[i].samples, 0, Infinity), statuses: baselineResults[i].statuses })),
  };

  const scenarios = [];
  for (const work of options.scenarios) scenarios.push(await heavyScenario(port, phases, work));

  const machine = machineInfo(version[0].version);
  const results = { when: new Date().toISOString(), code: codeVersion(), machine, options, data, idle, scenarios };
  mkdirSync(`${REPO_ROOT}bench/results`, { recursive: true });
  const file = `${REPO_ROOT}bench/results/stall-${results.when.replace(/[:.]/g, '-')}.json`;
  writeFileSync(file, JSON.stringify(results, null, 2));
  process.stdout.write(`${report(results, file)}\n`);
}

const pin = (core) => (core === undefined ? 'not pinned' : `on core ${core}`);
const latencyCell = (l) => `${ms(l.p50)} / ${ms(l.p99)} / ${ms(l.max)} (${thousands(l.count)})`;
const sentCell = (l) => `${ms(l.fromSent.p50)} / ${ms(l.fromSent.p99)} / ${ms(l.fromSent.max)}`;
const failures = (r) => {
  const non2xx = Object.entries(r.statuses).filter(([status]) => !status.startsWith('2'));
  const errors = Object.entries(r.errors ?? {});
  return [...non2xx, ...errors].map(([what, n]) => `${what}: ${n}`).join(', ') + (r.shed ? ` shed ${r.shed}` : '');
};

function report(results, file) {
  const { code, machine, data, idle, scenarios } = results;
  const out = [];
  out.push(`Cheap-route latency under heavy work — commit ${code.commit}${code.uncommittedFiles ? ` + ${code.uncommittedFiles} uncommitted file(s) under packages/` : ''}`);
  out.push(`machine: ${machine.nproc} vCPU, ${machine.cpuModel}, Node ${machine.node}, ${machine.postgres.split(' on ')[0]}; BFF ${pin(options['server-core'])}, load ${pin(options['load-core'])}`);
  out.push(
    `data: ${thousands(data.audit_rows)} audit events of "${TENANT}" (${thousands(data.all_audit_rows)} in all); ` +
      `${thousands(data.bank_lines)} bank lines and ${thousands(data.entries)} ledger entries in each of ${RECON_TENANTS.join(', ') || '(no reconciliation)'}`,
  );
  out.push('');
  out.push(`Latency of the cheap routes, ${options.rate} req/s each, open loop (ms, from when each request was due; n = requests)`);
  const rows = [];
  for (const r of idle.routes) rows.push(['idle', `GET ${r.path}`, latencyCell(r.latency), sentCell(r.latency), failures(r), `${idle.machine.otherPercent}`]);
  for (const scenario of scenarios) {
    for (const r of scenario.routes) rows.push([scenario.work, `GET ${r.path}`, latencyCell(r.latency), sentCell(r.latency), failures(r), `${scenario.machine.otherPercent}`]);
  }
  out.push(
    markdownTable(['while', 'route', 'p50 / p99 / max (n)', 'from sent: p50 / p99 / max', 'non-2xx / errors', 'other processes, % of a core'], rows),
  );
  out.push('');
  out.push('The heavy work');
  const work = [];
  for (const scenario of scenarios) {
    if (scenario.recon) {
      const r = scenario.recon;
      work.push([scenario.work, `reconciliation ${thousands(data.bank_lines)} x ${thousands(data.entries)}, ${r.mode}`, r.seconds.toFixed(1), `${r.status}, ${JSON.stringify(r.result?.summary?.by_status ?? r.result?.by_status ?? {})}`]);
    }
    for (const [i, e] of scenario.exports.entries()) {
      work.push([scenario.work, `export ${i + 1} (${options.format})`, e.seconds.toFixed(1), `${e.status}, ${thousands(e.rows)} rows, ${(e.bytes / 2 ** 20).toFixed(1)} MiB${e.signed ? ', signed' : ''}${e.error ? ` ${e.error}` : ''}`]);
    }
    work.push([
      scenario.work,
      'all of it',
      scenario.seconds.toFixed(1),
      `BFF CPU ${scenario.bffCpuSeconds.toFixed(1)} s; BFF event-loop delay p99 ${ms(scenario.eventLoopLagMs.p99)} ms, max ${ms(scenario.eventLoopLagMs.max)} ms; cores busy ${scenario.machine.coreBusyPercent.join(' / ')} %`,
    ]);
  }
  out.push(markdownTable(['scenario', 'work', 'duration s', 'result'], work));
  out.push('');
  for (const scenario of scenarios) {
    const worst = Math.max(...scenario.routes.map((r) => r.latency.p99 ?? Infinity));
    out.push(`- ${scenario.work}: worst p99 ${ms(worst)} ms -> ${worst < P99_TARGET_MS ? 'MET' : 'MISSED'} (target: under ${P99_TARGET_MS} ms)`);
  }
  out.push(`Raw results: ${file.replace(REPO_ROOT, '')}`);
  return out.join('\n');
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench/stall: ${err.stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  await cleanUp();
  clearTimeout(deadline);
}
