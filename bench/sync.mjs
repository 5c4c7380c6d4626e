// External sync benchmark (issue 4): `node bench/sync.mjs` (needs `pnpm build` and PostgreSQL).
//
// For each size (25,000, 50,000 and 100,000 transactions: one connection of 1,000 a day for
// 25, 50 and 100 days) it starts the project's bank simulator in this process (the same
// createBankSandbox + createBankSandboxApp that startBankSandbox serves, on 127.0.0.1, with a
// fixed clock, today 00:00 UTC, and seed 42, plus a timer on each request), migrates a fresh
// schema (runMigrations from the built data-pg) and runs the real worker once, as the CronJob
// does:
//   node scripts/worker_sync_external.mjs --tenant default
//   (DATABASE_URL=<schema>, BANK_SBX_BASE/TOKEN, BANK_SBX_CONNECTIONS_JSON={"default":"conn_bench"},
//    SYNC_SINCE_DAYS=<days + 2>, SYNC_PAGE_SIZE=500, LOG_LEVEL=info)
// with node --trace-gc, under /usr/bin/time (when present: wall time, CPU, peak RSS from the
// kernel), polling the worker's VmRSS / VmHWM from /proc every 20 ms (RSS against pages done).
// It checks that the worker succeeded and that external_ledger holds exactly the simulator's
// transactions, then reports rows/s, peak RSS, the heap still live after each full GC (what
// "flat in the number of pages" is judged on: V8 lets garbage pile up between full GCs, so RSS
// drifts with its heap sizing), and per page: the simulator's time to answer and the worker's
// time between an answer and its next request (parse, validate, upsert, commit). Every size
// runs --repeat times, each time into a fresh schema (the first, full sync of a source), then
// once more with the old generation capped (NODE_OPTIONS=--max-old-space-size=64: full GCs
// often, so RSS follows the live heap); a run during which other processes used more than
// --quiet-threshold % of a core is repeated once.
// Prints Markdown tables (stdout) and progress (stderr); drops the schemas at the end.
//
// Options (flag or environment variable; defaults in brackets):
//   --sizes a,b,c        BENCH_SYNC_SIZES   transactions [25000,50000,100000]
//   --per-day N                             transactions a day [1000]
//   --page-size N        BENCH_SYNC_PAGE    SYNC_PAGE_SIZE [500]
//   --repeat N           BENCH_SYNC_REPEAT  runs per size [3]
//   --worker-core N                         pin the worker to a core (default: not pinned)
//   --worker-env K=V,...                    more environment for the worker
//   --capped-heap-mb N                      then every size once more with
//                                           NODE_OPTIONS=--max-old-space-size=N [64]; 0 = skip
//   --quiet-threshold P / --quiet-wait S    wait before each run until other processes use
//                                           less than P % of a core, at most S s [15 / 30]
//   --json PATH                             also write the raw results there
//   BENCH_DATABASE_URL (or TEST_DATABASE_URL)  [postgres://postgres@127.0.0.1:5432/test]

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coreBusyPercent, coreTimes, cpuBetween, machineInfo, pinned, processCpuSeconds, snapshotProcesses, waitForQuiet } from './lib/machine.mjs';
import { REPO_ROOT } from './lib/nodeProcess.mjs';
import { fail, log, markdownTable, ms, readOptions, thousands } from './lib/options.mjs';
import { backendPids, BENCH_DATABASE_URL, connect, createMigratedSchema } from './lib/pgSchema.mjs';

const options = readOptions(
  {
    sizes: { kind: 'list', env: 'BENCH_SYNC_SIZES', default: ['25000', '50000', '100000'] },
    'per-day': { kind: 'int', default: 1000, min: 1 },
    'page-size': { kind: 'int', env: 'BENCH_SYNC_PAGE', default: 500, min: 1 },
    repeat: { kind: 'int', env: 'BENCH_SYNC_REPEAT', default: 3, min: 1 },
    'worker-core': { kind: 'int' },
    'worker-env': { kind: 'list', default: [] },
    'capped-heap-mb': { kind: 'int', default: 64 },
    'quiet-threshold': { kind: 'int', default: 15, min: 1 },
    'quiet-wait': { kind: 'int', default: 30 },
    json: { kind: 'string' },
  },
  fileURLToPath(import.meta.url),
);
const sizes = options.sizes.map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < options['per-day'])) fail('--sizes must be integers >= --per-day');
if (options['worker-env'].some((pair) => !/^[A-Z_][A-Z0-9_]*=/.test(pair))) fail('--worker-env takes KEY=value pairs');
if (sizes.some((n) => n / options['per-day'] > 363)) fail('--sizes / --per-day must stay within 363 days (SYNC_SINCE_DAYS is at most 365)');

const WORKER = `${REPO_ROOT}scripts/worker_sync_external.mjs`;
const WORKER_DIST = `${REPO_ROOT}packages/bff-accounting/dist/worker/main.js`;
if (!existsSync(WORKER_DIST)) fail(`${WORKER_DIST} is missing: run "pnpm build" first`);
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const TOKEN = `bench-${randomBytes(8).toString('hex')}`;
const CONNECTION = 'conn_bench';
const TARGET_SECONDS_PER_100K = 10;

const { createBankSandbox, createBankSandboxApp } = await import(new URL('../packages/bank-sandbox-sim/dist/index.js', import.meta.url).href);

const cleanups = [];
async function cleanUp() {
  while (cleanups.length > 0) await cleanups.pop()().catch((err) => log(`clean-up: ${err.message}`));
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping the worker and the simulator, dropping the schemas`);
    void cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// The simulator, with the time it takes to answer each page

/** The bank simulator on 127.0.0.1 (as startBankSandbox serves it), timing each contract request. */
async function startSimulator(size) {
  // A fixed clock: the same data on every run of the day. The worker's start_date comes from
  // the real clock, so SYNC_SINCE_DAYS reaches back past the first generated day.
  const now = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);
  const days = Math.ceil(size / options['per-day']);
  const generated = performance.now();
  const sandbox = createBankSandbox({ seed: 42, now, connections: [{ id: CONNECTION, days, perDay: options['per-day'] }] });
  const generateMs = performance.now() - generated;
  const app = createBankSandboxApp({ sandbox, token: TOKEN, onUnexpectedError: (err) => log(`simulator error: ${err}`) });
  const requests = [];
  const server = createServer((req, res) => {
    const entry = { path: req.url, arrival: performance.now(), finish: undefined, bytes: 0, status: undefined };
    if (req.url?.startsWith('/v1/transactions/sync')) requests.push(entry);
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.write = (chunk, ...rest) => ((entry.bytes += chunk?.length ?? 0), write(chunk, ...rest));
    res.end = (chunk, ...rest) => ((entry.bytes += typeof chunk === 'function' ? 0 : (chunk?.length ?? 0)), end(chunk, ...rest));
    res.on('finish', () => {
      entry.finish = performance.now();
      entry.status = res.statusCode;
    });
    app(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    days,
    generateMs,
    transactionCount: sandbox.listConnections()[0].transaction_count,
    requests,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

// ---------------------------------------------------------------------------------------------
// The worker, its memory and CPU

function readStatus(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** The node process: the spawned one, or its child when /usr/bin/time runs it. */
function nodePid(spawnedPid) {
  if (!GNU_TIME) return spawnedPid;
  try {
    const children = readFileSync(`/proc/${spawnedPid}/task/${spawnedPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.length ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

async function runWorker(schema, simulator, appName, client, extraEnv) {
  const timeDir = mkdtempSync(join(tmpdir(), 'bench-sync-'));
  cleanups.push(async () => rmSync(timeDir, { recursive: true, force: true }));
  const timeFile = join(timeDir, 'time');
  // --trace-gc: one line per collection on stdout, read below for the heap live after each full GC.
  const nodeArgs = ['--trace-gc', WORKER, '--tenant', 'default'];
  const [command, args] = pinned(
    options['worker-core'],
    GNU_TIME ?? process.execPath,
    GNU_TIME ? ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, ...nodeArgs] : nodeArgs,
  );
  const env = {
    PATH: process.env.PATH ?? '',
    DATABASE_URL: schema.url,
    BANK_SBX_BASE: simulator.url,
    BANK_SBX_TOKEN: TOKEN,
    BANK_SBX_CONNECTIONS_JSON: JSON.stringify({ default: CONNECTION }),
    SYNC_SINCE_DAYS: String(simulator.days + 2),
    SYNC_PAGE_SIZE: String(options['page-size']),
    LOG_LEVEL: 'info',
    ...Object.fromEntries(options['worker-env'].map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
    ...extraEnv,
  };
  const started = performance.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.on('close', (code) => resolve({ code, at: performance.now() })));

  // Memory (every 20 ms) and the worker's PostgreSQL backends (every 250 ms) while it runs.
  const samples = [];
  const backends = new Map();
  let pid;
  let running = true;
  void exited.then(() => (running = false));
  let lastBackendPoll = 0;
  while (running) {
    pid ??= nodePid(child.pid);
    const at = performance.now();
    if (pid) {
      const status = readStatus(pid);
      if (status) samples.push({ ms: at - started, pages: simulator.requests.filter((r) => r.finish).length, ...status });
    }
    if (at - lastBackendPoll > 250) {
      lastBackendPoll = at;
      for (const backend of await backendPids(client, appName).catch(() => [])) {
        const seconds = processCpuSeconds(backend);
        if (seconds !== undefined) backends.set(backend, seconds);
      }
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20))]);
  }
  const { code, at: exitedAt } = await exited;
  const wallSeconds = (exitedAt - started) / 1_000;
  let time;
  if (GNU_TIME && existsSync(timeFile)) {
    const [elapsed, user, sys, maxRssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
    time = { elapsed, userSeconds: user, systemSeconds: sys, maxRssKb };
  }
  const logLines = stdout.split('\n').filter(Boolean).map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      return { msg: line };
    }
  });
  return { code, wallSeconds, startedAt: started, exitedAt, time, samples, backendCpuSeconds: [...backends.values()].reduce((a, b) => a + b, 0), logLines, stderr };
}

// ---------------------------------------------------------------------------------------------

const round = (value, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

function percentiles(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : null);
  return { count: sorted.length, sum: sorted.reduce((a, b) => a + b, 0), p50: at(50), p95: at(95), max: at(100) };
}

async function runOnce(size, attempt, series) {
  const appName = `bench-sync-${randomBytes(3).toString('hex')}`;
  const schema = await createMigratedSchema('bench_sync', appName);
  cleanups.push(() => schema.drop());
  const client = await connect(BENCH_DATABASE_URL, `${appName}-bench`);
  cleanups.push(() => client.end());
  const simulator = await startSimulator(size);
  cleanups.push(() => simulator.close());

  const own = () => new Set([process.pid]);
  const quiet = await waitForQuiet({
    ownPids: own,
    thresholdPercent: options['quiet-threshold'],
    maxWaitSeconds: options['quiet-wait'],
    onWait: (other) => log(`  other processes use ${other.toFixed(0)} % of a core; waiting up to ${options['quiet-wait']} s for quiet`),
  });
  const benchCpuBefore = process.cpuUsage();
  const before = snapshotProcesses();
  const coresBefore = coreTimes();
  const worker = await runWorker(schema, simulator, appName, client, series.env);
  const cores = coreBusyPercent(coresBefore, coreTimes());
  const after = snapshotProcesses();
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const cpu = cpuBetween(before, after, worker.wallSeconds, new Set([process.pid, ...(await backendPids(client, appName))]));
  // The worker and its backends are gone by the second snapshot: what the cores were busy with
  // beyond them, this process and PostgreSQL's auxiliary processes was someone else's.
  const oursSeconds = (benchCpu.user + benchCpu.system) / 1e6 + (worker.time ? worker.time.userSeconds + worker.time.systemSeconds : 0) + worker.backendCpuSeconds;
  const foreignPercent = worker.time
    ? Math.max(0, Math.round((cores.reduce((a, b) => a + b, 0) - (oursSeconds / worker.wallSeconds) * 100 - cpu.pgAuxPercent) * 10) / 10)
    : cpu.otherPercent;

  // Correctness: the worker succeeded and stored exactly the simulator's transactions.
  await client.query(`SET search_path = ${schema.schema}, public`);
  const { rows: stored } = await client.query(
    `SELECT count(*)::int AS rows, count(*) FILTER (WHERE removed_at IS NULL)::int AS live, count(DISTINCT external_id)::int AS distinct_ids
     FROM external_ledger WHERE tenant = 'default' AND source = 'bank_sbx'`,
  );
  const { rows: runs } = await client.query(
    `SELECT outcome, pages, rows_added, error_code FROM external_sync_runs WHERE tenant = 'default' AND source = 'bank_sbx' ORDER BY id`,
  );
  const succeeded = worker.logLines.find((line) => line.msg === 'sync succeeded');
  const problems = [];
  if (worker.code !== 0) problems.push(`worker exited with ${worker.code}: ${worker.stderr.slice(0, 500)} ${worker.logLines.filter((l) => l.level >= 40).map((l) => l.msg).join('; ')}`);
  if (!succeeded) problems.push('no "sync succeeded" log line');
  if (stored[0].live !== simulator.transactionCount) problems.push(`external_ledger holds ${stored[0].live} live rows, the simulator ${simulator.transactionCount}`);
  if (runs.length !== 1 || runs[0].outcome !== 'succeeded') problems.push(`sync runs: ${JSON.stringify(runs)}`);
  if (problems.length) throw new Error(`size ${size}: ${problems.join('; ')}`);

  // Per page: the simulator's answer time, and the worker's time from an answer to its next
  // request (or, after the last page, to its exit: last commit, run record, shutdown).
  const pages = simulator.requests.filter((r) => r.status === 200);
  const bankMs = pages.map((r) => r.finish - r.arrival);
  const workerMs = pages.map((r, i) => (i + 1 < pages.length ? pages[i + 1].arrival : worker.exitedAt) - r.finish);
  const firstArrival = pages[0].arrival;
  const samples = worker.samples;
  const rssAt = (fraction) => {
    const wanted = Math.ceil(pages.length * fraction);
    return samples.find((s) => s.pages >= wanted)?.rssKb ?? samples.at(-1)?.rssKb;
  };
  const peakKb = worker.time?.maxRssKb ?? Math.max(...samples.map((s) => s.hwmKb));

  const result = {
    size,
    series: series.name,
    attempt,
    transactions: simulator.transactionCount,
    stored: stored[0],
    pages: pages.length,
    pageSize: options['page-size'],
    sinceDays: simulator.days + 2,
    simulatorGenerateMs: round(simulator.generateMs),
    wallSeconds: round(worker.wallSeconds, 2),
    startupSeconds: round((firstArrival - worker.startedAt) / 1_000, 2),
    syncSeconds: round((worker.exitedAt - firstArrival) / 1_000, 2),
    rowsPerSecond: Math.round(simulator.transactionCount / worker.wallSeconds),
    syncRowsPerSecond: Math.round(simulator.transactionCount / ((worker.exitedAt - firstArrival) / 1_000)),
    workerLog: succeeded ? { pages: succeeded.pages, added: succeeded.added, modified: succeeded.modified } : undefined,
    peakRssMiB: round(peakKb / 1024),
    peakRssSource: worker.time ? '/usr/bin/time (ru_maxrss)' : '/proc VmHWM',
    rssMiB: { at10: round(rssAt(0.1) / 1024), at50: round(rssAt(0.5) / 1024), atEnd: round(rssAt(1) / 1024) },
    rssByTenthMiB: Array.from({ length: 10 }, (_, i) => round(rssAt((i + 1) / 10) / 1024)),
    rssSamples: samples.length,
    // The heap still in use after each full (mark-compact) collection, in MB (node --trace-gc).
    liveHeapAfterFullGcMB: worker.logLines.flatMap((line) => {
      const match = /Mark-Compact.*? -> ([\d.]+) \(/.exec(line.msg ?? '');
      return match ? [Number(match[1])] : [];
    }),
    workerCpuSeconds: worker.time ? round(worker.time.userSeconds + worker.time.systemSeconds, 2) : undefined,
    pgBackendCpuSeconds: round(worker.backendCpuSeconds, 2),
    simulatorCpuSeconds: round((benchCpu.user + benchCpu.system) / 1e6, 2),
    perPage: {
      bankMs: Object.fromEntries(Object.entries(percentiles(bankMs)).map(([k, v]) => [k, round(v, 2)])),
      workerMs: Object.fromEntries(Object.entries(percentiles(workerMs)).map(([k, v]) => [k, round(v, 2)])),
      responseKiB: round(pages.reduce((sum, r) => sum + r.bytes, 0) / pages.length / 1024),
    },
    cpu: { ...cpu, coreBusyPercent: cores, foreignPercent },
    quietWaitSeconds: quiet.waitedSeconds,
    disturbed: foreignPercent > options['quiet-threshold'],
  };
  await cleanUp();
  return result;
}

function report(machine, allResults) {
  const out = [];
  out.push('External sync benchmark (first sync of one source into an empty schema)');
  out.push(`machine: ${machine.nproc} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.postgres.split(' on ')[0]}; worker ${options['worker-core'] === undefined ? 'not pinned' : `on core ${options['worker-core']}`}, simulator in the benchmark process`);
  out.push('');
  out.push(
    markdownTable(
      ['transactions', 'heap', 'run', 'pages', 'wall s (process)', 'rows/s', 'sync phase s', 'start-up s', 'peak RSS MiB', 'RSS at 10 % / 50 % / end', 'live heap after full GCs MB', 'CPU s worker / PG / simulator', 'page: bank p50 / p95 ms', 'page: worker p50 / p95 ms', 'other CPU %'],
      allResults.map((r) => [
        thousands(r.transactions),
        r.series,
        r.attempt,
        r.pages,
        r.wallSeconds.toFixed(2),
        thousands(r.rowsPerSecond),
        r.syncSeconds.toFixed(2),
        r.startupSeconds.toFixed(2),
        r.peakRssMiB,
        `${r.rssMiB.at10} / ${r.rssMiB.at50} / ${r.rssMiB.atEnd}`,
        r.liveHeapAfterFullGcMB.length ? `${Math.min(...r.liveHeapAfterFullGcMB)}-${Math.max(...r.liveHeapAfterFullGcMB)} (${r.liveHeapAfterFullGcMB.length})` : '–',
        `${r.workerCpuSeconds ?? '?'} / ${r.pgBackendCpuSeconds} / ${r.simulatorCpuSeconds}`,
        `${ms(r.perPage.bankMs.p50)} / ${ms(r.perPage.bankMs.p95)}`,
        `${ms(r.perPage.workerMs.p50)} / ${ms(r.perPage.workerMs.p95)}`,
        `${r.cpu.foreignPercent}${r.disturbed ? '!' : ''}`,
      ]),
    ),
  );
  out.push('');
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  const group = (rs) => {
    const bySize = new Map();
    for (const r of rs) bySize.set(r.transactions, [...(bySize.get(r.transactions) ?? []), r]);
    return bySize;
  };
  const bySize = group(allResults.filter((r) => r.series === 'default'));
  const capped = group(allResults.filter((r) => r.series !== 'default'));
  out.push('Medians per size (default heap)');
  out.push(
    markdownTable(
      ['transactions', 'pages', 'wall s', 'rows/s', 'peak RSS MiB', 'worker time per page ms (p50)', 'bank time per page ms (p50)', 'worker CPU s', 'PG backend CPU s'],
      [...bySize].map(([n, rs]) => [
        thousands(n),
        rs[0].pages,
        median(rs.map((r) => r.wallSeconds)).toFixed(2),
        thousands(median(rs.map((r) => r.rowsPerSecond))),
        median(rs.map((r) => r.peakRssMiB)),
        ms(median(rs.map((r) => r.perPage.workerMs.p50))),
        ms(median(rs.map((r) => r.perPage.bankMs.p50))),
        median(rs.map((r) => r.workerCpuSeconds ?? 0)),
        median(rs.map((r) => r.pgBackendCpuSeconds)),
      ]),
    ),
  );
  out.push('');
  out.push('Targets');
  const largest = Math.max(...bySize.keys());
  const big = bySize.get(largest);
  const wall = median(big.map((r) => r.wallSeconds));
  const scaledTarget = (TARGET_SECONDS_PER_100K * largest) / 100_000;
  out.push(`- ${thousands(largest)} transactions in ${wall.toFixed(2)} s (median of ${big.length}) -> ${wall <= scaledTarget ? 'MET' : 'MISSED'} (target <= ${scaledTarget} s)`);
  // Memory: V8 lets garbage pile up between full collections and sizes its old generation
  // lazily, so the default RSS drifts with its heuristics. "Flat" is judged on the heap still
  // live after full GCs and on RSS with the old generation capped (frequent full GCs).
  out.push(`- peak RSS, default heap (median): ${[...bySize].map(([n, rs]) => `${median(rs.map((r) => r.peakRssMiB))} MiB at ${thousands(n)} (${rs[0].pages} pages)`).join(', ')}`);
  const largestRun = big[0];
  out.push(`- RSS (MiB) of the ${thousands(largest)} default run ${largestRun.attempt} after each tenth of its pages: ${largestRun.rssByTenthMiB.join(', ')}`);
  if (capped.size >= 2) {
    const entries = [...capped].map(([n, rs]) => ({ n, pages: rs[0].pages, rss: rs[0].peakRssMiB, live: Math.max(0, ...rs[0].liveHeapAfterFullGcMB), gcs: rs[0].liveHeapAfterFullGcMB.length }));
    const first = entries[0];
    const last = entries.at(-1);
    const liveGrowth = last.live / first.live;
    const rssGrowth = last.rss / first.rss;
    out.push(`- ${allResults.find((r) => r.series !== 'default').series}: peak RSS ${entries.map((e) => `${e.rss} MiB`).join(', ')}; heap live after full GCs at most ${entries.map((e) => `${e.live} MB (${e.gcs} GCs)`).join(', ')}, for ${entries.map((e) => e.pages).join(' / ')} pages`);
    out.push(
      `- memory in the number of pages (${first.pages} -> ${last.pages}): live heap ${liveGrowth.toFixed(2)}x, capped RSS ${rssGrowth.toFixed(2)}x -> ${liveGrowth <= 1.2 && rssGrowth <= 1.1 ? 'FLAT (MET)' : 'GROWS (MISSED)'} (flat: live heap within 20 %, capped RSS within 10 %)`,
    );
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

const started = performance.now();
const admin = await connect(BENCH_DATABASE_URL, 'bench-sync-admin');
const { rows: version } = await admin.query('SELECT version()');
await admin.end();
const machine = machineInfo(version[0].version);
log(`machine: ${machine.nproc} cores, ${machine.cpuModel}, Node ${machine.node}, ${machine.postgres.split(' on ')[0]}; peak RSS from ${GNU_TIME ?? '/proc VmHWM'}`);

const results = [];
const series = [{ name: 'default', env: {}, runs: options.repeat }];
if (options['capped-heap-mb'] > 0) {
  const env = { NODE_OPTIONS: `--max-old-space-size=${options['capped-heap-mb']}` };
  series.push({ name: `old space <= ${options['capped-heap-mb']} MB`, env, runs: 1 });
}
try {
  for (const one of series) {
    for (let attempt = 1; attempt <= one.runs; attempt++) {
      for (const size of sizes) {
        let r = await runOnce(size, attempt, one);
        if (r.disturbed) {
          log(`  other processes used ${r.cpu.foreignPercent} % of a core during the run: repeating it`);
          r = await runOnce(size, attempt, one);
        }
        results.push(r);
        log(`${thousands(r.transactions)} transactions (${one.name}), run ${attempt}: ${r.wallSeconds} s (${thousands(r.rowsPerSecond)} rows/s), ${r.pages} pages, peak RSS ${r.peakRssMiB} MiB, live heap ${r.liveHeapAfterFullGcMB.join('/') || '–'} MB, worker per page p50 ${ms(r.perPage.workerMs.p50)} ms, bank per page p50 ${ms(r.perPage.bankMs.p50)} ms, other CPU ${r.cpu.foreignPercent} %`);
      }
    }
  }
} catch (err) {
  log(`failed: ${err.stack ?? err}`);
  await cleanUp();
  process.exit(1);
}
await cleanUp();
results.sort((a, b) => (a.series === 'default' ? 0 : 1) - (b.series === 'default' ? 0 : 1) || a.transactions - b.transactions || a.attempt - b.attempt);
process.stdout.write(`${report(machine, results)}\n`);
log(`done in ${Math.round((performance.now() - started) / 1000)} s`);
if (options.json) {
  writeFileSync(options.json, JSON.stringify({ when: new Date().toISOString(), machine, options, results }, null, 2));
  log(`raw results: ${options.json}`);
}
