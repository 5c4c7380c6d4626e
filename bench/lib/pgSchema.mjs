// A fresh PostgreSQL schema per benchmark run, migrated with the real migrations from the
// built packages/data-pg, and dropped at the end (as test/support/postgres.ts does for tests).

import { randomBytes } from 'node:crypto';
import pg from 'pg';

const dataPg = () => import(new URL('../../packages/data-pg/dist/index.js', import.meta.url).href);

/** Where the benchmarks find PostgreSQL (the test database by default). */
export const BENCH_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `url` with `search_path` set to `schema` and an application_name to find our backends by. */
export function urlFor(url, schema, applicationName) {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}

/** One plain client on `url` (the benchmark's own connection for seeding and EXPLAIN). */
export async function connect(url = BENCH_DATABASE_URL, applicationName = 'bench') {
  const client = new pg.Client({ connectionString: url, application_name: applicationName });
  await client.connect();
  return client;
}

/**
 * Chains the audit rows of `schema` that have no chain columns (rows a benchmark seeded with plain
 * SQL), as the migration runner does at every start, with the same key as a BFF started without
 * `AUDIT_CHAIN_KEY` (the development key). Answers the rows chained.
 */
export async function chainAuditEvents(schema) {
  const { createPgDb, loadMigrations, runMigrations } = await dataPg();
  const db = createPgDb({ connectionString: BENCH_DATABASE_URL, schema, max: 1 });
  try {
    const { auditChained } = await runMigrations(db, await loadMigrations());
    return Object.values(auditChained ?? {}).reduce((sum, n) => sum + n, 0);
  } finally {
    await db.close();
  }
}

/** The role a benchmark's BFF connects as by default: the application's, bound by row-level security. */
export const BENCH_APP_ROLE = 'accounting_bench_app';

/**
 * Makes `role` (created when missing) the application's role of `schema`, as a deployment's
 * migration Job does: the runner grants it exactly the service's privileges. Answers `url` logged
 * in as that role (trust authentication, as on the benchmark machine).
 */
export async function grantAppRole(schema, url, role = BENCH_APP_ROLE) {
  const admin = await connect(BENCH_DATABASE_URL, 'bench-grant');
  try {
    await admin.query(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} LOGIN; END IF; END $$`);
  } finally {
    await admin.end();
  }
  const { createPgDb, loadMigrations, runMigrations } = await dataPg();
  const db = createPgDb({ connectionString: BENCH_DATABASE_URL, schema, max: 1 });
  try {
    await runMigrations(db, await loadMigrations(), { appRole: role });
  } finally {
    await db.close();
  }
  const asRole = new URL(url);
  asRole.username = role;
  asRole.password = '';
  return asRole.toString();
}

/**
 * Creates `<prefix>_<random>` and applies every migration (runMigrations from the built
 * data-pg). Returns the schema, a URL for spawned processes, and drop().
 */
export async function createMigratedSchema(prefix, applicationName) {
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = await connect(BENCH_DATABASE_URL, `${applicationName}-admin`);
  try {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public');
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const { createPgDb, loadMigrations, runMigrations } = await dataPg();
  const db = createPgDb({ connectionString: BENCH_DATABASE_URL, schema, max: 1 });
  try {
    await runMigrations(db, await loadMigrations());
  } finally {
    await db.close();
  }
  return {
    schema,
    url: urlFor(BENCH_DATABASE_URL, schema, applicationName),
    async drop() {
      const client = await connect(BENCH_DATABASE_URL, `${applicationName}-admin`);
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** PIDs of the backends (and their parallel workers) serving `applicationName`. */
export async function backendPids(client, applicationName) {
  const { rows } = await client.query(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1
     UNION SELECT pid FROM pg_stat_activity WHERE leader_pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = $1)`,
    [applicationName],
  );
  return rows.map((row) => row.pid);
}
