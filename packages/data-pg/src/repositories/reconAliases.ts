import type { Queryable } from '../db.js';
import { inTenant } from '../tenantScope.js';
import { isoTimestampSql } from './auditEvents.js';

/** A learned counterparty alias, as the API shows it (migration 013, docs/RECON.md "Aliases"). */
export interface ReconAliasRow {
  id: string;
  bank_name: string;
  ledger_name: string;
  /** The confirmation it was learned from. */
  learned_from: { suggestion_id: string | null; source: string | null; external_id: string | null; entry_id: string | null };
  created_by: string;
  /** ISO 8601, UTC. */
  created_at: string;
}

/** What `learnReconAlias` stores: both names already reduced to alias keys. */
export interface NewReconAlias {
  bankName: string;
  ledgerName: string;
  learnedFrom: { suggestionId: string | null; source: string | null; externalId: string | null; entryId: string | null };
  createdBy: string;
}

/** The most aliases a run reads: beyond that the oldest are left out (`reconAliasesOf`). */
export const RECON_ALIASES_PER_RUN = 10_000;

const COLUMNS = `id::text AS id, bank_name, ledger_name,
  json_build_object('suggestion_id', suggestion_id::text, 'source', source, 'external_id', external_id, 'entry_id', entry_id) AS learned_from,
  created_by, ${isoTimestampSql('created_at')} AS created_at`;

/** Stores the alias; answers the new row, or null when the tenant already had this pair. */
export async function learnReconAlias(db: Queryable, tenant: string, alias: NewReconAlias): Promise<ReconAliasRow | null> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<ReconAliasRow>(
      `INSERT INTO recon_counterparty_aliases (tenant, bank_name, ledger_name, suggestion_id, source, external_id, entry_id, created_by)
       VALUES ($1, $2, $3, $4::bigint, $5, $6, $7, $8)
       ON CONFLICT (tenant, bank_name, ledger_name) DO NOTHING
       RETURNING ${COLUMNS}`,
      [
        tenant,
        alias.bankName,
        alias.ledgerName,
        alias.learnedFrom.suggestionId,
        alias.learnedFrom.source,
        alias.learnedFrom.externalId,
        alias.learnedFrom.entryId,
        alias.createdBy,
      ],
    );
    return rows[0] ?? null;
  });
}

/** A page of the tenant's aliases, newest id first, before `beforeId`; `next` is the cursor of the next page. */
export async function listReconAliases(
  db: Queryable,
  tenant: string,
  options: { limit: number; beforeId?: string | null },
): Promise<{ items: ReconAliasRow[]; next: string | null }> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<ReconAliasRow>(
      `SELECT ${COLUMNS} FROM recon_counterparty_aliases
       WHERE tenant = $1 AND ($2::bigint IS NULL OR id < $2::bigint) ORDER BY id DESC LIMIT $3`,
      [tenant, options.beforeId ?? null, options.limit + 1],
    );
    const items = rows.slice(0, options.limit);
    return { items, next: rows.length > options.limit ? (items.at(-1)?.id ?? null) : null };
  });
}

/**
 * The tenant's aliases for a run: the newest `RECON_ALIASES_PER_RUN`, ordered by name, so the
 * same set always reads the same.
 */
export async function reconAliasesOf(db: Queryable, tenant: string): Promise<{ bankName: string; ledgerName: string }[]> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<{ bankName: string; ledgerName: string }>(
      `SELECT bank_name AS "bankName", ledger_name AS "ledgerName" FROM (
         SELECT bank_name, ledger_name FROM recon_counterparty_aliases WHERE tenant = $1 ORDER BY id DESC LIMIT $2
       ) AS newest ORDER BY bank_name COLLATE "C", ledger_name COLLATE "C"`,
      [tenant, RECON_ALIASES_PER_RUN],
    );
    return rows;
  });
}

/** Deletes one alias of the tenant; answers it, or undefined when the tenant has no such alias. */
export async function deleteReconAlias(db: Queryable, tenant: string, id: string): Promise<ReconAliasRow | undefined> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<ReconAliasRow>(`DELETE FROM recon_counterparty_aliases WHERE tenant = $1 AND id = $2::bigint RETURNING ${COLUMNS}`, [
      tenant,
      id,
    ]);
    return rows[0];
  });
}

/**
 * Marks for the next run (`recon_pending_lines`, as migration 009's triggers do, in key order)
 * every live line of the tenant without a confirmed match whose stored suggestion was decided
 * under the alias key `bankName`: the lines a learned or removed alias with that bank name may
 * decide differently. A line without a stored suggestion is marked already (it is new). Call it
 * in the transaction that learns or removes the alias. Answers how many lines it marked.
 */
export async function markLinesNamed(db: Queryable, tenant: string, bankName: string): Promise<number> {
  return inTenant(db, tenant, async (db) => {
    const { rowCount } = await db.query(
      `INSERT INTO recon_pending_lines (tenant, source, external_id)
       SELECT s.tenant, s.source, s.external_id
       FROM recon_suggestions s
       JOIN external_ledger l ON l.tenant = s.tenant AND l.source = s.source AND l.external_id = s.external_id
       WHERE s.tenant = $1 AND s.alias_key = $2 AND s.decision IS DISTINCT FROM 'confirm' AND l.removed_at IS NULL
       ORDER BY s.tenant, s.source, s.external_id
       ON CONFLICT (tenant, source, external_id) DO UPDATE SET seq = excluded.seq`,
      [tenant, bankName],
    );
    return rowCount;
  });
}
