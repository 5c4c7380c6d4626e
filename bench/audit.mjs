// Audit list benchmark (issue 5): `node bench/audit.mjs` (needs `pnpm build` and PostgreSQL).
//
// For each table size (10,000 and 1,000,000 rows of tenant "default", plus 30 % more rows of
// two other tenants, interleaved) it seeds a fresh schema with one INSERT ... SELECT FROM
// generate_series (bench/lib/auditSeed.mjs), chains the rows (migration 011's legacy step, with the
// development key), VACUUM FULLs and VACUUM ANALYZEs it, starts the built BFF
// (USE_PG=1, LOG_LEVEL=info, stdout drained) pinned to one core and measures
// GET /v1/accounting/audit?limit=50 (X-Tenant: default, X-User-Role: operator) for:
//   first    the first page
//   deep     the page after 90 % of the tenant's rows (after 900,000 of 1,000,000), by cursor
//   search   action=manual_review_request&q=<a counterparty name in 0.1 % of the rows>
//   subject  subject_id=<a bank transaction> (the deep link from a transaction)
// and, SQL only (no load), a search for each of --terms with and without that action filter:
// how often the term occurs, how many statements the repository sends and their cost.
// Per scenario, with the load generator (bench/lib/loadgen.mjs) pinned to the other core:
// warm-up; unloaded latency (1 connection, closed loop); saturation throughput (autocannon,
// 50 connections); then latency at a fixed offered load of 300 req/s (open loop, measured
// from when each request was due), skipped when the saturation throughput is below 80 % of
// the offered rate (the queue, and the latency, would grow for as long as the run lasts).
// It also EXPLAIN ANALYZEs each scenario's SQL exactly as the built data-pg (beside --bff)
// generates it, on the same data. Prints Markdown tables (stdout) and progress
// (stderr); drops the schemas and stops the server at the end, also on Ctrl-C.
//
// Options (flag or environment variable; defaults in brackets):
//   --sizes a,b              BENCH_AUDIT_SIZES     rows of tenant "default" [10000,1000000]
//   --scenarios a,b                                [first,deep,search,subject]
//   --terms a,b              BENCH_AUDIT_TERMS     search terms of the SQL-only sweep
//                                                  [common to absent, see TERMS; "" for none]
//   --rate N                 BENCH_AUDIT_RATE      offered load, req/s [300]
//   --duration S             BENCH_AUDIT_DURATION  seconds at the offered load [20]
//   --connections N                                connections of the saturation run [50]
//   --saturation-duration S                        [10]
//   --unloaded-duration S                          [5]
//   --warmup S                                     [5]
//   --bff PATH               BENCH_BFF_ENTRY       the BFF entry to run
//                                                  [packages/bff-accounting/dist/index.js]
//   --label TEXT                                   names the build in the output [repository build]
//   --db-role app|owner                            the BFF's database role: the application's,
//                                                  bound by row-level security (migration 012),
//                                                  or the superuser that owns the tables [app]
//   --server-core N / --load-core N                [1 / 0] (taskset, when present)
//   --quiet-threshold P                            other processes may use P % of a core [15]
//   --quiet-wait S / --quiet-budget S              wait for quiet before a run at most S, in
//                                                  all at most S [30 / 120]
//   --retries N                                    repeat a run other processes disturbed up to
//                                                  N times (while quiet budget is left) [1]
//   --json PATH                                    also write the raw results there
//   BENCH_DATABASE_URL (or TEST_DATABASE_URL)      [postgres://postgres@127.0.0.1:5432/test]

import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { auditSeedSql, TENANT_MIX } from './lib/auditSeed.mjs';
import { coreBusyPercent, coreTimes, cpuBetween, machineInfo, snapshotProcesses, waitForQuiet } from './lib/machine.mjs';
import { REPO_ROOT, runLoad, startNode } from './lib/nodeProcess.mjs';
import { fail, log, markdownTable, ms, readOptions, thousands } from './lib/options.mjs';
import { backendPids, BENCH_DATABASE_URL, chainAuditEvents, connect, createMigratedSchema, grantAppRole } from './lib/pgSchema.mjs';

const options = readOptions(
  {
    sizes: { kind: 'list', env: 'BENCH_AUDIT_SIZES', default: ['10000', '1000000'] },
    scenarios: { kind: 'list', default: ['first', 'deep', 'search', 'subject'] },
    terms: {
      kind: 'list',
      env: 'BENCH_AUDIT_TERMS',
      // From 30 % of the rows to none (bench/lib/auditSeed.mjs); bank_timeout is common but never
      // in a manual review, the worst case of a filtered search.
      default: ['KRW', 'receipt missing', 'nordwind', 'trading', 'bank_timeout', 'nordwind trading', 'hallasan bakery', 'tx_12345', 'le_4242', 'zz-no-such-term'],
    },
    rate: { kind: 'int', env: 'BENCH_AUDIT_RATE', default: 300, min: 1 },
    duration: { kind: 'int', env: 'BENCH_AUDIT_DURATION', default: 20, min: 1 },
    connections: { kind: 'int', default: 50, min: 1 },
    'saturation-duration': { kind: 'int', default: 10, min: 1 },
    'unloaded-duration': { kind: 'int', default: 5, min: 1 },
    warmup: { kind: 'int', default: 5, min: 0 },
    bff: { kind: 'string', env: 'BENCH_BFF_ENTRY', default: `${REPO_ROOT}packages/bff-accounting/dist/index.js` },
    label: { kind: 'string', default: 'repository build' },
    'db-role': { kind: 'string', default: 'app' },
    'server-core': { kind: 'int', default: 1 },
    'load-core': { kind: 'int', default: 0 },
    'quiet-threshold': { kind: 'int', default: 15, min: 1 },
    'quiet-wait': { kind: 'int', default: 30 },
    'quiet-budget': { kind: 'int', default: 120 },
    retries: { kind: 'int', default: 1 },
    json: { kind: 'string' },
  },
  fileURLToPath(import.meta.url),
);
const sizes = options.sizes.map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 100)) fail('--sizes must be integers >= 100');
const SCENARIOS = ['first', 'deep', 'search', 'subject'];
if (options.scenarios.some((s) => !SCENARIOS.includes(s))) fail(`--scenarios must be among ${SCENARIOS.join(',')}`);
if (!existsSync(options.bff)) fail(`${options.bff} is missing: run "pnpm build" first`);
if (!['app', 'owner'].includes(options['db-role'])) fail('--db-role must be app or owner');

const HEADERS = { 'X-Tenant': 'default', 'X-User-Role': 'operator' };
const LIMIT = 50;
/** A counterparty name (bench/lib/auditSeed.mjs): in 0.1 % of a tenant's rows. */
const SEARCH_TERM = 'nordwind trading';
const DEEP_FRACTION = 0.9;
const DEEP_RATIO_TARGET = 1.2;
const P95_TARGET_MS = 15;
/** The open-loop run is skipped when the saturation throughput is below this share of the rate. */
const FIXED_RATE_MIN_CAPACITY = 0.8;

// The data-pg beside the BFF that runs, so the EXPLAINed SQL is the SQL that build sends.
const dataPg = await import(pathToFileURL(resolve(dirname(options.bff), '../../data-pg/dist/index.js')).href);

// ---------------------------------------------------------------------------------------------
// Clean-up on every exit path

const cleanups = [];
async function cleanUp() {
  while (cleanups.length > 0) {
    const step = cleanups.pop();
    await step().catch((err) => log(`clean-up: ${err.message}`));
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: stopping the server and dropping the schemas`);
    void cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// The SQL the app runs, and where its time goes

/**
 * The statements data-pg's listAuditEvents sends for `query`, in order (run on `client` as they
 * are captured: a search decides its next statement from the rows of the last).
 */
async function appStatements(client, query) {
  const sent = [];
  const capture = {
    async query(text, params = []) {
      sent.push({ text, params });
      return client.query(text, params);
    },
    async exec() {},
  };
  await dataPg.listAuditEvents(capture, 'default', { filter: query.filter, limit: LIMIT, after: query.after });
  return sent;
}

function planSummary(node, depth = 0, out = []) {
  const what = [node['Node Type'], node['Index Name'] ? `on ${node['Index Name']}` : '', node['Parent Relationship'] === 'InitPlan' ? '(init)' : '']
    .filter(Boolean)
    .join(' ');
  out.push(`${'  '.repeat(depth)}${what}: ${node['Actual Total Time']?.toFixed(2)} ms, ${node['Actual Rows']} rows x ${node['Actual Loops']}`);
  for (const child of node.Plans ?? []) planSummary(child, depth + 1, out);
  return out;
}

/** EXPLAIN ANALYZE `runs` times; the median execution time and the last plan. */
async function explain(client, sql, runs = 3) {
  const times = [];
  let plan;
  for (let i = 0; i < runs; i++) {
    const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql.text}`, sql.params);
    plan = rows[0]['QUERY PLAN'][0];
    times.push(plan['Execution Time']);
  }
  times.sort((a, b) => a - b);
  return {
    executionMs: Math.round(times[Math.floor(times.length / 2)] * 1000) / 1000,
    planningMs: Math.round(plan['Planning Time'] * 1000) / 1000,
    plan: planSummary(plan.Plan),
    sharedHitBlocks: plan.Plan['Shared Hit Blocks'],
    sharedReadBlocks: plan.Plan['Shared Read Blocks'],
  };
}

/** EXPLAIN ANALYZE of every statement the app sends for `query`, summed. */
async function explainRequest(client, query) {
  const statements = await appStatements(client, query);
  const explained = [];
  for (const sql of statements) explained.push(await explain(client, sql));
  const sum = (key) => Math.round(explained.reduce((total, e) => total + e[key], 0) * 1000) / 1000;
  return {
    sql: statements.map((sql) => sql.text),
    current: {
      statements: statements.length,
      executionMs: sum('executionMs'),
      planningMs: sum('planningMs'),
      plan: explained.flatMap((e, i) => (statements.length > 1 ? e.plan.map((line) => `#${i + 1} ${line}`) : e.plan)),
      perStatement: explained,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring

let quietSpentSeconds = 0;

async function quiet(ownPids) {
  const maxWaitSeconds = Math.max(0, Math.min(options['quiet-wait'], options['quiet-budget'] - quietSpentSeconds));
  const result = await waitForQuiet({
    ownPids,
    thresholdPercent: options['quiet-threshold'],
    maxWaitSeconds,
    onWait: (other) => log(`  other processes use ${other.toFixed(0)} % of a core; waiting up to ${maxWaitSeconds} s for quiet`),
  });
  quietSpentSeconds += result.waitedSeconds;
  return result;
}

/**
 * Runs one load-generator run and accounts for the CPU meanwhile: the BFF's and its
 * PostgreSQL backends' CPU per request, and how much other processes used (a disturbed run
 * is repeated once).
 */
async function measured(server, loadOptions, { parallel = false } = {}) {
  for (let attempt = 1; ; attempt++) {
    const own = () => new Set([process.pid, server.process.pid, ...server.backends]);
    const waited = await quiet(own);
    server.backends = new Set([...server.backends, ...(await backendPids(server.client, server.appName))]);
    const before = snapshotProcesses();
    const coresBefore = coreTimes();
    const started = performance.now();
    const result = await runLoad({ ...loadOptions, headers: HEADERS }, options['load-core']);
    const wallSeconds = (performance.now() - started) / 1_000;
    const after = snapshotProcesses();
    server.backends = new Set([...server.backends, ...(await backendPids(server.client, server.appName))]);
    const cpu = cpuBetween(before, after, wallSeconds, own());
    const cores = coreBusyPercent(coresBefore, coreTimes());
    const loadgenPercent = Math.round((result.loadgenCpuSeconds / wallSeconds) * 1000) / 10;
    // Busy time nobody we know of used: other processes too short-lived for the snapshots
    // (test workers, compilers), or our own queries' parallel workers (when the plan has them).
    const unaccounted = cores.reduce((a, b) => a + b, 0) - cpu.ownPercent - cpu.pgAuxPercent - cpu.otherPercent - loadgenPercent;
    const foreignPercent = Math.round((cpu.otherPercent + (parallel ? 0 : Math.max(0, unaccounted))) * 10) / 10;
    // Backends that ended during the run are left out (their last CPU reading is unknown).
    const used = (pids) => [...pids].reduce((sum, pid) => sum + (after.has(pid) ? after.get(pid).seconds - (before.get(pid)?.seconds ?? 0) : 0), 0);
    const answered = Math.max(1, result.ok);
    result.cpu = {
      ...cpu,
      loadgenPercent,
      unaccountedPercent: Math.round(unaccounted * 10) / 10,
      foreignPercent,
      coreBusyPercent: cores,
      bffCpuMsPerRequest: Math.round((used([server.process.pid]) / answered) * 1e6) / 1e3,
      pgBackendCpuMsPerRequest: Math.round((used(server.backends) / answered) * 1e6) / 1e3,
    };
    result.quietWaitSeconds = waited.waitedSeconds;
    result.disturbed = foreignPercent > options['quiet-threshold'];
    result.attempt = attempt;
    if (!result.disturbed || attempt > options.retries || quietSpentSeconds >= options['quiet-budget']) return result;
    log(`  other processes used ${foreignPercent} % of a core during the run: repeating it`);
  }
}

async function startServer(url, appName, client) {
  const started = performance.now();
  const bff = startNode(options.bff, {
    core: options['server-core'],
    env: {
      USE_PG: '1',
      DATABASE_URL: url,
      LOG_LEVEL: 'info',
      PORT: '0',
      HOST: '127.0.0.1',
      OS_TENANT_ALLOWLIST_JSON: JSON.stringify(Object.keys(TENANT_MIX)),
    },
  });
  const line = await bff.waitFor(/listening on/);
  const { port } = JSON.parse(line);
  log(`  BFF pid ${bff.pid} listening on 127.0.0.1:${port} after ${Math.round(performance.now() - started)} ms`);
  return { process: bff, port, appName, client, backends: new Set() };
}

/** Waits until the BFF's backends are idle (queued requests of a saturation run finished). */
async function settle(server, maxSeconds = 60) {
  const started = performance.now();
  for (;;) {
    const { rows } = await server.client.query(
      `SELECT count(*)::int AS active FROM pg_stat_activity WHERE application_name = $1 AND state <> 'idle'`,
      [server.appName],
    );
    if (rows[0].active === 0) return (performance.now() - started) / 1_000;
    if ((performance.now() - started) / 1_000 > maxSeconds) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function get(server, path) {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { headers: HEADERS });
  return { status: response.status, body: await response.json() };
}

// ---------------------------------------------------------------------------------------------
// One table size

async function benchSize(size) {
  const appName = `bench-audit-${randomBytes(3).toString('hex')}`;
  log(`size ${thousands(size)}: creating and migrating a schema`);
  const schema = await createMigratedSchema('bench_audit', appName);
  cleanups.push(() => schema.drop().then(() => log(`dropped schema ${schema.schema}`)));
  const client = await connect(BENCH_DATABASE_URL, `${appName}-bench`);
  cleanups.push(() => client.end());
  await client.query(`SET search_path = ${schema.schema}, public`);
  // As on data-pg's connections (pgDb.ts), so the EXPLAINed plans are the app's.
  await client.query('SET jit = off');
  // The tenant's row-level security scope (migration 012), for the whole session: the search's
  // month step (audit_search_months) reads it, and returns nothing without it.
  await client.query(`SELECT set_config('accounting.tenant', 'default', false)`);

  log(`size ${thousands(size)}: seeding (one INSERT ... SELECT FROM generate_series), then VACUUM ANALYZE`);
  let t = performance.now();
  const inserted = await client.query(auditSeedSql(size));
  const insertSeconds = (performance.now() - t) / 1_000;
  // The rows are chained (migration 011) as an application's rows are, then the table is
  // rewritten compact, as rows appended one by one would lie (chaining updated every row).
  t = performance.now();
  log(`size ${thousands(size)}: chaining the seeded rows (the runner's legacy step), then VACUUM FULL`);
  const chained = await chainAuditEvents(schema.schema);
  const chainSeconds = (performance.now() - t) / 1_000;
  await client.query('VACUUM FULL audit_events');
  log(`size ${thousands(size)}: chained ${thousands(chained)} rows in ${chainSeconds.toFixed(1)} s`);
  const serverUrl = options['db-role'] === 'app' ? await grantAppRole(schema.schema, schema.url) : schema.url;
  t = performance.now();
  // VACUUM too, not only ANALYZE: the visibility map and hint bits are then set as on a table
  // autovacuum has seen, and autovacuum does not start on it in the middle of a measurement.
  await client.query('VACUUM (ANALYZE) audit_events');
  const vacuumSeconds = (performance.now() - t) / 1_000;
  const { rows: facts } = await client.query(
    `SELECT count(*) FILTER (WHERE tenant = 'default')::int AS tenant_rows, count(*)::int AS total_rows,
            pg_total_relation_size('audit_events') AS total_bytes, pg_relation_size('audit_events') AS heap_bytes
     FROM audit_events`,
  );
  const depth = Math.round(size * DEEP_FRACTION);
  const { rows: around } = await client.query(
    `SELECT id, (extract(epoch FROM ts) * 1000000)::bigint::text AS ts_micros FROM audit_events
     WHERE tenant = 'default' ORDER BY audit_events.ts DESC, audit_events.id DESC OFFSET $1 LIMIT 2`,
    [depth - 1],
  );
  const { rows: subjectRows } = await client.query(
    `SELECT subject_id FROM audit_events WHERE tenant = 'default' AND action = 'manual_review_request'
     ORDER BY audit_events.ts DESC, audit_events.id DESC LIMIT 1`,
  );
  const subjectId = subjectRows[0].subject_id;
  const { rows: counts } = await client.query(
    `SELECT count(*) FILTER (WHERE (coalesce(subject_id, '') || ' ' || summary) ILIKE $1)::int AS q_rows,
            count(*) FILTER (WHERE (coalesce(subject_id, '') || ' ' || summary) ILIKE $1 AND action = 'manual_review_request')::int AS search_rows,
            count(*) FILTER (WHERE subject_id = $2)::int AS subject_rows
     FROM audit_events WHERE tenant = 'default'`,
    [`%${SEARCH_TERM}%`, subjectId],
  );
  const seed = {
    ...facts[0],
    inserted: inserted.rowCount,
    insertSeconds: Math.round(insertSeconds * 10) / 10,
    vacuumAnalyzeSeconds: Math.round(vacuumSeconds * 10) / 10,
    ...counts[0],
    subjectId,
    depth,
  };
  log(`  ${thousands(seed.total_rows)} rows (${thousands(seed.tenant_rows)} of "default"), ${Math.round(seed.total_bytes / 2 ** 20)} MiB with indexes; insert ${seed.insertSeconds} s, vacuum analyze ${seed.vacuumAnalyzeSeconds} s`);

  const cursor = Buffer.from(JSON.stringify({ t: around[0].ts_micros, i: String(around[0].id) })).toString('base64url');
  const scenarios = {
    first: { path: `/v1/accounting/audit?limit=${LIMIT}`, filter: {}, after: null, expectFirstId: undefined },
    deep: { path: `/v1/accounting/audit?limit=${LIMIT}&cursor=${cursor}`, filter: {}, after: { tsMicros: around[0].ts_micros, id: String(around[0].id) }, expectFirstId: String(around[1].id) },
    search: {
      path: `/v1/accounting/audit?limit=${LIMIT}&action=manual_review_request&q=${encodeURIComponent(SEARCH_TERM)}`,
      filter: { actions: ['manual_review_request'], q: SEARCH_TERM },
      after: null,
    },
    subject: { path: `/v1/accounting/audit?limit=${LIMIT}&subject_id=${encodeURIComponent(subjectId)}`, filter: { subjectId }, after: null },
  };

  log(`size ${thousands(size)}: EXPLAIN ANALYZE of each scenario's SQL`);
  const plans = {};
  for (const name of options.scenarios) {
    plans[name] = await explainRequest(client, scenarios[name]);
    log(`  ${name}: ${plans[name].current.executionMs} ms in ${plans[name].current.statements} statement(s)`);
  }

  const terms = [];
  for (const term of options.terms.filter(Boolean)) {
    const { rows: matching } = await client.query(
      `SELECT count(*)::int AS rows, count(*) FILTER (WHERE action = 'manual_review_request')::int AS filtered_rows
       FROM audit_events WHERE tenant = 'default' AND strpos(lower(coalesce(subject_id, '') || ' ' || summary), lower($1)) > 0`,
      [term],
    );
    const cost = async (filter) => {
      const { statements, executionMs, planningMs } = (await explainRequest(client, { filter, after: null })).current;
      return { statements, executionMs, planningMs };
    };
    terms.push({ term, ...matching[0], all: await cost({ q: term }), filtered: await cost({ q: term, actions: ['manual_review_request'] }) });
    log(`  q=${term}: ${terms.at(-1).all.executionMs} ms, with the action filter ${terms.at(-1).filtered.executionMs} ms`);
  }

  log(`size ${thousands(size)}: starting the BFF (${options.label})`);
  let server = await startServer(serverUrl, appName, client);
  cleanups.push(() => server.process.stop());

  const results = {};
  for (const name of options.scenarios) {
    const scenario = scenarios[name];
    const check = await get(server, scenario.path);
    if (check.status !== 200) throw new Error(`${name}: ${scenario.path} answered ${check.status}: ${JSON.stringify(check.body).slice(0, 300)}`);
    if (scenario.expectFirstId && check.body.items[0]?.id !== scenario.expectFirstId) {
      throw new Error(`${name}: the page starts at id ${check.body.items[0]?.id}, expected ${scenario.expectFirstId}`);
    }
    const url = `http://127.0.0.1:${server.port}${scenario.path}`;
    const parallel = plans[name].current.plan.some((node) => /Gather/.test(node));
    log(`size ${thousands(size)} ${name}: ${check.body.items.length} items, next_cursor ${check.body.next_cursor ? 'yes' : 'no'}; warm-up ${options.warmup} s`);
    if (options.warmup > 0) await runLoad({ mode: 'closed', url, headers: HEADERS, connections: 2, durationSeconds: options.warmup, timeoutSeconds: 30 }, options['load-core']);
    await settle(server);

    const unloaded = await measured(server, { mode: 'closed', url, connections: 1, durationSeconds: options['unloaded-duration'], timeoutSeconds: 30 }, { parallel });
    log(`  unloaded: p50 ${ms(unloaded.latencyMs.p50)} ms, p95 ${ms(unloaded.latencyMs.p95)} ms (${unloaded.ok} requests)`);
    const saturation = await measured(server, { mode: 'closed', url, connections: options.connections, durationSeconds: options['saturation-duration'], timeoutSeconds: 10 }, { parallel });
    log(`  saturation (${options.connections} connections): ${saturation.throughput} req/s, p50 ${ms(saturation.latencyMs.p50)} ms, errors ${JSON.stringify(saturation.errors)}`);
    const settled = await settle(server);
    if (settled === undefined) {
      log('  the BFF is still working off queued requests after 60 s: restarting it');
      await server.process.stop();
      await client.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [appName]);
      server = await startServer(serverUrl, appName, client);
    }

    let fixed;
    // Near or above the capacity the open-loop run shows the overload; far below it the queue
    // (and every queued query PostgreSQL still runs afterwards) would only grow.
    if (saturation.throughput >= options.rate * FIXED_RATE_MIN_CAPACITY) {
      fixed = await measured(server, { mode: 'open', url, rate: options.rate, durationSeconds: options.duration, timeoutMs: 10_000, maxInFlight: 256 }, { parallel });
      log(`  ${options.rate} req/s: p50 ${ms(fixed.latencyMs.p50)} ms, p95 ${ms(fixed.latencyMs.p95)} ms, p99 ${ms(fixed.latencyMs.p99)} ms, achieved ${fixed.achievedRate} req/s`);
      await settle(server);
    } else {
      fixed = { skipped: `the saturation throughput (${saturation.throughput} req/s) is far below the offered ${options.rate} req/s: the queue would grow for as long as the run lasts` };
      log(`  ${options.rate} req/s: not run (${fixed.skipped})`);
    }
    results[name] = { path: scenario.path.replace(/cursor=[^&]+/, 'cursor=…'), items: check.body.items.length, unloaded, saturation, fixed };
  }
  await server.process.stop();
  return { size, schema: schema.schema, seed, plans, terms, results };
}

// ---------------------------------------------------------------------------------------------
// Report

function verdicts(runs) {
  const lines = [];
  for (const run of runs) {
    for (const [name, r] of Object.entries(run.results)) {
      const p95 = r.fixed.latencyMs?.p95;
      lines.push(
        `- ${thousands(run.size)} rows, ${name}: p95 at ${options.rate} req/s ${p95 === undefined ? 'not measurable (capacity below the offered load)' : `${ms(p95)} ms`} -> ${
          p95 !== undefined && p95 <= P95_TARGET_MS && r.fixed.achievedRate >= options.rate * 0.98 ? 'MET' : 'MISSED'
        } (target <= ${P95_TARGET_MS} ms)`,
      );
    }
    const first = run.results.first;
    const deep = run.results.deep;
    if (first && deep) {
      const pick = (r) => r.fixed.latencyMs ?? r.unloaded.latencyMs;
      const basis = first.fixed.latencyMs && deep.fixed.latencyMs ? `at ${options.rate} req/s` : 'unloaded';
      const ratio50 = pick(deep).p50 / pick(first).p50;
      const ratio95 = pick(deep).p95 / pick(first).p95;
      lines.push(
        `- ${thousands(run.size)} rows, deep / first page (${basis}): p50 ${ratio50.toFixed(2)}x, p95 ${ratio95.toFixed(2)}x -> ${
          ratio95 <= DEEP_RATIO_TARGET ? 'MET' : 'MISSED'
        } (target <= ${DEEP_RATIO_TARGET}x)`,
      );
    }
  }
  return lines.join('\n');
}

function report(machine, runs) {
  const out = [];
  out.push(`Audit list benchmark — ${options.label} (${options.bff.replace(REPO_ROOT, '')}, database role: ${options['db-role']})`);
  out.push(`machine: ${machine.nproc} cores, ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.postgres.split(' on ')[0]}, taskset ${machine.taskset ? 'yes' : 'no'} (server core ${options['server-core']}, load core ${options['load-core']})`);
  out.push('');
  out.push('Data');
  out.push(
    markdownTable(
      ['default rows', 'all rows', 'size with indexes', 'insert', 'VACUUM ANALYZE', `"${SEARCH_TERM}" rows`, '+ action filter', 'subject rows'],
      runs.map((run) => [
        thousands(run.seed.tenant_rows),
        thousands(run.seed.total_rows),
        `${Math.round(run.seed.total_bytes / 2 ** 20)} MiB`,
        `${run.seed.insertSeconds} s`,
        `${run.seed.vacuumAnalyzeSeconds} s`,
        thousands(run.seed.q_rows),
        thousands(run.seed.search_rows),
        thousands(run.seed.subject_rows),
      ]),
    ),
  );
  out.push('');
  out.push(`Latency (ms) and throughput; "${options.rate} req/s" is open loop, latency from when each request was due`);
  const rows = [];
  for (const run of runs) {
    for (const [name, r] of Object.entries(run.results)) {
      const f = r.fixed;
      const flag = (x) => (x.disturbed ? '!' : '');
      rows.push([
        thousands(run.size),
        name,
        r.items,
        `${ms(r.unloaded.latencyMs.p50)} / ${ms(r.unloaded.latencyMs.p95)}${flag(r.unloaded)}`,
        f.latencyMs ? `${ms(f.latencyMs.p50)} / ${ms(f.latencyMs.p95)} / ${ms(f.latencyMs.p99)}${flag(f)}` : 'not run',
        f.latencyMs ? `${f.achievedRate}` : '',
        f.cpu ? `${f.cpu.bffCpuMsPerRequest} / ${f.cpu.pgBackendCpuMsPerRequest}` : `${r.saturation.cpu.bffCpuMsPerRequest} / ${r.saturation.cpu.pgBackendCpuMsPerRequest}`,
        `${r.saturation.throughput}${flag(r.saturation)}`,
        `${ms(r.saturation.latencyMs.p50)} / ${ms(r.saturation.latencyMs.p99)}`,
        Object.values(r.saturation.errors).some((n) => n > 0) ? JSON.stringify(r.saturation.errors) : '',
        `${Math.max(r.unloaded.cpu.foreignPercent, r.saturation.cpu.foreignPercent, f.cpu?.foreignPercent ?? 0)}`,
      ]);
    }
  }
  out.push(
    markdownTable(
      ['default rows', 'scenario', 'items', 'unloaded p50 / p95', `${options.rate} req/s p50 / p95 / p99`, 'achieved req/s', 'CPU ms/req BFF / PG', `saturation req/s (${options.connections} conn.)`, 'saturation p50 / p99', 'saturation errors', 'max other CPU %'],
      rows,
    ),
  );
  out.push(`("!": other processes used more than ${options['quiet-threshold']} % of a core during that run, even after ${options.retries} repeat(s); "max other CPU %" is the most they used in any of the scenario's three runs, from the cores' busy time minus ours. CPU per request: the BFF process and its PostgreSQL backends, parallel workers not included.)`);
  out.push('');
  out.push('SQL execution time (EXPLAIN ANALYZE, median of 3, ms; summed over the statements of a request), the SQL as the app generates it');
  out.push(
    markdownTable(
      ['default rows', 'scenario', 'execution ms', 'plan (top three nodes)'],
      runs.flatMap((run) =>
        Object.entries(run.plans).map(([name, p]) => [
          thousands(run.size),
          name,
          ms(p.current.executionMs),
          p.current.perStatement
            .map((e, i) => `${p.current.statements > 1 ? `#${i + 1} ${ms(e.executionMs)} ms: ` : ''}${e.plan.slice(0, 3).map((s) => s.trim()).join(' ← ')}`)
            .join('; '),
        ]),
      ),
    ),
  );
  if (runs.some((run) => run.terms.length > 0)) {
    out.push('');
    out.push('Search cost by term (SQL only: EXPLAIN ANALYZE, median of 3, summed over the statements; statements in brackets)');
    const cost = (c) => `${ms(c.executionMs)} + ${ms(c.planningMs)} planning (${c.statements})`;
    out.push(
      markdownTable(
        ['default rows', 'q', 'matching rows', 'share', 'SQL ms', 'matching manual reviews', 'SQL ms, action=manual_review_request'],
        runs.flatMap((run) =>
          run.terms.map((t) => [
            thousands(run.size),
            t.term,
            thousands(t.rows),
            `${((100 * t.rows) / run.seed.tenant_rows).toPrecision(2)} %`,
            cost(t.all),
            thousands(t.filtered_rows),
            cost(t.filtered),
          ]),
        ),
      ),
    );
  }
  out.push('');
  out.push('Targets');
  out.push(verdicts(runs));
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------

const started = performance.now();
const admin = await connect(BENCH_DATABASE_URL, 'bench-audit-admin');
const { rows: version } = await admin.query('SELECT version()');
await admin.end();
const machine = machineInfo(version[0].version);
log(`machine: ${machine.nproc} cores, ${machine.cpuModel}, Node ${machine.node}, ${machine.postgres.split(' on ')[0]}`);

const runs = [];
try {
  for (const size of sizes) {
    runs.push(await benchSize(size));
    await cleanUp();
  }
} catch (err) {
  log(`failed: ${err.stack ?? err}`);
  await cleanUp();
  process.exit(1);
}
await cleanUp();

const output = report(machine, runs);
process.stdout.write(`${output}\n`);
log(`done in ${Math.round((performance.now() - started) / 1000)} s (waited ${quietSpentSeconds} s for other processes)`);
if (options.json) {
  writeFileSync(options.json, JSON.stringify({ when: new Date().toISOString(), machine, options, runs }, null, 2));
  log(`raw results: ${options.json}`);
}
