// Where a server's CPU time goes: `node bench/profile.mjs <file.cpuprofile> [...]`.
//
// Reads a V8 CPU profile written by `pnpm bench --cpu-prof` and charges every sample to the
// middleware that caused it: walking the sample's stack from the leaf up, the first frame
// that belongs to a known middleware (or its own library: body-parser) wins, so the line
// writer called by the access log (createAccessLog) counts as the request logger, `randomUUID`
// as requestContext, and a 'close' listener as the module whose function it calls.
// Middlewares call each other through the router's next(), so a router frame met first stops
// the walk: that sample is Express's dispatch, not the caller's.
// Samples under no middleware are charged by their leaf frame (Express, Node's http/net
// code, native code, GC). Prints one table per profile.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/** [category, test on the frame]; the first frame from the leaf that passes one decides. */
const MIDDLEWARE = [
  ['requestContext (+ request id)', (f) => f.url.includes('middleware/requestContext.js') || f.url.includes('middleware/requestId.js')],
  ['httpMetrics (prom-client)', (f) => f.url.includes('middleware/httpMetrics.js')],
  ['requestLogger (pino)', (f) => f.url.includes('middleware/requestLogger.js')],
  ['osPolicyBridge (+ path-to-regexp)', (f) => f.url.includes('middleware/osPolicyBridge.js')],
  ['express.json (body-parser)', (f) => f.url.includes('/body-parser/')],
  ['route handler + res.json', (f) => f.url.includes('/routes/') || (f.url.includes('bench/servers.mjs') && f.functionName === '')],
  ['/metrics, readiness, errors', (f) => f.url.includes('routes/opsRouter.js') || f.url.includes('middleware/errors.js')],
  ['database client (pg)', (f) => /\/(pg|pg-protocol|pg-pool)\//.test(f.url) || f.url.includes('data-pg/dist')],
  ['express framework', (f) => /\/router[@/]/.test(f.url)],
];

function leafCategory(frame) {
  if (frame.functionName === '(garbage collector)') return 'GC';
  if (frame.functionName === '(idle)') return 'idle';
  if (frame.functionName === '(program)') return 'native (program)';
  if (frame.url.startsWith('node:')) return 'node core (http, net, streams)';
  if (/\/(express|router|finalhandler|send|on-finished|type-is|content-type|mime-types|accepts|qs|depd)(@|\/)/.test(frame.url)) return 'express framework';
  if (frame.url === '') return 'native';
  return `other (${basename(frame.url)})`;
}

function analyse(file) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const memo = new Map();
  const categoryOf = (id) => {
    if (memo.has(id)) return memo.get(id);
    const stack = [];
    for (let at = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at).callFrame);
    let category;
    for (let i = 0; i < stack.length && !category; i++) {
      category = MIDDLEWARE.find(([, test]) => test(stack[i]))?.[0];
    }
    category ??= leafCategory(stack[0]);
    memo.set(id, category);
    return category;
  };

  const micros = new Map();
  profile.samples.forEach((id, i) => {
    const category = categoryOf(id);
    micros.set(category, (micros.get(category) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const busy = [...micros].filter(([category]) => category !== 'idle').reduce((sum, [, us]) => sum + us, 0);
  const rows = [...micros].filter(([category]) => category !== 'idle').sort((a, b) => b[1] - a[1]);

  const lines = [`${basename(file)}: ${(busy / 1e6).toFixed(1)} s busy, ${((micros.get('idle') ?? 0) / 1e6).toFixed(1)} s idle`];
  for (const [category, us] of rows) {
    lines.push(`  ${category.padEnd(40)} ${((us / busy) * 100).toFixed(1).padStart(5)} %  ${(us / 1e6).toFixed(2).padStart(7)} s`);
  }
  return lines.join('\n');
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node bench/profile.mjs <file.cpuprofile> [...]\n');
  process.exit(2);
}
process.stdout.write(`${files.map(analyse).join('\n\n')}\n`);
