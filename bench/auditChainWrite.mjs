// Cost of the audit chain on an audit write (issue 19 item 4): `node bench/auditChainWrite.mjs`
// (needs `pnpm build` and PostgreSQL).
//
// On a fresh migrated schema, through a pool of the built data-pg (as the BFF's), it times
//   plain     the INSERT appendAuditEvent sent before the chain (one statement, autocommit)
//   chained   appendAuditEvent: lock the tenant's head, MAC, insert and move the head (one
//             transaction of its own, as a manual review outside other work)
// with a manual review's content, each (a) one writer, (b) --writers writers on one tenant (the
// tenant's appends are serial under its head's lock) and (c) --writers writers on as many
// tenants. Per case: appends per second and the latency of one append (p50 / p95 / p99 ms).
// Then the time verifyAuditChain (GET /v1/accounting/audit/verify) takes for the one-tenant chain.
// Prints a Markdown table (stdout) and progress (stderr); drops the schema at the end.
//
// Options (flag or environment variable; defaults in brackets):
//   --appends N    appends per writer [500]
//   --writers N    concurrent writers of the parallel cases [20]
//   --pool N       pool size [10, the BFF's DB_POOL_MAX default]
//   BENCH_DATABASE_URL (or TEST_DATABASE_URL)  [postgres://postgres@127.0.0.1:5432/test]

import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { fail, log, markdownTable, readOptions } from './lib/options.mjs';
import { BENCH_DATABASE_URL, createMigratedSchema } from './lib/pgSchema.mjs';

const options = readOptions(
  {
    appends: { kind: 'int', default: 500, min: 1 },
    writers: { kind: 'int', default: 20, min: 1 },
    pool: { kind: 'int', default: 10, min: 1 },
  },
  fileURLToPath(import.meta.url),
);

const { appendAuditEvent, createPgDb } = await import(new URL('../packages/data-pg/dist/index.js', import.meta.url).href);

const event = (i) => ({
  actorRole: 'operator',
  actorId: 'op.kim',
  action: 'manual_review_request',
  subjectType: 'bank_transaction',
  subjectId: `tx_${i}`,
  summary: 'amount differs from the invoice: Nordwind Trading 120000 KRW',
  details: { reason: 'amount differs from the invoice: Nordwind Trading 120000 KRW', note: 'see the attached statement', client_ts: '2026-12-07T09:00:00+09:00' },
  requestId: `req_${i}`,
});

/** The pre-chain append: the INSERT appendAuditEvent sent before migration 011. */
const plainAppend = (db, tenant, e) =>
  db.query(
    `INSERT INTO audit_events (tenant, actor_role, actor_id, action, subject_type, subject_id, summary, details, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [tenant, e.actorRole, e.actorId, e.action, e.subjectType, e.subjectId, e.summary, JSON.stringify(e.details), e.requestId],
    { prepare: true },
  );

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function run(db, name, writers, tenantOf, append) {
  const latencies = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < options.appends; i += 1) {
        const t = performance.now();
        await append(db, tenantOf(w), event(i));
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1_000;
  latencies.sort((a, b) => a - b);
  const row = {
    case: name,
    writers,
    appends: latencies.length,
    'appends/s': Math.round(latencies.length / seconds),
    'p50 / p95 / p99 ms': [50, 95, 99].map((p) => percentile(latencies, p).toFixed(2)).join(' / '),
  };
  log(`${name}: ${row['appends/s']} appends/s, ${row['p50 / p95 / p99 ms']} ms`);
  return row;
}

const schema = await createMigratedSchema('bench_chain_write', `bench-chain-${randomBytes(3).toString('hex')}`);
const db = createPgDb({ connectionString: BENCH_DATABASE_URL, schema: schema.schema, max: options.pool });
try {
  const rows = [];
  let round = 0;
  const fresh = () => `t${(round += 1)}`;
  for (const [kind, append] of [
    ['plain', plainAppend],
    ['chained', appendAuditEvent],
  ]) {
    // Warm-up: prepared statements, the pool's connections.
    const warm = fresh();
    await run(db, `${kind} warm-up`, options.writers, () => warm, append);
    const one = fresh();
    rows.push(await run(db, `${kind}, one writer`, 1, () => one, append));
    const shared = fresh();
    rows.push(await run(db, `${kind}, one tenant`, options.writers, () => shared, append));
    const base = fresh();
    rows.push(await run(db, `${kind}, a tenant each`, options.writers, (w) => `${base}-${w}`, append));
  }
  process.stdout.write(`${markdownTable(['case', 'writers', 'appends', 'appends/s', 'p50 / p95 / p99 ms'], rows.map((r) => Object.values(r)))}\n`);

  // Verifying: the one-tenant chain of the parallel case, walked as GET /audit/verify walks it.
  const { verifyAuditChain } = await import(new URL('../packages/service-core-accounting/dist/index.js', import.meta.url).href);
  const { getAuditChainKeyring } = await import(new URL('../packages/data-pg/dist/index.js', import.meta.url).href);
  const verifyRows = [];
  for (const tenant of [`t${round - 1}`]) {
    const t = performance.now();
    const result = await verifyAuditChain(db, getAuditChainKeyring(), tenant);
    const ms = performance.now() - t;
    verifyRows.push([tenant, result.checked, result.valid, ms.toFixed(0), Math.round((result.checked / ms) * 1_000)]);
  }
  process.stdout.write(`\n${markdownTable(['tenant', 'rows', 'valid', 'verify ms', 'rows/s'], verifyRows)}\n`);
} catch (err) {
  fail(err instanceof Error ? err.stack : String(err));
} finally {
  await db.close();
  await schema.drop();
}
