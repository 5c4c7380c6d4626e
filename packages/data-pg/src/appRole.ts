import type { Queryable } from './db.js';

type Privilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

/**
 * What the application's role (the user of `DATABASE_URL`: the BFF and the sync worker) may do
 * on each table, and nothing more: no TRUNCATE, no DDL, and on `audit_events` only INSERT and
 * SELECT. The migrations' owner role (`MIGRATION_DATABASE_URL`) owns the tables. Every table
 * the migrations create must be listed (a test checks it); `ON CONFLICT ... DO UPDATE` needs
 * UPDATE, a trigger's writes need the privileges of the statement's role.
 */
export const APP_ROLE_PRIVILEGES: Readonly<Record<string, readonly Privilege[]>> = {
  schema_migrations: ['SELECT'],
  audit_events: ['SELECT', 'INSERT'],
  audit_chain_heads: ['SELECT', 'INSERT', 'UPDATE'],
  idempotency_keys: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  external_sources: ['SELECT', 'INSERT', 'UPDATE'],
  external_connection_owners: ['SELECT', 'INSERT'],
  external_ledger: ['SELECT', 'INSERT', 'UPDATE'],
  external_ledger_offset: ['SELECT', 'INSERT', 'UPDATE'],
  external_sync_runs: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  external_sync_state: ['SELECT', 'INSERT', 'UPDATE'],
  external_sync_progress: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  feedback_outbox: ['SELECT', 'INSERT', 'UPDATE'],
  ledger_entries: ['SELECT', 'INSERT', 'UPDATE'],
  recon_suggestions: ['SELECT', 'INSERT', 'UPDATE'],
  recon_declined_pairs: ['SELECT', 'INSERT'],
  recon_runs: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  recon_state: ['SELECT', 'INSERT', 'UPDATE'],
  recon_scored_entries: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  recon_pending_lines: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  recon_pending_days: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  recon_counterparty_aliases: ['SELECT', 'INSERT', 'DELETE'],
  recon_entry_holds: ['SELECT', 'INSERT', 'DELETE'],
  recon_matched_entries: ['SELECT', 'INSERT'],
};

/** The functions the application's role may call beyond PUBLIC's (each revoked from PUBLIC by its migration). */
export const APP_ROLE_FUNCTIONS: readonly string[] = [
  'audit_search_months(timestamptz[], text, text, text, text[], text, timestamptz, timestamptz, timestamptz, bigint, int)',
];

/** `name` quoted as an SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Grants `role` exactly `APP_ROLE_PRIVILEGES` on the tables of the current schema, after revoking
 * whatever it had there (so a privilege granted by hand does not outlive the next run), plus the
 * schema itself and its sequences. Idempotent; run by the migration runner after the migrations,
 * in the transaction `tx`, as the owner, with EXECUTE on `APP_ROLE_FUNCTIONS`. Returns the tables granted.
 */
export async function grantAppRole(tx: Queryable, role: string): Promise<string[]> {
  const { rows } = await tx.query<{ schema: string; table: string }>(
    `SELECT n.nspname AS schema, c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
  );
  const schema = rows[0]?.schema ?? (await tx.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]?.schema;
  if (!schema) throw new Error('no current schema to grant on');
  const who = quoteIdentifier(role);
  const where = quoteIdentifier(schema);
  const statements = [
    `GRANT USAGE ON SCHEMA ${where} TO ${who}`,
    `REVOKE ALL ON ALL TABLES IN SCHEMA ${where} FROM ${who}`,
    `REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${where} FROM ${who}`,
    `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${where} TO ${who}`,
  ];
  const granted: string[] = [];
  for (const { table } of rows) {
    const privileges = APP_ROLE_PRIVILEGES[table];
    if (!privileges) continue;
    statements.push(`GRANT ${privileges.join(', ')} ON ${where}.${quoteIdentifier(table)} TO ${who}`);
    granted.push(table);
  }
  for (const fn of APP_ROLE_FUNCTIONS) statements.push(`GRANT EXECUTE ON FUNCTION ${where}.${fn} TO ${who}`);
  await tx.exec(statements.join(';\n'));
  return granted;
}
