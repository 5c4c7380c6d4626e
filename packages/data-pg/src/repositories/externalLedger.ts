import type { Queryable } from '../db.js';
import { inTenant } from '../tenantScope.js';

/** One bank transaction as the sync service hands it to storage. */
export interface LedgerTransaction {
  externalId: string;
  accountId: string;
  amount: string;
  currency: string;
  bookedDate: string;
  status: 'pending' | 'posted';
  pendingExternalId: string | null;
  description: string;
  counterparty: string | null;
  reference: string | null;
  providerUpdatedAt: string | null;
}

export interface PageCounts {
  added: number;
  modified: number;
  removed: number;
  /** Removed ids we never stored (the contract allows them; they are only counted). */
  removedUnknown: number;
}

/** Which (tenant, source) a write belongs to, and the marker of the sync pass that saw it. */
export interface LedgerScope {
  tenant: string;
  source: string;
  seenMarker: string;
}

const columns = <K extends keyof LedgerTransaction>(txs: readonly LedgerTransaction[], key: K) => txs.map((tx) => tx[key]);

/**
 * Upserts a page's added and modified transactions in one statement. Later versions of the same
 * id within the batch win. A row's `ts` moves only when its content changed; `note` is never
 * touched; a row the bank sends again after removing it is revived.
 */
export async function upsertLedgerTransactions(
  db: Queryable,
  scope: LedgerScope,
  transactions: readonly LedgerTransaction[],
): Promise<{ added: number; modified: number }> {
  return inTenant(db, scope.tenant, async (db) => {
    if (transactions.length === 0) return { added: 0, modified: 0 };
    const latest = [...new Map(transactions.map((tx) => [tx.externalId, tx])).values()];
    const { rows } = await db.query<{ inserted: boolean; changed: boolean }>(
      `INSERT INTO external_ledger AS t
         (tenant, source, external_id, account_id, amount, currency, booked_date, status, pending_external_id,
          description, counterparty, reference, provider_updated_at, seen_run_id)
       SELECT $1, $2, u.external_id, u.account_id, u.amount::numeric, u.currency, u.booked_date::date, u.status,
              u.pending_external_id, u.description, u.counterparty, u.reference, u.provider_updated_at::timestamptz, $3::bigint
       FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                   $12::text[], $13::text[], $14::text[])
            AS u(external_id, account_id, amount, currency, booked_date, status, pending_external_id, description,
                 counterparty, reference, provider_updated_at)
       ON CONFLICT (tenant, source, external_id) DO UPDATE SET
         account_id = excluded.account_id,
         amount = excluded.amount,
         currency = excluded.currency,
         booked_date = excluded.booked_date,
         status = excluded.status,
         pending_external_id = excluded.pending_external_id,
         description = excluded.description,
         counterparty = excluded.counterparty,
         reference = excluded.reference,
         provider_updated_at = excluded.provider_updated_at,
         removed_at = NULL,
         seen_run_id = excluded.seen_run_id,
         ts = CASE
           WHEN (t.account_id, t.amount, t.currency, t.booked_date, t.status, t.pending_external_id, t.description,
                 t.counterparty, t.reference, t.removed_at IS NULL)
             IS DISTINCT FROM
                (excluded.account_id, excluded.amount, excluded.currency, excluded.booked_date, excluded.status,
                 excluded.pending_external_id, excluded.description, excluded.counterparty, excluded.reference, true)
           THEN now() ELSE t.ts END
       RETURNING (xmax = 0) AS inserted, (ts = now()) AS changed`,
      [
        scope.tenant,
        scope.source,
        scope.seenMarker,
        columns(latest, 'externalId'),
        columns(latest, 'accountId'),
        columns(latest, 'amount'),
        columns(latest, 'currency'),
        columns(latest, 'bookedDate'),
        columns(latest, 'status'),
        columns(latest, 'pendingExternalId'),
        columns(latest, 'description'),
        columns(latest, 'counterparty'),
        columns(latest, 'reference'),
        columns(latest, 'providerUpdatedAt'),
      ],
    );
    const added = rows.filter((row) => row.inserted).length;
    const modified = rows.filter((row) => !row.inserted && row.changed).length;

    const linked = latest.filter((tx) => tx.pendingExternalId !== null).map((tx) => tx.externalId);
    if (linked.length > 0) {
      // A note attached to a pending transaction follows it to its posted version.
      await db.query(
        `UPDATE external_ledger AS posted SET note = pending.note
         FROM external_ledger AS pending
         WHERE posted.tenant = $1 AND posted.source = $2 AND posted.external_id = ANY($3::text[])
           AND posted.note IS NULL
           AND pending.tenant = posted.tenant AND pending.source = posted.source
           AND pending.external_id = posted.pending_external_id AND pending.note IS NOT NULL`,
        [scope.tenant, scope.source, linked],
      );
    }
    return { added, modified };
  });
}

/** Tombstones removed transactions (never deletes them); counts ids we never had. */
export async function markLedgerTransactionsRemoved(
  db: Queryable,
  scope: Pick<LedgerScope, 'tenant' | 'source'>,
  externalIds: readonly string[],
): Promise<{ removed: number; removedUnknown: number }> {
  return inTenant(db, scope.tenant, async (db) => {
    if (externalIds.length === 0) return { removed: 0, removedUnknown: 0 };
    const { rows } = await db.query<{ removed: number; unknown: number }>(
      `WITH ids AS (SELECT DISTINCT unnest($3::text[]) AS id),
       tombstoned AS (
         UPDATE external_ledger SET removed_at = now(), ts = now()
         WHERE tenant = $1 AND source = $2 AND external_id IN (SELECT id FROM ids) AND removed_at IS NULL
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM tombstoned)::int AS removed,
              (SELECT count(*) FROM ids WHERE NOT EXISTS (
                 SELECT 1 FROM external_ledger e WHERE e.tenant = $1 AND e.source = $2 AND e.external_id = ids.id))::int AS unknown`,
      [scope.tenant, scope.source, externalIds],
    );
    return { removed: rows[0]?.removed ?? 0, removedUnknown: rows[0]?.unknown ?? 0 };
  });
}

/**
 * After a full sync: tombstones live rows booked on or after `startDate` that this pass did not
 * see, because the bank no longer has them.
 */
export async function sweepUnseenLedgerTransactions(db: Queryable, scope: LedgerScope, startDate: string): Promise<number> {
  return inTenant(db, scope.tenant, async (db) => {
    const { rowCount } = await db.query(
      `UPDATE external_ledger SET removed_at = now(), ts = now()
       WHERE tenant = $1 AND source = $2 AND removed_at IS NULL AND booked_date >= $3::date
         AND seen_run_id IS DISTINCT FROM $4::bigint`,
      [scope.tenant, scope.source, startDate, scope.seenMarker],
    );
    return rowCount;
  });
}

/**
 * The source's loop-base cursor: the `next_cursor` of the last `has_more: false` page stored,
 * or null before its first complete pass. An unfinished pass is in `readSyncProgress`.
 */
export async function readSyncCursor(db: Queryable, tenant: string, source: string): Promise<string | null> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<{ cursor: string }>(
      `SELECT cursor FROM external_ledger_offset WHERE tenant = $1 AND source = $2`,
      [tenant, source],
    );
    return rows[0]?.cursor ?? null;
  });
}

/**
 * Stores the loop-base cursor and ends the unfinished pass, if any; call it in the transaction
 * that stores the pass's last page.
 */
export async function storeSyncCursor(db: Queryable, tenant: string, source: string, cursor: string): Promise<void> {
  return inTenant(db, tenant, async (db) => {
    await db.query(
      `INSERT INTO external_ledger_offset (tenant, source, cursor, updated_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (tenant, source) DO UPDATE SET cursor = excluded.cursor, updated_at = now()`,
      [tenant, source, cursor],
    );
    await db.query(`DELETE FROM external_sync_progress WHERE tenant = $1 AND source = $2`, [tenant, source]);
  });
}

/** Where an unfinished sync pass of a source stands (`external_sync_progress`). */
export interface SyncProgress {
  /** The cursor the pass started from (its MUTATION_DURING_PAGINATION restart point); null: a full sync. */
  baseCursor: string | null;
  /** The `next_cursor` of the pass's last stored page: where the next run resumes. */
  pageCursor: string;
  /** `YYYY-MM-DD`: the pass's start date, kept for its end-of-pass tombstone sweep. */
  startDate: string;
  /** The pass's marker in `external_ledger.seen_run_id`. */
  seenMarker: string;
  /** Pages the pass stored so far, over all its runs. */
  pages: number;
  startedAt: Date;
  updatedAt: Date;
}

/** The source's unfinished sync pass, or null when its last pass ended (or none began). */
export async function readSyncProgress(db: Queryable, tenant: string, source: string): Promise<SyncProgress | null> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<{
      base_cursor: string | null;
      page_cursor: string;
      start_date: string;
      seen_marker: string;
      pages: number;
      started_at: Date;
      updated_at: Date;
    }>(
      `SELECT base_cursor, page_cursor, start_date, seen_marker, pages, started_at, updated_at
       FROM external_sync_progress WHERE tenant = $1 AND source = $2`,
      [tenant, source],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      baseCursor: row.base_cursor,
      pageCursor: row.page_cursor,
      startDate: row.start_date,
      seenMarker: row.seen_marker,
      pages: row.pages,
      startedAt: row.started_at,
      updatedAt: row.updated_at,
    };
  });
}

/**
 * Stores where an unfinished pass stands after one more page; call it in the transaction that
 * stores that page. A pass is known by its seen marker: a new marker starts the page count
 * and `started_at` again (a new pass, or one restarted after MUTATION_DURING_PAGINATION).
 */
export async function storeSyncProgress(
  db: Queryable,
  tenant: string,
  source: string,
  progress: Pick<SyncProgress, 'baseCursor' | 'pageCursor' | 'startDate' | 'seenMarker'>,
): Promise<void> {
  return inTenant(db, tenant, async (db) => {
    await db.query(
      `INSERT INTO external_sync_progress AS p (tenant, source, base_cursor, page_cursor, start_date, seen_marker, pages)
       VALUES ($1, $2, $3, $4, $5::date, $6::bigint, 1)
       ON CONFLICT (tenant, source) DO UPDATE SET
         base_cursor = excluded.base_cursor,
         page_cursor = excluded.page_cursor,
         start_date = excluded.start_date,
         pages = CASE WHEN p.seen_marker = excluded.seen_marker THEN p.pages + 1 ELSE 1 END,
         started_at = CASE WHEN p.seen_marker = excluded.seen_marker THEN p.started_at ELSE now() END,
         seen_marker = excluded.seen_marker,
         updated_at = now()`,
      [tenant, source, progress.baseCursor, progress.pageCursor, progress.startDate, progress.seenMarker],
    );
  });
}

/** A stored transaction as the API shows it. */
export interface StoredLedgerTransaction {
  external_id: string;
  account_id: string;
  amount: string;
  currency: string;
  booked_date: string;
  status: 'pending' | 'posted';
  pending_external_id: string | null;
  description: string;
  counterparty: string | null;
  reference: string | null;
  note: string | null;
  removed_at: Date | null;
  ts: Date;
}

/** Every stored transaction of one source, removed ones included, by id. */
export async function listLedgerTransactions(db: Queryable, tenant: string, source: string): Promise<StoredLedgerTransaction[]> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<StoredLedgerTransaction>(
      `SELECT external_id, account_id, amount::text AS amount, currency, booked_date, status, pending_external_id,
              description, counterparty, reference, note, removed_at, ts
       FROM external_ledger WHERE tenant = $1 AND source = $2 ORDER BY external_id`,
      [tenant, source],
    );
    return rows;
  });
}
