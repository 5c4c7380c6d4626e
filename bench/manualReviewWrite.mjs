// Cost of row-level security (migration 012) on a manual-review write through HTTP (issue 19):
// `node bench/manualReviewWrite.mjs` (needs `pnpm build` and PostgreSQL).
//
// On a fresh migrated schema it starts the built BFF --rounds times per role, alternating, pinned
// to one core, each time on a fresh tenant of the same table:
//   owner  as the superuser that owns the tables: row-level security binds nothing (the
//          statements are the same, scope setting included)
//   app    as the application's role (granted by the runner, as a migration Job would), bound
//          by the forced policies, as in production
// and sends POST /v1/accounting/audit/manual-review (a fresh Idempotency-Key each, the audit
// chain's append inside the idempotency transaction) from --clients closed-loop clients for
// --duration seconds, after a warm-up, then once more from one client. Per case: writes/s and
// the latency of one write (p50 / p95 / p99 ms). Prints a Markdown table (stdout) and progress
// (stderr); drops the schema and stops the server at the end.
//
// Options (flag or environment variable; defaults in brackets):
//   --duration S   seconds per measurement [10]
//   --warmup S     seconds of warm-up per server [3]
//   --clients N    concurrent clients of the loaded measurement [20]
//   --rounds N     servers per role, alternating owner and app [2]
//   --server-core N                                 [1] (taskset, when present)
//   BENCH_DATABASE_URL (or TEST_DATABASE_URL)       [postgres://postgres@127.0.0.1:5432/test]

import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT, startNode } from './lib/nodeProcess.mjs';
import { log, markdownTable, readOptions } from './lib/options.mjs';
import { createMigratedSchema, grantAppRole } from './lib/pgSchema.mjs';

const options = readOptions(
  {
    duration: { kind: 'int', default: 10, min: 1 },
    warmup: { kind: 'int', default: 3, min: 0 },
    clients: { kind: 'int', default: 20, min: 1 },
    rounds: { kind: 'int', default: 2, min: 1 },
    'server-core': { kind: 'int', default: 1 },
  },
  fileURLToPath(import.meta.url),
);

const BFF = `${REPO_ROOT}packages/bff-accounting/dist/index.js`;

/** Closed-loop writers for `seconds`: every write's latency in ms, and the failures. */
async function write(port, tenant, clients, seconds) {
  const until = performance.now() + seconds * 1_000;
  const latencies = [];
  let failures = 0;
  const client = async () => {
    while (performance.now() < until) {
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/v1/accounting/audit/manual-review`, {
        method: 'POST',
        headers: {
          'X-Tenant': tenant,
          'X-User-Role': 'operator',
          'X-User-Id': 'op.kim',
          'Content-Type': 'application/json',
          'Idempotency-Key': randomBytes(12).toString('hex'),
        },
        body: JSON.stringify({ subject_type: 'bank_transaction', subject_id: `tx_${latencies.length}`, reason: 'amount differs from the receipt' }),
      });
      await response.arrayBuffer();
      if (response.status === 201) latencies.push(performance.now() - started);
      else failures += 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return { latencies, failures };
}

function summary(latencies, seconds) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  return { writes: sorted.length, perSecond: sorted.length / seconds, p50: at(50), p95: at(95), p99: at(99) };
}

const schema = await createMigratedSchema('bench_review', `bench-review-${randomBytes(3).toString('hex')}`);
const appUrl = await grantAppRole(schema.schema, schema.url);
const rows = [];
try {
  // Twice each, alternating, so neither role always runs on the colder server or the smaller table.
  const cases = Array.from({ length: options.rounds }, () => [
    ['owner', schema.url],
    ['app', appUrl],
  ]).flat();
  for (const [i, [role, url]] of cases.entries()) {
    const tenant = `bench-${role}-${i}`;
    const bff = startNode(BFF, {
      core: options['server-core'],
      env: { USE_PG: '1', DATABASE_URL: url, LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', OS_TENANT_ALLOWLIST_JSON: JSON.stringify([tenant]) },
    });
    try {
      const { port } = JSON.parse(await bff.waitFor(/listening on/));
      log(`${role}: BFF pid ${bff.pid} on port ${port}; warm-up ${options.warmup} s`);
      await write(port, tenant, options.clients, options.warmup);
      for (const clients of [1, options.clients]) {
        log(`${role}: ${clients} client(s) for ${options.duration} s`);
        const { latencies, failures } = await write(port, tenant, clients, options.duration);
        const s = summary(latencies, options.duration);
        rows.push([
          role,
          String(clients),
          s.writes.toLocaleString('en-US'),
          s.perSecond.toFixed(0),
          `${s.p50.toFixed(2)} / ${s.p95.toFixed(2)} / ${s.p99.toFixed(2)}`,
          String(failures),
        ]);
      }
    } finally {
      await bff.stop();
    }
  }
} finally {
  await schema.drop();
}
console.log(markdownTable(['database role', 'clients', 'writes', 'writes/s', 'p50 / p95 / p99 ms', 'failed'], rows));
