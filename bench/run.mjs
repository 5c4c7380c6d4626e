// HTTP overhead benchmark of the BFF's middleware stack: `pnpm bench` (needs `pnpm build`).
//
// Starts one server process per variant (bench/servers.mjs) pinned to one core, and drives
// them in interleaved rounds with autocannon (bench/load.mjs) pinned to the other core; each
// round runs every variant once, in an order rotated per round (bare full stack, full stack
// bare, ...). Before each run it waits for other processes on the machine to go quiet, and
// repeats a run they disturbed. Prints a table and the ratios to the baseline (bare), then
// times /metrics rendering with every label set populated. Raw results go to bench/results/.
// Docs: docs/BENCHMARKS.md.
//
// Options (flag or environment variable; defaults in brackets):
//   --rounds N             BENCH_ROUNDS            measured rounds per variant [5]; 0 = only
//                                                  the /metrics timing (e.g. --variants full)
//   --duration S           BENCH_DURATION          seconds per measured run [10]
//   --warmup S             BENCH_WARMUP            seconds of warm-up per variant, not recorded [5]
//   --connections N        BENCH_CONNECTIONS       concurrent connections [10]
//   --pipelining N         BENCH_PIPELINING        requests in flight per connection [1]
//   --variants a,b         BENCH_VARIANTS          variants, the first is the baseline
//                                                  [bare,full,stack,bare-plain]; see bench/servers.mjs
//   --log-dest pipe|devnull BENCH_LOG_DEST         server stdout: a pipe drained by this process,
//                                                  or /dev/null [pipe]
//   --metrics-iterations N BENCH_METRICS_ITERATIONS registry.metrics() timings [500]; 0 = skip
//   --server-core N / --load-core N                cores for the servers / autocannon [1 / 0]
//   --quiet-threshold P    BENCH_QUIET_THRESHOLD   other processes (tests, builds) may use at most P %
//                                                  of a core before and during a run [10]
//   --quiet-wait S         BENCH_QUIET_WAIT        seconds to wait for that before a run [60], at
//                                                  most 600 s in all; then runs go ahead, flagged
//   --retries N            BENCH_RETRIES           runs disturbed by other processes are repeated
//                                                  up to N times, then kept and flagged [2]
//   --cpu-prof                                     diagnosis: V8 CPU profile of every server, written
//                                                  to bench/results/profiles/ (read with
//                                                  `node bench/profile.mjs <file>`); slows the servers
//   BENCH_DATABASE_URL (or TEST_DATABASE_URL)      PostgreSQL for the app variants
//                                                  [postgres://postgres@127.0.0.1:5432/test]

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const BENCH_PATH = '/v1/accounting/os/sources';
const BENCH_HEADERS = { 'X-Tenant': 'default', 'X-User-Role': 'admin' };
/** Variants built with createApp() (they set the body the others answer with). */
const isAppVariant = (variant) => variant === 'full' || variant.startsWith('full-');

// ---------------------------------------------------------------------------------------------
// Options

function parseFlags() {
  try {
    // `pnpm bench -- --rounds 3` passes the `--` through.
    return parseArgs({
      args: process.argv.slice(2).filter((arg) => arg !== '--'),
      options: {
        rounds: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        connections: { type: 'string' },
        pipelining: { type: 'string' },
        variants: { type: 'string' },
        'log-dest': { type: 'string' },
        'metrics-iterations': { type: 'string' },
        'server-core': { type: 'string' },
        'load-core': { type: 'string' },
        'cpu-prof': { type: 'boolean' },
        'quiet-threshold': { type: 'string' },
        'quiet-wait': { type: 'string' },
        retries: { type: 'string' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`bench: ${err.message}; see --help\n`);
    process.exit(2);
  }
}
const flags = parseFlags();
if (flags.help) {
  process.stdout.write(readFileSync(here('./run.mjs'), 'utf8').split('\n\n')[0].replace(/^\/\/ ?/gm, '') + '\n');
  process.exit(0);
}

function intOption(flag, env, fallback, min) {
  const raw = flags[flag] ?? process.env[env];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) fail(`--${flag} / ${env} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function fail(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const options = {
  rounds: intOption('rounds', 'BENCH_ROUNDS', 5, 0),
  durationSeconds: intOption('duration', 'BENCH_DURATION', 10, 1),
  warmupSeconds: intOption('warmup', 'BENCH_WARMUP', 5, 0),
  connections: intOption('connections', 'BENCH_CONNECTIONS', 10, 1),
  pipelining: intOption('pipelining', 'BENCH_PIPELINING', 1, 1),
  variants: (flags.variants ?? process.env.BENCH_VARIANTS ?? 'bare,full,stack,bare-plain').split(',').map((v) => v.trim()).filter(Boolean),
  logDest: flags['log-dest'] ?? process.env.BENCH_LOG_DEST ?? 'pipe',
  metricsIterations: intOption('metrics-iterations', 'BENCH_METRICS_ITERATIONS', 500, 0),
  serverCore: intOption('server-core', 'BENCH_SERVER_CORE', 1, 0),
  loadCore: intOption('load-core', 'BENCH_LOAD_CORE', 0, 0),
  cpuProfile: flags['cpu-prof'] ?? false,
  quietThresholdPercent: intOption('quiet-threshold', 'BENCH_QUIET_THRESHOLD', 10, 1),
  quietWaitSeconds: intOption('quiet-wait', 'BENCH_QUIET_WAIT', 60, 0),
  retries: intOption('retries', 'BENCH_RETRIES', 2, 0),
  databaseUrl:
    process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
};
if (!['pipe', 'devnull'].includes(options.logDest)) fail(`--log-dest must be pipe or devnull, got "${options.logDest}"`);
if (options.serverCore === options.loadCore) fail('--server-core and --load-core must differ');
if (new Set(options.variants).size !== options.variants.length) fail('a variant is listed twice');

// ---------------------------------------------------------------------------------------------
// Preconditions: taskset, two cores, a built dist

/** Which code was measured: the commit, whether the tree had changes, when dist was built. */
function codeVersion() {
  const git = (...args) => {
    try {
      return execFileSync('git', args, { cwd: here('..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  return {
    commit: git('rev-parse', 'HEAD'),
    uncommittedChanges: (git('status', '--porcelain', '--', 'packages') ?? '').split('\n').filter(Boolean).length,
    distBuiltAt: statSync(here('../packages/bff-accounting/dist/app.js')).mtime.toISOString(),
  };
}

function which(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
if (!which('taskset')) fail('taskset (util-linux) is required to pin processes to cores: apt-get install util-linux');
const cores = os.availableParallelism();
if (Math.max(options.serverCore, options.loadCore) >= cores) fail(`needs cores ${options.serverCore} and ${options.loadCore}; this machine has ${cores}`);
for (const built of ['packages/bff-accounting/dist/app.js', 'packages/data-pg/dist/index.js']) {
  if (!existsSync(here(`../${built}`))) fail(`${built} is missing: run "pnpm run build" first`);
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

// The harness (it drains the servers' logs) and autocannon share the load core; every thread
// of this process, current and future, goes there.
execFileSync('taskset', ['-a', '-p', '-c', String(options.loadCore), String(process.pid)], { stdio: 'ignore' });

// ---------------------------------------------------------------------------------------------
// Bounded run: a deadline, and cleanup on every exit path

/** All waiting for other processes to go quiet, over the whole run, stays within this. */
const QUIET_BUDGET_SECONDS = 600;
let quietSpentSeconds = 0;
// Worst case: every run repeated, the whole quiet budget spent, start-up and /metrics timing.
const runSeconds = (options.durationSeconds + 5) * (options.retries + 1);
const deadlineMs =
  (options.variants.length * (options.warmupSeconds + 5 + options.rounds * runSeconds) + QUIET_BUDGET_SECONDS + 300) * 1_000;
const servers = new Map();
/** The load generator running now, if any. */
let loadChild;
/** Measured runs so far (written out even when the run is cut short). */
const runs = [];
let schema;
let cleaningUp;

async function cleanup() {
  cleaningUp ??= (async () => {
    loadChild?.kill('SIGKILL');
    await Promise.all([...servers.values()].map((server) => server.stop()));
    if (schema) await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  })();
  return cleaningUp;
}

const deadline = setTimeout(() => {
  process.stderr.write(`bench: still running after ${Math.round(deadlineMs / 1000)} s; stopping\n`);
  void cleanup()
    .then(() => writeResults({ incomplete: `stopped at the ${Math.round(deadlineMs / 1000)} s deadline`, runs }))
    .finally(() => process.exit(1));
}, deadlineMs);
deadline.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}

async function adminQuery(sql) {
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function nextMessage(child, type) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message?.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code) => {
      child.off('message', onMessage);
      reject(new Error(`server exited (code ${code}) before sending "${type}"`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Starts `variant` pinned to the server core; resolves once it listens. */
async function startServer(variant, body) {
  const devNull = options.logDest === 'devnull' ? openSync('/dev/null', 'w') : undefined;
  const profiling = options.cpuProfile
    ? ['--cpu-prof', '--cpu-prof-dir', here('./results/profiles'), '--cpu-prof-name', `${variant.replace(/[^A-Za-z0-9+-]/g, '_')}.${Date.now()}.cpuprofile`]
    : [];
  const child = spawn(
    'taskset',
    ['-c', String(options.serverCore), process.execPath, ...profiling, here('./servers.mjs'), variant],
    {
      stdio: ['ignore', devNull ?? 'pipe', 'inherit', 'ipc'],
      env: {
        ...process.env,
        BENCH_DATABASE_URL: options.databaseUrl,
        BENCH_SCHEMA: schema,
        ...(body === undefined ? {} : { BENCH_BODY: body }),
        NODE_ENV: 'production',
      },
    },
  );
  if (devNull !== undefined) closeSync(devNull);
  const logs = { bytes: 0, lines: 0 };
  child.stdout?.on('data', (chunk) => {
    logs.bytes += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) logs.lines++;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const server = {
    variant,
    child,
    logs,
    port: undefined,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
  servers.set(variant, server);
  const ready = await withTimeout(nextMessage(child, 'ready'), 60_000, `starting ${variant}`);
  server.port = ready.port;
  return server;
}

/** One autocannon run against `server`, from the load core. */
function runLoad(server, durationSeconds) {
  const spec = {
    url: `http://127.0.0.1:${server.port}${BENCH_PATH}`,
    durationSeconds,
    connections: options.connections,
    pipelining: options.pipelining,
    headers: BENCH_HEADERS,
  };
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', String(options.loadCore), process.execPath, here('./load.mjs'), JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    loadChild = child;
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), (durationSeconds + 30) * 1_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      loadChild = undefined;
      if (code !== 0) reject(new Error(`load generator exited with code ${code}`));
      else resolve({ ...JSON.parse(out), pid: child.pid });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc

function statFields(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function processCpuSeconds(pid) {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

const PF_KTHREAD = 0x00200000;

/**
 * CPU seconds of every user-space process now running (kernel threads left out), with
 * whether it is a PostgreSQL process: the full app's route queries the database, so
 * PostgreSQL working during its runs is part of the measurement, not a disturbance.
 */
function userProcessesCpu() {
  const cpu = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[6]) & PF_KTHREAD) continue;
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      cpu.set(Number(name), { seconds: (Number(fields[11]) + Number(fields[12])) / CLK_TCK, postgres: command === 'postgres' });
    } catch {
      // exited while we looked
    }
  }
  return cpu;
}

/** The harness, its servers and `extra`: everything else on the machine is someone else's. */
function ownPids(extra = []) {
  return new Set([process.pid, ...[...servers.values()].map((server) => server.child.pid), ...extra]);
}

/**
 * CPU used between two snapshots by PostgreSQL and by every other process that is not ours
 * (tests, builds, editors), in % of one core. Processes that started and exited in between
 * are missed: lower bounds.
 */
function foreignCpuPercent(before, after, wallSeconds, own) {
  let postgres = 0;
  let other = 0;
  for (const [pid, { seconds, postgres: isPostgres }] of after) {
    if (own.has(pid)) continue;
    const used = seconds - (before.get(pid)?.seconds ?? 0);
    if (isPostgres) postgres += used;
    else other += used;
  }
  return { postgres: (postgres / wallSeconds) * 100, other: (other / wallSeconds) * 100 };
}

/**
 * Waits until other processes use less than --quiet-threshold % of a core, for at most
 * --quiet-wait seconds and what is left of the run's quiet budget.
 */
async function waitForQuiet() {
  const limit = Math.min(options.quietWaitSeconds, QUIET_BUDGET_SECONDS - quietSpentSeconds);
  const started = performance.now();
  let warned = false;
  for (;;) {
    const before = userProcessesCpu();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const foreign = foreignCpuPercent(before, userProcessesCpu(), 1, ownPids());
    const other = foreign.other + foreign.postgres;
    const waited = (performance.now() - started) / 1_000;
    if (other < options.quietThresholdPercent || waited >= limit) {
      quietSpentSeconds += waited;
      return { waitedSeconds: waited, otherCpuPercent: other };
    }
    if (!warned) log(`bench: other processes use ${other.toFixed(0)}% of a core; waiting up to ${Math.round(limit)} s for quiet`);
    warned = true;
  }
}

function coreTimes() {
  const times = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+) (.*)$/.exec(line);
    if (!match) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = match[2].trim().split(/\s+/).map(Number);
    times[match[1]] = { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
  }
  return times;
}

function corePercent(before, after, core) {
  const b = before[core];
  const a = after[core];
  const total = a.busy + a.idle + a.steal - (b.busy + b.idle + b.steal);
  return {
    busy: total ? ((a.busy - b.busy) / total) * 100 : 0,
    steal: total ? ((a.steal - b.steal) / total) * 100 : 0,
  };
}

/** The app variant's database calls so far (null for variants without a database). */
async function dbCalls(server) {
  if (!isAppVariant(server.variant)) return null;
  server.child.send({ type: 'db-calls' });
  return (await withTimeout(nextMessage(server.child, 'db-calls'), 10_000, 'counting db calls')).count;
}

/** One measured run, repeated (up to --retries times) when other processes disturbed it. */
async function measuredRun(server, round) {
  let run;
  for (let attempt = 0; attempt <= options.retries; attempt++) {
    const quiet = await waitForQuiet();
    run = { ...(await measureOnce(server, round)), attempt, quietWaitSeconds: quiet.waitedSeconds };
    if (!run.disturbed) break;
    const again = attempt < options.retries && quietSpentSeconds < QUIET_BUDGET_SECONDS;
    log(`bench: round ${round} ${server.variant}: other processes used ${fixed(run.otherCpuPercent + (isAppVariant(server.variant) ? 0 : run.postgresCpuPercent), 0)}% of a core during the run${again ? '; running it again' : '; keeping it, flagged'}`);
    if (!again) break;
  }
  return run;
}

async function measureOnce(server, round) {
  const pid = server.child.pid;
  const othersBefore = userProcessesCpu();
  const dbCallsBefore = await dbCalls(server);
  const cpuBefore = processCpuSeconds(pid);
  const coresBefore = coreTimes();
  const linesBefore = server.logs.lines;
  const started = performance.now();
  const load = await runLoad(server, options.durationSeconds);
  const wallSeconds = (performance.now() - started) / 1_000;
  const coresAfter = coreTimes();
  const serverCpu = processCpuSeconds(pid) - cpuBefore;
  const foreign = foreignCpuPercent(othersBefore, userProcessesCpu(), wallSeconds, ownPids([load.pid]));
  const dbCallsAfter = await dbCalls(server);
  const answered = Object.values(load.statusCounts).reduce((a, b) => a + b, 0);
  const serverCore = corePercent(coresBefore, coresAfter, options.serverCore);
  const loadCore = corePercent(coresBefore, coresAfter, options.loadCore);
  return {
    variant: server.variant,
    round,
    requestsPerSecond: load.requestsPerSecond,
    latencyMs: load.latencyMs,
    statusCounts: load.statusCounts,
    errors: load.errors,
    timeouts: load.timeouts,
    // The server process's CPU over the run (autocannon start-up included: a lower bound).
    serverCpuPercent: (serverCpu / wallSeconds) * 100,
    loadGeneratorCpuPercent: load.loadGeneratorCpuPercent,
    serverCoreBusyPercent: serverCore.busy,
    loadCoreBusyPercent: loadCore.busy,
    stealPercent: Math.max(serverCore.steal, loadCore.steal),
    otherCpuPercent: foreign.other,
    postgresCpuPercent: foreign.postgres,
    // PostgreSQL counts as a disturbance only for variants that do not query it.
    disturbed:
      foreign.other + (isAppVariant(server.variant) ? 0 : foreign.postgres) >= options.quietThresholdPercent,
    logLinesPerRequest: options.logDest === 'pipe' && answered ? (server.logs.lines - linesBefore) / answered : null,
    dbCallsPerRequest: dbCallsBefore === null || !answered ? null : (dbCallsAfter - dbCallsBefore) / answered,
    autocannon: { requestsAverage: load.autocannonRequestsAverage, latencyMs: load.autocannonLatencyMs },
  };
}

// ---------------------------------------------------------------------------------------------
// /metrics with every label set populated

const ROLE = (role, tenant = 'default') => ({ 'X-Tenant': tenant, 'X-User-Role': role });
const JSON_BODY = { 'Content-Type': 'application/json' };
/** A spread of routes, methods and outcomes, so every label set a real pod sees exists. */
const POPULATE = [
  ['GET', '/health', {}],
  ['HEAD', '/health', {}],
  ['GET', '/ready', {}],
  ['GET', '/metrics', {}],
  ['GET', BENCH_PATH, ROLE('admin')],
  ['HEAD', BENCH_PATH, ROLE('viewer')],
  ['PUT', `${BENCH_PATH}/bank_sbx`, { ...ROLE('admin', 'pilot-a'), ...JSON_BODY }, '{"kind":"bank_sbx","connection_id":"conn_pilot_a"}'],
  ['PUT', `${BENCH_PATH}/bank_sbx`, { ...ROLE('admin', 'pilot-a'), ...JSON_BODY }, '{"kind":"other"}'],
  ['GET', `${BENCH_PATH}/bank_sbx`, ROLE('viewer', 'pilot-a')],
  ['GET', `${BENCH_PATH}/missing`, ROLE('viewer')],
  ['GET', '/v1/accounting/audit', ROLE('auditor')],
  ['GET', '/v1/accounting/audit?limit=0', ROLE('auditor')],
  ['GET', '/v1/accounting/audit?unknown=1', ROLE('operator')],
  ['GET', '/v1/accounting/audit', ROLE('viewer')],
  ['GET', '/v1/accounting/audit', { 'X-User-Role': 'admin' }],
  ['GET', '/v1/accounting/audit', ROLE('admin', 'Bad Tenant')],
  ['GET', '/v1/accounting/audit', ROLE('admin', 'not-enabled')],
  ['GET', '/v1/accounting/audit', ROLE('intern')],
  ['POST', '/v1/accounting/audit/manual-review', { ...ROLE('operator'), ...JSON_BODY }, '{"subject_type":"invoice","subject_id":"inv-1","reason":"bench"}'],
  ['POST', '/v1/accounting/audit/manual-review', { ...ROLE('operator'), ...JSON_BODY }, '{"subject_type":""}'],
  ['POST', '/v1/accounting/audit/manual-review', { ...ROLE('operator'), ...JSON_BODY }, '{not json'],
  ['POST', '/v1/accounting/audit/manual-review', { ...ROLE('operator'), ...JSON_BODY }, `{"reason":"${'x'.repeat(1_100_000)}"}`],
  ['POST', '/v1/accounting/audit/manual-review', ROLE('viewer'), '{}'],
  ['PUT', BENCH_PATH, ROLE('admin')],
  ['DELETE', '/v1/accounting/audit', ROLE('admin')],
  ['GET', '/v1/nothing-here', ROLE('admin')],
  ['GET', '/nowhere', {}],
  ['POST', '/nowhere', {}],
  ['DELETE', '/health', {}],
  ['OPTIONS', '/health', {}],
];

/** Back-to-back renders left out of the warm figures: V8 compiles the render path meanwhile. */
const METRICS_WARMUP = 100;

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { n: sorted.length, median: at(50), p99: at(99), max: sorted.at(-1) };
}

async function timeMetrics(server) {
  const othersBefore = userProcessesCpu();
  const started = performance.now();
  const base = `http://127.0.0.1:${server.port}`;
  const statuses = {};
  for (let pass = 0; pass < 3; pass++) {
    for (const [method, path, headers, body] of POPULATE) {
      const res = await fetch(base + path, { method, headers, body });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  }
  const spacedIterations = Math.min(20, options.metricsIterations);
  server.child.send({ type: 'time-metrics', iterations: options.metricsIterations, spacedIterations });
  const inProcess = await withTimeout(nextMessage(server.child, 'metrics-timing'), 120_000, 'timing registry.metrics()');
  if (inProcess.error) throw new Error(inProcess.error);

  const overHttp = [];
  for (let i = 0; i < Math.min(200, options.metricsIterations); i++) {
    const requested = performance.now();
    const res = await fetch(`${base}/metrics`);
    await res.text();
    overHttp.push(performance.now() - requested);
  }
  const foreign = foreignCpuPercent(othersBefore, userProcessesCpu(), (performance.now() - started) / 1_000, ownPids());
  return {
    variant: server.variant,
    // Other processes' CPU while timing (PostgreSQL included: the app's sync metrics query it
    // once a second at most).
    otherCpuPercent: foreign.other,
    postgresCpuPercent: foreign.postgres,
    disturbed: foreign.other >= options.quietThresholdPercent,
    populateStatuses: statuses,
    bodyBytes: inProcess.bytes,
    seriesLines: inProcess.seriesLines,
    httpLabelSets: inProcess.httpLabelSets.length,
    httpLabelSetList: inProcess.httpLabelSets,
    registryMetricsMs: percentiles(inProcess.samples),
    // The same renders without the first METRICS_WARMUP (V8 still compiling the render path).
    registryMetricsWarmMs: percentiles(inProcess.samples.slice(METRICS_WARMUP)),
    registryMetricsSpacedMs: percentiles(inProcess.spaced),
    perMetricGetMs: inProcess.perMetric,
    getMetricsOverHttpMs: percentiles(overHttp),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const median = (values) => {
  const sorted = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fixed = (value, digits) => (value === null || value === undefined ? '-' : value.toFixed(digits));
const pad = (text, width) => String(text).padStart(width);
const padEnd = (text, width) => String(text).padEnd(width);

/** Throughput of `variant` over `baseline`, per round (each paired with the baseline's run of the same round). */
function pairedThroughputRatios(runs, variant, baseline) {
  return runs
    .filter((run) => run.variant === variant)
    .map((run) => run.requestsPerSecond / runs.find((r) => r.variant === baseline && r.round === run.round).requestsPerSecond);
}

function summarize(runs, baseline) {
  const rows = [];
  for (const variant of options.variants) {
    const own = runs.filter((run) => run.variant === variant);
    // Ratios are paired by round (same minute, same machine state), then the median is taken.
    const ratios = own.map((run) => {
      const base = runs.find((r) => r.variant === baseline && r.round === run.round);
      return {
        throughput: run.requestsPerSecond / base.requestsPerSecond,
        p50: run.latencyMs.p50 / base.latencyMs.p50,
        p99: run.latencyMs.p99 / base.latencyMs.p99,
      };
    });
    rows.push({
      variant,
      requestsPerSecond: median(own.map((r) => r.requestsPerSecond)),
      p50Ms: median(own.map((r) => r.latencyMs.p50)),
      p99Ms: median(own.map((r) => r.latencyMs.p99)),
      serverCpuPercent: median(own.map((r) => r.serverCpuPercent)),
      loadGeneratorCpuPercent: median(own.map((r) => r.loadGeneratorCpuPercent)),
      throughputRatio: median(ratios.map((r) => r.throughput)),
      throughputRatioRange: [Math.min(...ratios.map((r) => r.throughput)), Math.max(...ratios.map((r) => r.throughput))],
      p50Ratio: median(ratios.map((r) => r.p50)),
      p99Ratio: median(ratios.map((r) => r.p99)),
      // Server CPU time per request, in microseconds: the cost the middleware adds.
      serverMicrosPerRequest: median(own.map((r) => (r.serverCpuPercent / 100 / r.requestsPerSecond) * 1e6)),
    });
  }
  return rows;
}

function printRuns(runs) {
  const out = [];
  out.push(
    `${padEnd('variant', 28)} ${pad('round', 5)} ${pad('req/s', 8)} ${pad('p50 ms', 7)} ${pad('p99 ms', 7)} ${pad('srv cpu%', 8)} ${pad('gen cpu%', 8)} ${pad('steal%', 6)} ${pad('other%', 6)} ${pad('pg%', 4)} ${pad('non2xx', 6)} ${pad('log/req', 7)} ${pad('db/req', 6)}`,
  );
  for (const run of runs) {
    const non2xx = Object.entries(run.statusCounts).filter(([code]) => code < 200 || code >= 300).reduce((a, [, n]) => a + n, 0);
    out.push(
      `${padEnd(run.variant, 28)} ${pad(run.round, 5)} ${pad(fixed(run.requestsPerSecond, 0), 8)} ${pad(fixed(run.latencyMs.p50, 3), 7)} ${pad(fixed(run.latencyMs.p99, 3), 7)} ${pad(fixed(run.serverCpuPercent, 0), 8)} ${pad(fixed(run.loadGeneratorCpuPercent, 0), 8)} ${pad(fixed(run.stealPercent, 1), 6)} ${pad(`${fixed(run.otherCpuPercent, 0)}${run.disturbed ? '!' : ''}`, 6)} ${pad(fixed(run.postgresCpuPercent, 0), 4)} ${pad(non2xx + run.errors, 6)} ${pad(fixed(run.logLinesPerRequest, 2), 7)} ${pad(fixed(run.dbCallsPerRequest, 2), 6)}`,
    );
  }
  return out.join('\n');
}

function printSummary(rows, baseline, runs) {
  const out = [];
  out.push(
    `${padEnd('variant', 28)} ${pad('req/s', 8)} ${pad('p50 ms', 7)} ${pad('p99 ms', 7)} ${pad('us cpu/req', 10)} ${pad('thr ratio', 9)} ${pad('(min-max)', 11)} ${pad('p50 ratio', 9)} ${pad('p99 ratio', 9)}`,
  );
  for (const row of rows) {
    out.push(
      `${padEnd(row.variant, 28)} ${pad(fixed(row.requestsPerSecond, 0), 8)} ${pad(fixed(row.p50Ms, 3), 7)} ${pad(fixed(row.p99Ms, 3), 7)} ${pad(fixed(row.serverMicrosPerRequest, 1), 10)} ${pad(fixed(row.throughputRatio, 3), 9)} ${pad(`${fixed(row.throughputRatioRange[0], 2)}-${fixed(row.throughputRatioRange[1], 2)}`, 11)} ${pad(fixed(row.p50Ratio, 2), 9)} ${pad(fixed(row.p99Ratio, 2), 9)}`,
    );
  }
  out.push(`(medians across ${options.rounds} rounds; ratios = variant / ${baseline} in the same round, median of the per-round ratios)`);
  const disturbed = runs.filter((run) => run.disturbed).length;
  if (disturbed > 0) out.push(`WARNING: ${disturbed} of ${runs.length} runs were disturbed by other processes (other% column, marked "!"); re-run on a quiet machine`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

const log = (line) => process.stdout.write(`${line}\n`);

/** The benchmarked request's answer; it must be a 200 with a JSON body for tenant "default". */
async function answerOf(server) {
  const res = await fetch(`http://127.0.0.1:${server.port}${BENCH_PATH}`, { headers: BENCH_HEADERS });
  const body = await res.text();
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (res.status !== 200 || parsed?.tenant !== 'default') {
    throw new Error(`${server.variant} answered ${res.status} ${body.slice(0, 200)} to GET ${BENCH_PATH}; expected 200 {"tenant":"default",...}`);
  }
  return body;
}

async function main() {
  const baseline = options.variants[0];
  const machine = {
    nproc: cores,
    kernel: os.release(),
    cpuModel: /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown',
    node: process.version,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverageAtStart: os.loadavg(),
  };
  const code = codeVersion();
  Object.assign(report, { machine, code, baseline, options: { ...options, databaseUrl: undefined } });
  log(`bench: ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}; servers on core ${options.serverCore}, autocannon on core ${options.loadCore}`);
  log(`bench: code ${code.commit?.slice(0, 12) ?? 'unknown'} with ${code.uncommittedChanges} changed files under packages/, dist built ${code.distBuiltAt}`);
  log(`bench: variants ${options.variants.join(' | ')} (baseline ${baseline}); ${options.rounds} rounds x ${options.durationSeconds} s after ${options.warmupSeconds} s warm-up; ${options.connections} connections, pipelining ${options.pipelining}; server logs to ${options.logDest === 'pipe' ? 'a pipe drained by the harness' : '/dev/null'}`);

  schema = `bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${schema}`);

  // App variants first: their answer is the body the others must answer with, byte for byte.
  const appFirst = [...options.variants].sort((a, b) => Number(isAppVariant(b)) - Number(isAppVariant(a)));
  let body;
  for (const variant of appFirst) {
    const server = await startServer(variant, body);
    const answer = await answerOf(server);
    body ??= answer;
    if (answer !== body) throw new Error(`${variant} answered ${answer.slice(0, 200)}; the others answered ${body.slice(0, 200)}`);
  }
  log(`bench: every variant answers GET ${BENCH_PATH} with 200 ${body.length > 120 ? `${body.slice(0, 120)}...` : body}`);
  if (options.warmupSeconds > 0 && options.rounds > 0) {
    for (const variant of options.variants) {
      log(`bench: warm-up ${variant} (${options.warmupSeconds} s)`);
      await runLoad(servers.get(variant), options.warmupSeconds);
    }
  }

  for (let round = 1; round <= options.rounds; round++) {
    // Rotate the order each round, so no variant always runs first (or right after another).
    const order = options.variants.map((_, i) => options.variants[(i + round - 1) % options.variants.length]);
    for (const variant of order) {
      const run = await measuredRun(servers.get(variant), round);
      runs.push(run);
      log(`bench: round ${round}/${options.rounds} ${variant}: ${fixed(run.requestsPerSecond, 0)} req/s, p50 ${fixed(run.latencyMs.p50, 3)} ms, p99 ${fixed(run.latencyMs.p99, 3)} ms, server cpu ${fixed(run.serverCpuPercent, 0)}%`);
    }
  }
  runs.sort((a, b) => options.variants.indexOf(a.variant) - options.variants.indexOf(b.variant) || a.round - b.round);

  const rows = options.rounds > 0 ? summarize(runs, baseline) : [];
  if (options.rounds > 0) {
    log('');
    log(printRuns(runs));
    log('');
    log(printSummary(rows, baseline, runs));
  }

  const metricsTimings = [];
  if (options.metricsIterations > 0) {
    for (const server of servers.values()) {
      if (!isAppVariant(server.variant)) continue;
      await waitForQuiet();
      const timing = await timeMetrics(server);
      metricsTimings.push(timing);
      log('');
      log(
        `bench: /metrics on ${timing.variant}: ${timing.seriesLines} series lines (${timing.httpLabelSets} method/route/code label sets), ${Math.round(timing.bodyBytes / 1024)} KiB; other processes used ${fixed(timing.otherCpuPercent, 0)}% of a core meanwhile${timing.disturbed ? ' (DISTURBED: re-run on a quiet machine)' : ''}`,
      );
      log(
        `bench:   registry.metrics() in-process x${timing.registryMetricsMs.n}: median ${fixed(timing.registryMetricsMs.median, 3)} ms, p99 ${fixed(timing.registryMetricsMs.p99, 3)} ms, max ${fixed(timing.registryMetricsMs.max, 3)} ms (target <= 5 ms)`,
      );
      if (timing.registryMetricsWarmMs.n > 0) {
        log(
          `bench:   the same without the first ${METRICS_WARMUP} (JIT warm-up) x${timing.registryMetricsWarmMs.n}: median ${fixed(timing.registryMetricsWarmMs.median, 3)} ms, p99 ${fixed(timing.registryMetricsWarmMs.p99, 3)} ms, max ${fixed(timing.registryMetricsWarmMs.max, 3)} ms`,
        );
      }
      log(
        `bench:   registry.metrics() spaced 1.1 s apart like scrapes x${timing.registryMetricsSpacedMs.n}: median ${fixed(timing.registryMetricsSpacedMs.median, 3)} ms, max ${fixed(timing.registryMetricsSpacedMs.max, 3)} ms (target <= 5 ms)`,
      );
      log(`bench:   slowest metrics, get() alone (median / p99 ms): ${timing.perMetricGetMs.slice(0, 5).map((m) => `${m.name} ${fixed(m.median, 3)} / ${fixed(m.p99, 3)}`).join(', ')}`);
      log(
        `bench:   GET /metrics over HTTP x${timing.getMetricsOverHttpMs.n}: median ${fixed(timing.getMetricsOverHttpMs.median, 3)} ms, p99 ${fixed(timing.getMetricsOverHttpMs.p99, 3)} ms, max ${fixed(timing.getMetricsOverHttpMs.max, 3)} ms`,
      );
    }
  }

  if (baseline === 'bare') {
    log('');
    const stack = rows.find((r) => r.variant === 'stack');
    if (stack && rows.some((r) => r.variant === 'bare-plain')) {
      // The target's baseline (docs/BENCHMARKS.md, "Which baseline the target is read against").
      const ratio = median(pairedThroughputRatios(runs, 'stack', 'bare-plain'));
      log(`bench: stack/bare-plain throughput ratio ${fixed(ratio, 3)} (target >= 0.75; bare-plain = a bare Express 5 app as app.listen() serves it): ${ratio >= 0.75 ? 'MET' : 'MISSED'}`);
    }
    for (const row of [stack, rows.find((r) => r.variant === 'full')].filter(Boolean)) {
      log(`bench: ${row.variant}/bare throughput ratio ${fixed(row.throughputRatio, 3)} (like for like: the bare app on the BFF's server classes; reported, not the target)`);
    }
    if (rows.some((r) => r.variant === 'full')) {
      const perRequest = median(runs.filter((r) => r.variant === 'full').map((r) => r.dbCallsPerRequest));
      if (perRequest) log(`bench: note: the full app's route made ${fixed(perRequest, 2)} database calls per request; "stack" is the same middleware on a handler without I/O`);
    }
  }

  writeResults({ summary: rows, runs, metricsTimings });
}

/** What the results file says about the run besides the measurements. */
const report = {};

/** Writes the raw results to bench/results/<time>.json. */
function writeResults(results) {
  mkdirSync(here('./results'), { recursive: true });
  const file = here(`./results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = { ...report.machine, loadAverageAtEnd: os.loadavg() };
  writeFileSync(file, `${JSON.stringify({ ...report, machine, ...results }, null, 2)}\n`);
  log(`bench: raw results in ${file}`);
}

try {
  await main();
  await cleanup();
  clearTimeout(deadline);
  process.exit(0);
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  await cleanup();
  process.exit(1);
}
