import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPgDb, type Db } from '@accounting/data-pg';

/** The real PostgreSQL the database tests use; they never fall back to anything else. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

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
  drop(): Promise<void>;
}

/** A fresh, empty schema of its own for one test file, so files run in parallel. */
export async function createTestSchema(prefix = 'vt'): Promise<TestSchema> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`CREATE SCHEMA ${schema}`));
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
  return {
    schema,
    url: urlWithSchema(TEST_DATABASE_URL, schema),
    db: connect(),
    connect,
    async drop() {
      await Promise.all(opened.map((db) => db.close().catch(() => undefined)));
      await admin((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
    },
  };
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
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_DATABASE_URL} (${reason}). The test suite needs a real server: ` +
        'start one or set TEST_DATABASE_URL. Database tests are never skipped.',
      { cause: err },
    );
  }
}
