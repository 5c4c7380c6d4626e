// One benchmark server process: `node bench/servers.mjs <variant>`.
//
// Started by bench/run.mjs (pinned with taskset, with an IPC channel). It listens on
// 127.0.0.1 (any free port), then sends {type: 'ready', port, pid} over IPC. Log lines of the
// variants that log go to this process's stdout, exactly as in production (pino on fd 1);
// the harness decides what fd 1 is (a pipe it drains, or /dev/null).
//
// Every variant answers GET /v1/accounting/os/sources (X-Tenant: default) with the same JSON:
// the app variants with whatever the built route answers, the others with that same body,
// which the harness reads from the app first and passes in BENCH_BODY.
//
//   bare            plain Express 5 app, same app settings (no etag, no x-powered-by), one
//                   handler that builds the body and res.json()s it, served as the BFF serves
//                   its app (dist/server.js `listen`, with its request/response classes)
//   bare-plain      the same app served as `app.listen()` would (`http.createServer(app)`):
//                   what a bare Express app costs without the BFF's server classes
//   full            createApp() from the built dist with production-like deps (PostgreSQL,
//                   default process metrics, pino on stdout): the real stack and the real route
//   full-silent     full with LOG_LEVEL=silent (the request logger still runs; nothing is written)
//   full-nometrics  full with inert metric objects (the recorder runs, records nothing)
//   stack           createApp's own middleware from dist (aheadOfRoutes: requestContext, then
//                   osPolicyBridge and jsonBody for /v1, one layer; the ops router after the
//                   route) around the bare handler plus zod validation of the query: the
//                   stack's cost on a route that does no I/O
//   mw:<a+b+...>    diagnosis: the bare app plus the named middlewares, in that same order:
//                   requestContext, osPolicyBridge, json (jsonBody), ops (after the route); plainLogger (the same pino
//                   options without redaction); silentLog (level silent); inertMetrics (the
//                   metric objects record nothing); unbufferedLog (a write(2) per line, not per
//                   16 KiB or 50 ms as the app does); bufferedLog / syncBufferedLog (pino writes
//                   stdout in 4 KiB chunks, asynchronously / synchronously)
//
// The app variants count the database calls they make (reported per request by the harness).
// The process stops on IPC {type: 'stop'}, on SIGTERM/SIGINT, and when the harness goes away
// (IPC disconnect), so it never outlives the run.

import http from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = new URL('../', import.meta.url);
const dist = (path) => new URL(`packages/bff-accounting/dist/${path}`, root).href;
const bffRequire = createRequire(new URL('packages/bff-accounting/package.json', root));
/** Loads a dependency as the BFF resolves it, so both apps use the very same Express. */
const bffDependency = async (name) => import(pathToFileURL(bffRequire.resolve(name)).href);

const { default: express } = await bffDependency('express');
const { aheadOfRoutes, createApp, loadConfig, createMetrics, createLogger } = await import(dist('app.js'));
const { createReadinessCheck } = await import(dist('readiness.js'));
const { listen } = await import(dist('server.js'));

/** The configuration every app-based variant runs with (production-like: an allowlist is set). */
function benchEnv(logLevel) {
  return {
    LOG_LEVEL: logLevel,
    USE_PG: 'true',
    DATABASE_URL: process.env.BENCH_DATABASE_URL,
    OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a"]',
    // A bank connection for another tenant only: the benchmarked request is tenant "default".
    BANK_SBX_CONNECTIONS_JSON: '{"pilot-a":"conn_pilot_a"}',
  };
}

/** Database calls the app made since start; the harness reports them per request. */
const dbCalls = { count: 0 };

/** `db`, counting every call that reaches the database. */
function countingDb(db) {
  const counted = new Set(['query', 'exec', 'withSession', 'transaction']);
  return new Proxy(db, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (!counted.has(property) || typeof value !== 'function') return value;
      return (...args) => {
        dbCalls.count++;
        return value.apply(target, args);
      };
    },
  });
}

async function openDb() {
  const dataPg = await import(new URL('packages/data-pg/dist/index.js', root).href);
  const { createPgDb, loadMigrations, runMigrations } = dataPg;
  const db = createPgDb({
    connectionString: process.env.BENCH_DATABASE_URL,
    schema: process.env.BENCH_SCHEMA,
    max: 5,
    onIdleError: () => undefined,
  });
  const migrations = await loadMigrations();
  await runMigrations(db, migrations);
  return { db, migrations, readSyncMetrics: dataPg.readSyncMetrics };
}

/** Metric objects that accept every call and record nothing (for full-nometrics). */
function inertMetrics(real) {
  const inert = { observe() {}, inc() {}, labels: () => inert, series: () => inert };
  return { registry: real.registry, httpRequestDuration: inert, httpRequestsTotal: inert, policyDecisions: inert, tally: inert };
}

async function buildFull({ logLevel, metricsMode }) {
  const opened = await openDb();
  const db = countingDb(opened.db);
  const config = loadConfig(benchEnv(logLevel));
  const logger = createLogger(config.logLevel); // no destination: JSON lines on fd 1, as in production
  // As src/index.ts builds them: default process metrics on, and the sync metrics read from
  // the database in the background (SYNC_METRICS_REFRESH_MS) when this build has them.
  const metrics = createMetrics(
    typeof opened.readSyncMetrics === 'function'
      ? { syncMetrics: { read: () => opened.readSyncMetrics(db), logger, refreshIntervalMs: config.syncMetricsRefreshMs } }
      : {},
  );
  const lifecycle = { shuttingDown: false };
  const readiness = createReadinessCheck(db, opened.migrations, lifecycle);
  const deps = { config, db, logger, metrics: metricsMode === 'inert' ? inertMetrics(metrics) : metrics, readiness, lifecycle };
  return { app: createApp(deps), metrics, close: () => opened.db.close() };
}

/** The body every non-app variant answers: the app's own answer, passed in by the harness. */
const template = JSON.parse(process.env.BENCH_BODY ?? '{"tenant":"default","sources":[]}');

function buildBare() {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/v1/accounting/os/sources', (req, res) => {
    res.json({ ...template, tenant: req.get('x-tenant') });
  });
  return { app, metrics: undefined, close: async () => undefined };
}

// `ops` is mounted after the API route, as createApp() does, so /v1 requests never reach it.
const MIDDLEWARE_ORDER = ['requestContext', 'osPolicyBridge', 'json'];

async function buildMiddlewareVariant(list) {
  const names = list.split('+').filter(Boolean);
  const known = new Set([...MIDDLEWARE_ORDER, 'ops', 'plainLogger', 'bufferedLog', 'syncBufferedLog', 'unbufferedLog', 'silentLog', 'inertMetrics']);
  for (const name of names) if (!known.has(name)) throw new Error(`unknown middleware "${name}"`);
  const has = (name) => names.includes(name);

  const config = loadConfig(benchEnv('info'));
  // inertMetrics: the recorder runs, records nothing; silentLog: level silent (no line built or written).
  const metrics = has('inertMetrics') ? inertMetrics(createMetrics()) : createMetrics();
  const { default: pino } = await bffDependency('pino');
  // bufferedLog / syncBufferedLog: stdout through a sonic-boom that writes 4 KiB at a time
  // (one write(2) per ~15 lines instead of one per line), on libuv's thread pool or on the
  // main thread; pino flushes it on a normal exit (a crash loses up to 4 KiB of lines).
  // unbufferedLog: one write(2) per line (pino's default destination), against the app's
  // default (bufferedStdout: one write per 16 KiB or 50 ms).
  const destination = has('bufferedLog') || has('syncBufferedLog')
    ? pino.destination({ dest: 1, sync: has('syncBufferedLog'), minLength: 4096 })
    : has('unbufferedLog') ? pino.destination({ dest: 1, sync: true }) : undefined;
  let logger;
  if (has('plainLogger')) {
    logger = pino(
      {
        level: 'info',
        base: { service: 'bff-accounting' },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    );
  } else {
    logger = createLogger(has('silentLog') ? 'silent' : 'info', destination);
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const { requestContext } = await import(dist('middleware/requestContext.js'));
  const { installRequestLog } = await import(dist('middleware/requestLogger.js'));
  const { osPolicyBridge } = await import(dist('middleware/osPolicyBridge.js'));
  const { jsonBody } = await import(dist('middleware/jsonBody.js'));
  const { inSeries, underPrefix } = await import(dist('middleware/compose.js'));
  const { API_ROUTES } = await import(dist('policy/permissions.js'));
  const { notFound, errorHandler, parseInput } = await import(dist('middleware/errors.js'));
  const { createOpsRouter } = await import(dist('routes/opsRouter.js'));

  // Policy denials and 5xx log through req.log; the benchmarked request never does.
  installRequestLog(app, logger);
  const lifecycle = { shuttingDown: false };
  if (MIDDLEWARE_ORDER.every(has)) {
    // The whole stack: createApp's own middleware ahead of the routes.
    app.use(aheadOfRoutes({ config, logger, metrics, lifecycle }));
  } else {
    // Ablations: the named parts, laid out as createApp lays them out (one layer, the request
    // context, then the /v1 middlewares under underPrefix).
    const ahead = [];
    const apiMiddleware = [];
    for (const name of MIDDLEWARE_ORDER.filter(has)) {
      if (name === 'requestContext') ahead.push(requestContext({ logger, metrics, lifecycle }));
      if (name === 'osPolicyBridge') {
        apiMiddleware.push(osPolicyBridge({ policy: config.policy, routes: Object.values(API_ROUTES), metrics }));
      }
      if (name === 'json') apiMiddleware.push(jsonBody(config.requestBodyLimit));
    }
    if (apiMiddleware.length > 0) ahead.push(underPrefix('/v1', ...apiMiddleware));
    if (ahead.length > 0) app.use(inSeries(...ahead));
  }
  // A cheap gated route as the app writes them: the query validated with zod through the
  // app's parseInput (the benchmarked request sends none, as the real route takes none),
  // then the answer.
  const { z } = await bffDependency('zod');
  const listQuery = z.object({ limit: z.string().regex(/^\d{1,3}$/).optional(), cursor: z.string().max(200).optional() }).strict();
  app.get('/v1/accounting/os/sources', (req, res) => {
    parseInput(listQuery, req.query, 'query');
    res.json({ ...template, tenant: req.policy?.tenant ?? req.get('x-tenant') });
  });
  if (has('ops')) {
    // /health, /ready and /metrics after the API, as in createApp; /ready is not wired to a
    // database here and answers "not ready".
    const readiness = async () => ({ ready: false, reason: 'BENCH', detail: 'no database in this variant' });
    app.use(createOpsRouter({ metrics, readiness }));
  }
  app.use(notFound());
  app.use(errorHandler());
  return { app, metrics, close: async () => undefined };
}

/** The middleware createApp() installs around the /v1 routes, in its order (ops after the routes). */
const STACK = 'requestContext+osPolicyBridge+json+ops';

async function build(variant) {
  if (variant === 'bare') return buildBare();
  if (variant === 'bare-plain') return { ...buildBare(), plainServer: true };
  if (variant === 'full') return buildFull({ logLevel: 'info', metricsMode: 'real' });
  if (variant === 'full-silent') return buildFull({ logLevel: 'silent', metricsMode: 'real' });
  if (variant === 'full-nometrics') return buildFull({ logLevel: 'info', metricsMode: 'inert' });
  if (variant === 'stack') return buildMiddlewareVariant(STACK);
  if (variant.startsWith('mw:')) return buildMiddlewareVariant(variant.slice(3));
  throw new Error(`unknown variant "${variant}" (bare, bare-plain, full, full-silent, full-nometrics, stack, mw:<a+b+...>)`);
}

/** Median, p99 and max of `samples` (ms). */
function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  return { n: sorted.length, median: at(50), p99: at(99), max: sorted.at(-1) };
}

/**
 * Times `registry.metrics()` in this process (the cost of rendering /metrics, minus HTTP):
 * back to back, then spaced like scrapes (more than a second apart, so metrics that cache
 * what they read, such as the sync metrics' database read, read afresh each time as they do
 * under a 15-30 s scrape interval); then each metric's own `get()` (its collect function plus
 * its series), to show which metric makes the time.
 */
async function timeMetricsRendering(metrics, iterations, spacedIterations) {
  const samples = [];
  let body = '';
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    body = await metrics.registry.metrics();
    samples.push(performance.now() - started);
  }
  const spaced = [];
  for (let i = 0; i < spacedIterations; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const started = performance.now();
    await metrics.registry.metrics();
    spaced.push(performance.now() - started);
  }
  const perMetric = [];
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const times = [];
    for (let i = 0; i < Math.min(iterations, 200); i++) {
      const started = performance.now();
      await metric.get();
      times.push(performance.now() - started);
    }
    perMetric.push({ name: metric.name, ...summary(times) });
  }
  perMetric.sort((a, b) => b.median - a.median);
  const series = body.split('\n').filter((line) => line && !line.startsWith('#'));
  const httpLabelSets = new Set(
    series
      .filter((line) => line.startsWith('http_requests_total{'))
      .map((line) => line.slice(0, line.lastIndexOf(' '))),
  );
  return {
    samples,
    spaced,
    bytes: Buffer.byteLength(body),
    seriesLines: series.length,
    httpLabelSets: [...httpLabelSets],
    perMetric,
  };
}

const variant = process.argv[2];
if (!variant || !process.send) {
  process.stderr.write('usage: started by bench/run.mjs (needs an IPC channel): node bench/servers.mjs <variant>\n');
  process.exit(2);
}

/** `app` on `http.createServer(app)`, as `app.listen()` serves it, with `listen`'s interface. */
async function listenPlain(app) {
  const server = http.createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port, drain: () => new Promise((resolve) => server.close(() => resolve())) };
}

const built = await build(variant);
const running = built.plainServer ? await listenPlain(built.app) : await listen(built.app, 0, '127.0.0.1');

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  running.server.closeAllConnections();
  await Promise.race([running.drain(0), new Promise((resolve) => setTimeout(resolve, 2_000))]);
  await built.close().catch(() => undefined);
  process.exit(code);
}

process.on('message', async (message) => {
  if (message?.type === 'stop') await stop(0);
  if (message?.type === 'db-calls') process.send({ type: 'db-calls', count: dbCalls.count });
  if (message?.type === 'time-metrics') {
    if (!built.metrics) {
      process.send({ type: 'metrics-timing', error: `variant ${variant} has no metrics registry` });
      return;
    }
    process.send({ type: 'metrics-timing', ...(await timeMetricsRendering(built.metrics, message.iterations, message.spacedIterations)) });
  }
});
process.on('disconnect', () => void stop(0));
process.once('SIGTERM', () => void stop(0));
process.once('SIGINT', () => void stop(0));
process.send({ type: 'ready', variant, port: running.port, pid: process.pid });
