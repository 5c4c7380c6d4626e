// Reconciliation off the event loop (issue 18): `node bench/reconLoop.mjs` (needs `pnpm build` and
// PostgreSQL). Docs: docs/BENCHMARKS.md "Reconciliation off the event loop".
//
// Seeds a fresh schema with tenant "default": --transactions bank lines and --entries ledger
// entries of the labelled data set of --seed (as bench/recon.mjs), and serves the built app
// (createApp from dist, a ReconRunner with its engine thread) in this process on 127.0.0.1.
// Measures this process's event-loop delay (perf_hooks.monitorEventLoopDelay, sampled every
// 1 ms, so an idle loop shows about 1 ms) and the latency of a GET /health sent every
// --probe-ms, during:
//   1. a full run through the API: POST /v1/accounting/recon/run (202), GET
//      /v1/accounting/recon/runs/{run_id} every 250 ms until succeeded or failed;
//   2. an incremental run after --new-lines new bank lines and as many entries on the last day;
//   3. a run with nothing new;
//   4. for comparison, `reconcile()` of the whole data set called on the event loop, which is
//      what the synchronous route did (its CPU part; the route also read and wrote on the loop).
// Also the heap of this process above its level before the run (sampled every 100 ms). Prints
// Markdown; drops the schema at the end.
//
// Options (defaults in brackets):
//   --transactions N   bank lines [50000]
//   --entries N        ledger entries kept [50000]
//   --seed N           seed of the data set [7]
//   --new-lines N      bank lines (and entries) added before the incremental run [200]
//   --probe-ms N       /health every N ms [20]
//   BENCH_DATABASE_URL (or TEST_DATABASE_URL) [postgres://postgres@127.0.0.1:5432/test]

import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readOptions } from './lib/options.mjs';
import { BENCH_DATABASE_URL, connect, createMigratedSchema } from './lib/pgSchema.mjs';

const dist = (path) => new URL(`../packages/${path}`, import.meta.url).href;
const { createPgDb, loadMigrations } = await import(dist('data-pg/dist/index.js'));
const { ReconRunner, generateLabelledDataset, reconcile, rulesForTenant } = await import(dist('service-core-accounting/dist/index.js'));
const { createApp, createLogger, createMetrics, loadConfig } = await import(dist('bff-accounting/dist/app.js'));
const { createReadinessCheck } = await import(dist('bff-accounting/dist/readiness.js'));

const spec = {
  transactions: { kind: 'int', default: 50_000, min: 1 },
  entries: { kind: 'int', default: 50_000, min: 1 },
  seed: { kind: 'int', default: 7, min: 0 },
  'new-lines': { kind: 'int', default: 200, min: 1 },
  'probe-ms': { kind: 'int', default: 20, min: 1 },
};
const read = readOptions(spec, fileURLToPath(import.meta.url));
const options = { ...read, newLines: read['new-lines'], probeMs: read['probe-ms'] };
const TENANT = 'default';
const SOURCE = 'bank_sbx';
const HEADERS = { 'X-Tenant': TENANT, 'X-User-Role': 'operator', 'Content-Type': 'application/json' };
const log = (line) => process.stderr.write(`${line}\n`);
const ms = (ns) => (ns / 1e6).toFixed(1);
const mib = (bytes) => `${Math.round(bytes / 1024 / 1024)} MiB`;

async function insertUnnest(client, sql, columns, rows) {
  for (let i = 0; i < rows.length; i += 10_000) {
    const chunk = rows.slice(i, i + 10_000);
    await client.query(sql, columns.map((column) => chunk.map((row) => row[column])));
  }
}

async function seed(client, transactions, entries) {
  await insertUnnest(
    client,
    `INSERT INTO external_ledger (tenant, source, external_id, account_id, amount, currency, booked_date, status, description, counterparty, reference)
     SELECT '${TENANT}', '${SOURCE}', u.* FROM unnest($1::text[], $2::text[], $3::numeric[], $4::text[], $5::date[], $6::text[], $7::text[], $8::text[], $9::text[]) AS u`,
    ['id', 'accountId', 'amount', 'currency', 'bookedDate', 'status', 'description', 'counterparty', 'reference'],
    transactions,
  );
  await insertUnnest(
    client,
    `INSERT INTO ledger_entries (tenant, entry_id, amount, currency, entry_date, memo, reference, counterparty)
     SELECT '${TENANT}', u.* FROM unnest($1::text[], $2::numeric[], $3::text[], $4::date[], $5::text[], $6::text[], $7::text[]) AS u`,
    ['id', 'amount', 'currency', 'date', 'memo', 'reference', 'counterparty'],
    entries,
  );
  await client.query('VACUUM (ANALYZE) external_ledger, ledger_entries');
}

function call(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: HEADERS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** Runs `work` while measuring the loop delay, /health latency and this process's heap. */
async function measured(port, work) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const probes = [];
  let failedProbes = 0;
  let probing = true;
  const probeLoop = (async () => {
    while (probing) {
      const started = performance.now();
      // A request held up by a blocked loop may outlive the server's request timeouts.
      await call(port, 'GET', '/health').catch(() => (failedProbes += 1));
      probes.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, options.probeMs));
    }
  })();
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 100);
  histogram.enable();
  // The histogram counts from its first sample on: let it take one before the work starts.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  // A few turns of the loop, so a stall that lasted to the end is sampled too.
  await new Promise((resolve) => setTimeout(resolve, 50));
  histogram.disable();
  clearInterval(sampler);
  probing = false;
  await probeLoop;
  const sorted = [...probes].sort((a, b) => a - b);
  return {
    result,
    seconds,
    loop: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) },
    health: { count: probes.length, failed: failedProbes, p99: percentile(sorted, 99).toFixed(1), max: (sorted.at(-1) ?? 0).toFixed(1) },
    heap: mib(Math.max(0, heapPeak - heapBefore)),
  };
}

async function runThroughApi(port) {
  const accepted = await call(port, 'POST', '/v1/accounting/recon/run', {});
  if (accepted.status !== 202) throw new Error(`POST recon/run answered ${accepted.status}`);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const run = await call(port, 'GET', `/v1/accounting/recon/runs/${accepted.body.run_id}`);
    if (run.body.status === 'succeeded' || run.body.status === 'failed') return run.body;
  }
}

log(`node ${process.version}, ${os.cpus().length} CPU (${os.cpus()[0]?.model ?? 'unknown'}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
/** The data set, made again when needed: the runs through the API are measured without it on this heap, as in the BFF. */
const makeDataset = () => {
  const made = generateLabelledDataset({ seed: options.seed, transactions: options.transactions });
  return { transactions: made.transactions, entries: made.entries.slice(0, options.entries) };
};
const schema = await createMigratedSchema('bench_reconloop', 'bench-reconloop');
const db = createPgDb({ connectionString: BENCH_DATABASE_URL, schema: schema.schema, max: 10 });
let server;
let runner;
try {
  const client = await connect(schema.url, 'bench-reconloop-seed');
  let dataset = makeDataset();
  const entryCount = dataset.entries.length;
  log(`seeding ${options.transactions} bank lines, ${entryCount} ledger entries (seed ${options.seed})`);
  await client.query(`INSERT INTO external_sources (tenant, source, kind, connection_id) VALUES ($1, $2, 'bank_sbx', 'conn')`, [TENANT, SOURCE]);
  await seed(client, dataset.transactions, dataset.entries);
  const lastDay = dataset.transactions.reduce((max, tx) => (tx.bookedDate > max ? tx.bookedDate : max), '0000-00-00');
  const fresh = dataset.transactions.slice(0, options.newLines).map((tx, i) => ({ ...tx, id: `new_${i}`, bookedDate: lastDay }));
  const freshEntries = dataset.entries.slice(0, options.newLines).map((entry, i) => ({ ...entry, id: `new_le_${i}`, date: lastDay }));
  dataset = null;

  const config = loadConfig({ LOG_LEVEL: 'silent', USE_PG: '1', DATABASE_URL: BENCH_DATABASE_URL });
  const logger = createLogger('silent');
  runner = new ReconRunner({ db, rulesFor: (tenant) => rulesForTenant({}, tenant) });
  const lifecycle = { shuttingDown: false };
  const app = createApp({
    config,
    db,
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    readiness: createReadinessCheck(db, await loadMigrations(), lifecycle),
    lifecycle,
    reconRuns: runner,
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = server.address().port;

  const rows = [];
  const row = (label, m, what) =>
    rows.push(`| ${label} | ${m.seconds.toFixed(1)} | ${what} | ${m.loop.p50} / ${m.loop.p99} / ${m.loop.max} | ${m.health.count}${m.health.failed ? ` (${m.health.failed} failed)` : ''}: ${m.health.p99} / ${m.health.max} | ${m.heap} |`);
  const summaryOf = (run) => `${run.status}, ${run.mode}: ${run.summary?.transactions ?? '?'} lines, ${run.summary?.entries ?? '?'} entries`;

  log('1. full run through the API');
  const full = await measured(port, () => runThroughApi(port));
  row('full run via the API (202, poll)', full, summaryOf(full.result));

  log(`2. ${options.newLines} new lines and entries, incremental run`);
  await seed(client, fresh, freshEntries);
  const incremental = await measured(port, () => runThroughApi(port));
  row(`incremental run after ${options.newLines} new lines`, incremental, summaryOf(incremental.result));

  log('3. a run with nothing new');
  const idle = await measured(port, () => runThroughApi(port));
  row('run with nothing new', idle, summaryOf(idle.result));
  await client.end();

  log('4. reconcile() of the whole data set on the event loop (the synchronous route)');
  dataset = makeDataset();
  const inline = await measured(port, async () => reconcile(dataset));
  row('`reconcile()` on the event loop (before)', inline, `${inline.result.length} outcomes`);

  process.stdout.write(
    `\n${options.transactions.toLocaleString('en-US')} bank lines x ${entryCount.toLocaleString('en-US')} ledger entries, seed ${options.seed}, ` +
      `PostgreSQL, /health every ${options.probeMs} ms; load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n\n` +
      `| what | s | run | event-loop delay p50 / p99 / max (ms) | /health probes: p99 / max (ms) | heap above start |\n` +
      `| --- | --- | --- | --- | --- | --- |\n${rows.join('\n')}\n`,
  );
} finally {
  await runner?.stop();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  await db.close();
  await schema.drop();
}
