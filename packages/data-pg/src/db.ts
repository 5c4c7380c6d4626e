/**
 * The one database interface every repository uses. It has two implementations:
 * `createPgDb` over a `pg.Pool` (production, `USE_PG=1`) and `createPgliteDb` over embedded
 * PGlite (the default for local runs). Both return rows with the same JavaScript types:
 * `numeric` and `bigint` as strings, `date` as `YYYY-MM-DD` strings, `timestamptz` as `Date`.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** How to run one statement. */
export interface QueryOptions {
  /**
   * Keep the statement prepared on each connection that runs it, so PostgreSQL parses it once
   * and may reuse its plan: for hot statements whose text comes from a small, fixed set (one
   * text per combination of filters, never values spliced in), since a connection keeps every
   * prepared statement until it closes. PGlite ignores it.
   */
  prepare?: boolean;
}

/** Anything that runs SQL: the database itself, one session, or one open transaction. */
export interface Queryable {
  /** One statement, with `$1`-style parameters. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
  /** A script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * The row-level security scope a transaction starts with (see `inTenant` in tenantScope.ts):
 * one tenant's rows, or every tenant's for the background jobs that span tenants.
 */
export interface TransactionScope {
  tenant?: string;
  allTenants?: boolean;
}

/** One connection held for a while, e.g. to keep a session-level advisory lock. */
export interface Session extends Queryable {
  /** Runs `fn` inside BEGIN/COMMIT on this session; rolls back when `fn` throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, scope?: TransactionScope): Promise<T>;
}

export type DbKind = 'pg' | 'pglite';

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Human-readable location for logs (never includes a password). */
  readonly description: string;
  /** Runs `fn` on one connection held for the whole call. */
  withSession<T>(fn: (session: Session) => Promise<T>): Promise<T>;
  /** Runs `fn` inside one transaction on one checked-out connection, scoped by `scope` from its start. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, scope?: TransactionScope): Promise<T>;
  close(): Promise<void>;
}

/**
 * Runs `fn` in one transaction: every query `fn` makes through `tx` commits together or not at all.
 * Never BEGIN through `db.query`: on a pool each query may land on another connection.
 */
export function withTransaction<T>(db: Db, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(fn);
}

/** The settings row-level security reads (migration 012); see tenantScope.ts. */
export const SCOPE_SETTINGS = { tenant: 'accounting.tenant', allTenants: 'accounting.all_tenants' } as const;

/** `scope` as the values of the two settings, in the order of `SET_SCOPE_SQL`'s parameters. */
export function scopeValues(scope: TransactionScope): [tenant: string, allTenants: 'on' | 'off'] {
  return [scope.tenant ?? '', scope.allTenants ? 'on' : 'off'];
}

/** Sets both settings for the rest of the open transaction (`SET LOCAL` semantics). */
export const SET_SCOPE_SQL = `SELECT set_config('${SCOPE_SETTINGS.tenant}', $1, true), set_config('${SCOPE_SETTINGS.allTenants}', $2, true)`;

/**
 * The script that opens a transaction in `scope`: BEGIN and both settings in one round trip
 * (a simple-protocol script, without parameters, so `literal` must quote its argument).
 */
export function beginScoped(scope: TransactionScope | undefined, literal: (value: string) => string): string {
  if (!scope) return 'BEGIN';
  const [tenant, allTenants] = scopeValues(scope);
  return `BEGIN; SELECT set_config('${SCOPE_SETTINGS.tenant}', ${literal(tenant)}, true), set_config('${SCOPE_SETTINGS.allTenants}', '${allTenants}', true)`;
}

/** The range of PostgreSQL's `bigint` (ids, microsecond timestamps): inputs outside it are refused before a query. */
export const PG_BIGINT = { MIN: -(2n ** 63n), MAX: 2n ** 63n - 1n } as const;

/** OIDs of the types both drivers are told to return as plain strings. */
export const PG_TYPE = { INT8: 20, DATE: 1082 } as const;

/** Removes the password from a connection string so it can be logged. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable database url)';
  }
}
