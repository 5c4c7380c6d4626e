import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPgDb, type Db } from '@accounting/data-pg';

/** The real PostgreSQL the database tests use; they never fall back to anything else. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The role the app connects as in tests, as in production: not the tables' owner, granted only
 * what the migrations grant it (`APP_ROLE_PRIVILEGES`), bound by row-level security. Created once
 * per cluster by `assertPostgresReachable` (global setup).
 */
export const TEST_APP_ROLE = 'accounting_test_app';

/**
 * The role that owns a test schema, as the migration role does in production (not a superuser:
 * row-level security is forced on it too). Created with `TEST_APP_ROLE`.
 */
export const TEST_OWNER_ROLE = 'accounting_test_owner';

/** `TEST_DATABASE_URL` logged in as `role` (trust authentication: no password). */
export function urlAsRole(url: string, role: string): string {
  const parsed = new URL(url);
  parsed.username = role;
  parsed.password = '';
  return parsed.toString();
}

/** `url` with `search_path` pointed at `schema` (for spawned processes). */
export function urlWithSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('options', `-c search_path=${schema}`);
  return parsed.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestSchema {
  schema: string;
  /** `TEST_DATABASE_URL` with this schema on the search_path. */
  url: string;
  /** A pooled `Db` on this schema (closed by `drop`). */
  db: Db;
  /** Another `Db` on the same schema, e.g. a second pod (closed by `drop`). */
  connect(options?: { connectionString?: string; connectionTimeoutMillis?: number }): Db;
  /**
   * A `Db` on this schema as `TEST_APP_ROLE` (the app's role), opened on first use and closed
   * by `drop`. The migrations must have run with `{ appRole: TEST_APP_ROLE }` for it to see the tables.
   */
  readonly appDb: Db;
  /** A `Db` on this schema as `TEST_OWNER_ROLE`, which owns it: run the migrations through it to own the tables as in production. */
  readonly ownerDb: Db;
  drop(): Promise<void>;
}

/** A fresh, empty schema of its own for one test file, so files run in parallel. */
export async function createTestSchema(prefix = 'vt'): Promise<TestSchema> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE SCHEMA ${schema} AUTHORIZATION ${TEST_OWNER_ROLE}`));
  const opened: Db[] = [];
  const connect = (options: { connectionString?: string; connectionTimeoutMillis?: number } = {}) => {
    const db = createPgDb({
      connectionString: options.connectionString ?? TEST_DATABASE_URL,
      schema,
      max: 5,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
      onIdleError: () => undefined,
    });
    opened.push(db);
    return db;
  };
  let appDb: Db | undefined;
  let ownerDb: Db | undefined;
  const db = connect();
  const testSchema: TestSchema = {
    schema,
    url: urlWithSchema(TEST_DATABASE_URL, schema),
    db,
    connect,
    get appDb() {
      appDb ??= connect({ connectionString: urlAsRole(TEST_DATABASE_URL, TEST_APP_ROLE) });
      return appDb;
    },
    get ownerDb() {
      ownerDb ??= connect({ connectionString: urlAsRole(TEST_DATABASE_URL, TEST_OWNER_ROLE) });
      return ownerDb;
    },
    async drop() {
      await Promise.all(opened.map((db) => db.close().catch(() => undefined)));
      await admin((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    },
  };
  schemasByDb.set(db, testSchema);
  return testSchema;
}

const schemasByDb = new WeakMap<Db, TestSchema>();

/**
 * The app-role `Db` of the test schema whose owner `Db` is `db` (its `appDb`), or `db` itself when
 * it is not one (PGlite, a throwaway cluster): what `buildTestApp` serves the API with.
 */
export function appRoleDbFor(db: Db): Db {
  return schemasByDb.get(db)?.appDb ?? db;
}

/**
 * Throws a clear error when no PostgreSQL answers: database tests must not silently skip.
 * Also creates the database-wide extensions the migrations use, once, so test files migrating
 * their own schemas in parallel do not race to create them.
 */
export async function assertPostgresReachable(): Promise<void> {
  try {
    await admin((client) => client.query('SELECT 1'));
    await admin((client) => client.query('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public'));
    await admin((client) =>
      client.query(`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${TEST_APP_ROLE}') THEN CREATE ROLE ${TEST_APP_ROLE} LOGIN; END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${TEST_OWNER_ROLE}') THEN CREATE ROLE ${TEST_OWNER_ROLE} LOGIN; END IF;
      END $$`),
    );
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_DATABASE_URL} (${reason}). The test suite needs a real server: ` +
        'start one or set TEST_DATABASE_URL. Database tests are never skipped.',
      { cause: err },
    );
  }
}
