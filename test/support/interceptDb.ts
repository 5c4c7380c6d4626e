import type { Db, Queryable, Session } from '@accounting/data-pg';

/** What to do around each statement an intercepted `Db` runs. */
export interface StatementHooks {
  /** Before the statement is sent; throwing fails it as the database would, awaiting delays it. */
  before?: (text: string) => void | Promise<void>;
  /** After it answered. */
  after?: (text: string) => void;
}

/**
 * `db` with `hooks` around every statement it runs: on the pool, and in every transaction or
 * session it opens (repositories run a tenant's statements in a transaction, for row-level
 * security). Fault tests use it to fail or hold one statement.
 */
export function interceptQueries(db: Db, hooks: StatementHooks): Db {
  const wrap = <Q extends Queryable>(q: Q): Q => ({
    ...q,
    async query(text: string, params?: readonly unknown[], options?: Parameters<Queryable['query']>[2]) {
      await hooks.before?.(text);
      const result = await q.query(text, params, options);
      hooks.after?.(text);
      return result;
    },
  });
  const wrapSession = (session: Session): Session => ({
    ...wrap(session),
    transaction: (fn, scope) => session.transaction((tx) => fn(wrap(tx)), scope),
  });
  return {
    ...wrap(db),
    transaction: (fn, scope) => db.transaction((tx) => fn(wrap(tx)), scope),
    withSession: (fn) => db.withSession((session) => fn(wrapSession(session))),
  };
}
