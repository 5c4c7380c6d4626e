import type { Queryable } from '../db.js';
import { inTenant } from '../tenantScope.js';
import { sqlParams } from '../sqlParams.js';

/** An internal ledger entry, as the API shows it. */
export interface LedgerEntry {
  entry_id: string;
  amount: string;
  currency: string;
  date: string;
  memo: string;
  reference: string | null;
  counterparty: string | null;
}

export interface ImportCounts {
  created: number;
  updated: number;
  unchanged: number;
}

const columns = <K extends keyof LedgerEntry>(entries: readonly LedgerEntry[], key: K) => entries.map((entry) => entry[key]);

/**
 * Imports entries in one statement, idempotent by the caller's `entry_id`: a new id is created,
 * a changed one updated, an identical one left alone. Later duplicates in the batch win.
 */
export async function importLedgerEntries(db: Queryable, tenant: string, entries: readonly LedgerEntry[]): Promise<ImportCounts> {
  return inTenant(db, tenant, async (db) => {
    const latest = [...new Map(entries.map((entry) => [entry.entry_id, entry])).values()];
    if (latest.length === 0) return { created: 0, updated: 0, unchanged: 0 };
    const { rows } = await db.query<{ created: boolean; changed: boolean }>(
      `INSERT INTO ledger_entries AS l (tenant, entry_id, amount, currency, entry_date, memo, reference, counterparty)
       SELECT $1, u.entry_id, u.amount::numeric, u.currency, u.entry_date::date, u.memo, u.reference, u.counterparty
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
            AS u(entry_id, amount, currency, entry_date, memo, reference, counterparty)
       ON CONFLICT (tenant, entry_id) DO UPDATE SET
         amount = excluded.amount, currency = excluded.currency, entry_date = excluded.entry_date,
         memo = excluded.memo, reference = excluded.reference, counterparty = excluded.counterparty,
         updated_at = CASE
           WHEN (l.amount, l.currency, l.entry_date, l.memo, l.reference, l.counterparty)
             IS DISTINCT FROM (excluded.amount, excluded.currency, excluded.entry_date, excluded.memo, excluded.reference, excluded.counterparty)
           THEN now() ELSE l.updated_at END
       RETURNING (xmax = 0) AS created, (updated_at = now()) AS changed`,
      [
        tenant,
        columns(latest, 'entry_id'),
        columns(latest, 'amount'),
        columns(latest, 'currency'),
        columns(latest, 'date'),
        columns(latest, 'memo'),
        columns(latest, 'reference'),
        columns(latest, 'counterparty'),
      ],
    );
    const created = rows.filter((row) => row.created).length;
    const updated = rows.filter((row) => !row.created && row.changed).length;
    return { created, updated, unchanged: rows.length - created - updated };
  });
}

const SELECT = `SELECT entry_id, amount::text AS amount, currency, entry_date AS date, memo, reference, counterparty FROM ledger_entries`;

/** A page of the tenant's entries ordered by date then id, after `after` (keyset). */
export async function listLedgerEntries(
  db: Queryable,
  tenant: string,
  options: { from?: string; to?: string; limit: number; after?: { date: string; entryId: string } | null },
): Promise<{ items: LedgerEntry[]; next: { date: string; entryId: string } | null }> {
  return inTenant(db, tenant, async (db) => {
    const { params, where, param } = sqlParams([tenant]);
    where.push('tenant = $1');
    if (options.from) where.push(`entry_date >= ${param(options.from)}::date`);
    if (options.to) where.push(`entry_date <= ${param(options.to)}::date`);
    if (options.after) where.push(`(entry_date, entry_id) > (${param(options.after.date)}::date, ${param(options.after.entryId)})`);
    const { rows } = await db.query<LedgerEntry>(
      `${SELECT} WHERE ${where.join(' AND ')} ORDER BY entry_date, entry_id LIMIT ${param(options.limit + 1)}`,
      params,
    );
    const items = rows.slice(0, options.limit);
    const last = items.at(-1);
    return { items, next: rows.length > options.limit && last ? { date: last.date, entryId: last.entry_id } : null };
  });
}

/** One entry of the tenant, or undefined. */
export async function findLedgerEntry(db: Queryable, tenant: string, entryId: string): Promise<LedgerEntry | undefined> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<LedgerEntry>(`${SELECT} WHERE tenant = $1 AND entry_id = $2`, [tenant, entryId]);
    return rows[0];
  });
}
