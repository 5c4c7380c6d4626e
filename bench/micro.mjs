// Per-call costs of what the middleware does per request, in-process: `node bench/micro.mjs`
// (after `pnpm build`; pin it with `taskset -c 1` for steadier numbers).
//
// Complements bench/run.mjs, which measures whole requests: this names the single operations
// behind the differences there (docs/BENCHMARKS.md "Where the time goes"). Logs go to
// /dev/null through pino's own destination, as the service's are written (synchronously).
// The `{req}` binding uses a real IncomingMessage from a real loopback request.

import { randomUUID } from 'node:crypto';
import { openSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';

const root = new URL('../', import.meta.url);
const dist = (path) => new URL(`packages/bff-accounting/dist/${path}`, root).href;
const bffRequire = createRequire(new URL('packages/bff-accounting/package.json', root));
const pino = bffRequire('pino');
const { createLogger, createMetrics } = await import(dist('app.js'));
const { infoAccessLine } = await import(dist('logger.js'));

const devNull = () => pino.destination({ dest: openSync('/dev/null', 'w'), sync: true });
const logger = createLogger('info', devNull());
const silent = createLogger('silent', devNull());
const unredacted = pino(
  {
    level: 'info',
    base: { service: 'bff-accounting' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  },
  devNull(),
);
const metrics = createMetrics({ defaultMetrics: false });

/** Microseconds per call of `fn`, after a warm-up. */
function time(name, fn, calls = 20_000) {
  for (let i = 0; i < Math.min(calls, 2_000); i++) fn();
  const started = performance.now();
  for (let i = 0; i < calls; i++) fn();
  const micros = ((performance.now() - started) / calls) * 1_000;
  process.stdout.write(`${name.padEnd(62)} ${micros.toFixed(2).padStart(8)} us\n`);
}

const line = () => ({ request_id: randomUUID(), method: 'GET', url: '/v1/accounting/os/sources', status: 200, duration_ms: 1 });
const message = 'GET /v1/accounting/os/sources 200';
const labels = { method: 'GET', route: '/v1/accounting/os/sources', code: 200 };
const duration = metrics.httpRequestDuration.labels('GET', '/v1/accounting/os/sources', '200');
const total = metrics.httpRequestsTotal.labels('GET', '/v1/accounting/os/sources', '200');
const tallied = metrics.tally.series(metrics.httpRequestsTotal, 'GET', '/v1/accounting/os/sources', '200');

// A real request object, as pino-http sees it.
const req = await new Promise((resolve) => {
  const server = http.createServer((incoming, res) => {
    res.end('ok');
    server.close();
    resolve(incoming);
  });
  server.listen(0, '127.0.0.1', () => {
    http.get(`http://127.0.0.1:${server.address().port}/v1/accounting/os/sources`, (res) => res.resume());
  });
});

time('requestId: randomUUID()', () => randomUUID());
time('httpMetrics: histogram.observe(labels) + counter.inc(labels)', () => {
  metrics.httpRequestDuration.observe(labels, 0.001);
  metrics.httpRequestsTotal.inc(labels);
});
time('httpMetrics with cached label children', () => {
  duration.observe(0.001);
  total.inc();
});
time('httpMetrics as recorded: cached histogram child + tallied counter', () => {
  duration.observe(0.001);
  tallied.inc();
});
time('pino-http per request: logger.child({request_id})', () => logger.child({ request_id: 'abc' }));
time('pino-http per request: .child({req}) (real IncomingMessage)', () => logger.child({ req }), 2_000);
time('  same on a LOG_LEVEL=silent logger', () => silent.child({ req }), 2_000);
time('log line: logger.info(line, msg), service logger (redaction)', () => logger.info(line(), message));
time('log line: same pino options without redaction', () => unredacted.info(line(), message));
const accessLine = infoAccessLine(logger);
time('log line: the access line template (infoAccessLine), as the app writes it', () => accessLine(line(), message));
process.stdout.write(`{req} binding: ${logger.child({ req })[pino.symbols.chindingsSym].length} characters of JSON per request\n`);
