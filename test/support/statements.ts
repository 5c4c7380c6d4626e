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

/** The arguments of `audit_search_months` (migration 012), in order, as the repository passes them ($1 ... $11). */
const MONTH_SEARCH_ARGUMENTS: [RegExp, string][] = [
  [/\bmonths\b/g, '$1::timestamptz[]'],
  [/\bq\b/g, '$2::text'],
  [/\bpattern\b/g, '$3::text'],
  [/audit_search_months\.action\b/g, '$4::text'],
  [/\bactions\b/g, '$5::text[]'],
  [/audit_search_months\.actor\b/g, '$6::text'],
  [/\bts_from\b/g, '$7::timestamptz'],
  [/\bts_to\b/g, '$8::timestamptz'],
  [/\bbefore_ts\b/g, "(timestamptz 'epoch' + $9::bigint * interval '1 microsecond')"],
  [/\bbefore_id\b/g, '$10::bigint'],
  [/\bwant\b/g, '$11::int'],
];

/**
 * The query inside `audit_search_months` (migration 012: the audit search's month-by-month step,
 * run as the tables' owner, so the plan of the statement that calls it shows only a Function
 * Scan), with the parameters of `sent`, the repository's call of it: EXPLAIN it to see the plan
 * the function runs. The function's text comes from the database. Run it in the tenant's scope
 * (`inTenant`): the query reads `accounting.tenant`.
 */
export async function monthSearchStatement(db: Queryable, sent: SentStatement): Promise<SentStatement> {
  if (!sent.text.includes('audit_search_months(')) throw new Error('the statement does not call audit_search_months');
  const { rows } = await db.query<{ body: string }>(
    `SELECT prosrc AS body FROM pg_proc WHERE proname = 'audit_search_months' AND pronamespace = current_schema()::regnamespace`,
  );
  const query = /RETURN QUERY([\s\S]*?);\s*END;/.exec(rows[0]?.body ?? '')?.[1];
  if (!query) throw new Error('audit_search_months is missing, or has no RETURN QUERY');
  const text = MONTH_SEARCH_ARGUMENTS.reduce((body, [name, parameter]) => body.replace(name, parameter), query);
  return { text, params: sent.params };
}
