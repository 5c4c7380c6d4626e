import { SET_SCOPE_SQL, type Queryable } from '@accounting/data-pg';

/** One statement as a repository sent it. */
export interface SentStatement {
  text: string;
  params: readonly unknown[];
}

/**
 * Every statement `run` sends through the `Queryable` it is given, in order, but the row-level
 * security scope (`SET_SCOPE_SQL`, sent first since the `Queryable` looks like an open
 * transaction); each also runs on `db` (a repository may decide its next statement from the rows
 * of the last).
 */
export async function statementsSent(db: Queryable, run: (db: Queryable) => Promise<unknown>): Promise<SentStatement[]> {
  const sent: SentStatement[] = [];
  await run({
    query: async (text, params = [], options) => {
      if (text !== SET_SCOPE_SQL) sent.push({ text, params });
      return db.query(text, params, options);
    },
    exec: (script) => db.exec(script),
  });
  return sent;
}

/** `EXPLAIN` of `statement` on `db`, with its parameters, as text. */
export async function explain(db: Queryable, statement: SentStatement): Promise<string> {
  const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement.text}`, statement.params);
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

/**
 * `EXPLAIN` of the query inside `audit_search_month_rows` (migration 012: the audit search's
 * month candidates, run as the tables' owner, so the plan of the statement that calls it shows
 * only a Function Scan) for these arguments, with the function's own text from the database.
 * `tx` must be scoped to the tenant (`inTenant`), as the function reads `accounting.tenant`.
 */
export async function explainMonthRows(tx: Queryable, args: { monthStart: string; q: string; action: string | null }): Promise<string> {
  const { rows } = await tx.query<{ body: string }>(`SELECT prosrc AS body FROM pg_proc WHERE proname = 'audit_search_month_rows'`);
  const body = rows[0]?.body;
  if (!body) throw new Error('audit_search_month_rows does not exist');
  const text = body
    .replaceAll('audit_search_month_rows.action', '$3::text')
    .replace(/\bmonth_start\b/g, '$1::timestamptz')
    .replace(/\bq\b/g, '$2::text');
  return explain(tx, { text, params: [args.monthStart, args.q, args.action] });
}
