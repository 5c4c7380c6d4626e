import { scopeValues, SET_SCOPE_SQL, type Db, type Queryable, type Session, type TransactionScope } from './db.js';

/*
 * Row-level security (migration 012) lets a statement see and write only the rows of the tenant
 * named by the transaction-local setting `accounting.tenant`, or every tenant's rows when
 * `accounting.all_tenants` is `on` (SCOPE_SETTINGS). Both are set with `SET LOCAL` semantics (`set_config(..., true)`),
 * so they end with the transaction and work behind PgBouncer in transaction mode. A statement run
 * with neither set sees no row at all.
 */

/** The scope already set in an open transaction, so a second repository call in it sends nothing. */
const scopes = new WeakMap<Queryable, string>();

const ALL = '\u0000all';

function opensTransactions(q: Queryable): q is Db | Session {
  return typeof (q as Partial<Session>).transaction === 'function';
}

async function inScope<T>(q: Queryable, scope: TransactionScope, key: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  if (scopes.get(q) === key) return fn(q);
  if (opensTransactions(q)) {
    return q.transaction((tx) => {
      scopes.set(tx, key);
      return fn(tx);
    }, scope);
  }
  // `q` is a transaction already open: set the scope in it (for the rest of that transaction).
  await q.query(SET_SCOPE_SQL, scopeValues(scope));
  scopes.set(q, key);
  return fn(q);
}

/**
 * Runs `fn` with row-level security scoped to `tenant`: in a new transaction when `q` is the
 * database or a session, or in `q` itself when it is an open transaction. Every repository
 * function of a tenant's data goes through here, so a query that forgot its tenant filter
 * still reads and writes nothing of another tenant.
 */
export function inTenant<T>(q: Queryable, tenant: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return inScope(q, { tenant }, tenant, fn);
}

/**
 * Runs `fn` with row-level security opened to every tenant: only for the background jobs whose
 * work spans tenants by design (the sync worker's list of sources, the reconciliation queue, the
 * feedback outbox, pruning and the sync metrics). Each caller is named in docs/POLICY.md.
 */
export function inAllTenants<T>(q: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return inScope(q, { allTenants: true }, ALL, fn);
}
