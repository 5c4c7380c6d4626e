import type { Queryable } from '@accounting/data-pg';

/** One statement as a repository sent it. */
export interface SentStatement {
  text: string;
  params: readonly unknown[];
}

/**
 * Every statement `run` sends through the `Queryable` it is given, in order; each also runs on
 * `db` (a repository may decide its next statement from the rows of the last).
 */
export async function statementsSent(db: Queryable, run: (db: Queryable) => Promise<unknown>): Promise<SentStatement[]> {
  const sent: SentStatement[] = [];
  await run({
    query: async (text, params = [], options) => {
      sent.push({ text, params });
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
