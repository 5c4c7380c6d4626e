import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PG_TYPE, scopeValues, SET_SCOPE_SQL, type Db, type Queryable, type QueryResult, type Session, type TransactionScope } from './db.js';

const identity = (value: string): string => value;

function txQueryable(tx: Transaction | PGlite): Queryable {
  return {
    async query<R>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await tx.query<R>(text, params as unknown[] | undefined);
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
    },
    async exec(script: string) {
      await tx.exec(script);
    },
  };
}

/**
 * A `Db` over embedded PGlite (PostgreSQL compiled to WebAssembly), the default for local
 * runs. `dataDir` keeps the data across restarts; omit it for an in-memory database.
 * PGlite has a single connection: transactions are serialized and advisory locks do not
 * exclude anyone, so never rely on it for concurrency.
 */
export async function createPgliteDb(dataDir?: string): Promise<Db> {
  if (dataDir) await mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir, {
    parsers: { [PG_TYPE.INT8]: identity, [PG_TYPE.DATE]: identity },
    // Migration 004 creates pg_trgm (its index is gone since 007, the migration stays as it
    // ran); PGlite ships it as a loadable extension.
    extensions: { pg_trgm },
  });
  const root = txQueryable(pglite);
  // PGlite runs as a superuser, which row-level security does not restrict; the scope is set
  // anyway so the embedded database sees the same settings as PostgreSQL.
  const transaction = <T>(fn: (tx: Queryable) => Promise<T>, scope?: TransactionScope): Promise<T> =>
    pglite.transaction(async (tx) => {
      const queryable = txQueryable(tx);
      if (scope) await queryable.query(SET_SCOPE_SQL, scopeValues(scope));
      return fn(queryable);
    });
  const session: Session = { ...root, transaction };

  return {
    kind: 'pglite',
    description: dataDir ? `pglite ${dataDir}` : 'pglite (in memory)',
    ...root,
    withSession: (fn) => fn(session),
    transaction,
    async close() {
      if (!pglite.closed) await pglite.close();
    },
  };
}
