import type { Queryable } from '../db.js';
import { sqlParams } from '../sqlParams.js';

/** A bank transaction as reconciliation sees it (live rows of every source of the tenant). */
export interface ReconTransactionRow {
  source: string;
  external_id: string;
  account_id: string;
  amount: string;
  currency: string;
  booked_date: string;
  status: 'pending' | 'posted';
  description: string;
  counterparty: string | null;
  reference: string | null;
}

/**
 * Takes the tenant's reconciliation lock for the current transaction, waiting for a run in
 * progress: one run per tenant at a time. Scoped by schema, like every advisory lock here.
 */
export async function lockReconciliation(tx: Queryable, tenant: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('recon'), hashtext(current_schema() || ':' || $1))`, [tenant]);
}

/** Live bank transactions of the tenant booked within [from, to], without a confirmed match. */
export async function unreconciledTransactions(db: Queryable, tenant: string, from: string, to: string): Promise<ReconTransactionRow[]> {
  const { rows } = await db.query<ReconTransactionRow>(
    `SELECT l.source, l.external_id, l.account_id, l.amount::text AS amount, l.currency, l.booked_date, l.status,
            l.description, l.counterparty, l.reference
     FROM external_ledger l
     WHERE l.tenant = $1 AND l.removed_at IS NULL AND l.booked_date BETWEEN $2::date AND $3::date
       AND NOT EXISTS (SELECT 1 FROM recon_suggestions s
                       WHERE s.tenant = l.tenant AND s.source = l.source AND s.external_id = l.external_id AND s.decision = 'confirm')
     ORDER BY l.source, l.external_id`,
    [tenant, from, to],
  );
  return rows;
}

/** Entry ids a person confirmed for some transaction: never matched again. */
export async function confirmedEntryIds(db: Queryable, tenant: string): Promise<Set<string>> {
  const { rows } = await db.query<{ entry_id: string }>(
    `SELECT entry_id FROM recon_suggestions WHERE tenant = $1 AND decision = 'confirm' AND entry_id IS NOT NULL`,
    [tenant],
  );
  return new Set(rows.map((row) => row.entry_id));
}

/** Declined pairs as `source|external_id|entry_id`. */
export async function declinedPairs(db: Queryable, tenant: string): Promise<{ source: string; external_id: string; entry_id: string }[]> {
  const { rows } = await db.query<{ source: string; external_id: string; entry_id: string }>(
    `SELECT source, external_id, entry_id FROM recon_declined_pairs WHERE tenant = $1`,
    [tenant],
  );
  return rows;
}

/** One computed suggestion to store. */
export interface SuggestionWrite {
  source: string;
  external_id: string;
  status: 'matched' | 'suggested' | 'unmatched' | 'blocked';
  entry_id: string | null;
  confidence: number | null;
  rule: string;
  rationale: string;
  criteria: unknown[];
  candidates: unknown[];
  rules_version: string;
}

/**
 * Stores the run's outcomes in one statement: new transactions get a suggestion, undecided or
 * declined ones are replaced, confirmed ones are never touched. Answers how many were written.
 */
export async function storeSuggestions(db: Queryable, tenant: string, suggestions: readonly SuggestionWrite[]): Promise<number> {
  if (suggestions.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO recon_suggestions AS s (tenant, source, external_id, status, entry_id, confidence, rule, rationale, criteria, candidates, rules_version)
     SELECT $1, r.source, r.external_id, r.status, r.entry_id, r.confidence, r.rule, r.rationale, r.criteria, r.candidates, r.rules_version
     FROM jsonb_to_recordset($2::jsonb) AS r(source text, external_id text, status text, entry_id text, confidence numeric,
                                             rule text, rationale text, criteria jsonb, candidates jsonb, rules_version text)
     ON CONFLICT (tenant, source, external_id) DO UPDATE SET
       status = excluded.status, entry_id = excluded.entry_id, confidence = excluded.confidence, rule = excluded.rule,
       rationale = excluded.rationale, criteria = excluded.criteria, candidates = excluded.candidates,
       rules_version = excluded.rules_version, decision = NULL, decided_at = NULL, decided_by = NULL, updated_at = now()
     WHERE s.decision IS DISTINCT FROM 'confirm'`,
    [tenant, JSON.stringify(suggestions)],
  );
  return rowCount;
}

/** A stored suggestion with its bank transaction and entry, as the API shows it. */
export interface SuggestionView {
  id: string;
  source: string;
  status: string;
  confidence: number | null;
  rule: string;
  rationale: string;
  criteria: unknown[];
  candidates: unknown[];
  rules_version: string;
  decision: 'confirm' | 'decline' | null;
  decided_at: Date | null;
  decided_by: string | null;
  transaction: Record<string, unknown>;
  entry: Record<string, unknown> | null;
}

const VIEW = `
  SELECT s.id::text AS id, s.source, s.status, s.confidence::float8 AS confidence, s.rule, s.rationale, s.criteria,
         s.candidates, s.rules_version, s.decision, s.decided_at, s.decided_by,
         json_build_object('external_id', l.external_id, 'account_id', l.account_id, 'amount', l.amount::text,
                           'currency', l.currency, 'booked_date', l.booked_date, 'status', l.status,
                           'description', l.description, 'counterparty', l.counterparty, 'reference', l.reference) AS transaction,
         CASE WHEN e.entry_id IS NULL THEN NULL ELSE
           json_build_object('entry_id', e.entry_id, 'amount', e.amount::text, 'currency', e.currency, 'date', e.entry_date,
                             'memo', e.memo, 'reference', e.reference, 'counterparty', e.counterparty) END AS entry
  FROM recon_suggestions s
  JOIN external_ledger l ON l.tenant = s.tenant AND l.source = s.source AND l.external_id = s.external_id
  LEFT JOIN ledger_entries e ON e.tenant = s.tenant AND e.entry_id = s.entry_id`;

/** A page of the tenant's suggestions, newest id first, optionally of some statuses. */
export async function listSuggestions(
  db: Queryable,
  tenant: string,
  options: { statuses?: readonly string[]; limit: number; beforeId?: string | null },
): Promise<{ items: SuggestionView[]; next: string | null }> {
  const { params, where, param } = sqlParams([tenant]);
  where.push('s.tenant = $1');
  if (options.statuses?.length) where.push(`s.status = ANY(${param(options.statuses)}::text[])`);
  if (options.beforeId) where.push(`s.id < ${param(options.beforeId)}::bigint`);
  const { rows } = await db.query<SuggestionView>(`${VIEW} WHERE ${where.join(' AND ')} ORDER BY s.id DESC LIMIT ${param(options.limit + 1)}`, params);
  const items = rows.slice(0, options.limit);
  return { items, next: rows.length > options.limit ? (items.at(-1)?.id ?? null) : null };
}

/** One suggestion of the tenant, locked for a decision (in a transaction). */
export async function findSuggestionForUpdate(db: Queryable, tenant: string, id: string): Promise<SuggestionView | undefined> {
  const { rows } = await db.query<SuggestionView>(`${VIEW} WHERE s.tenant = $1 AND s.id = $2::bigint FOR UPDATE OF s`, [tenant, id]);
  return rows[0];
}

/** Whether another suggestion already holds a confirmed match to `entryId`. */
export async function entryConfirmedElsewhere(db: Queryable, tenant: string, entryId: string, suggestionId: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM recon_suggestions WHERE tenant = $1 AND entry_id = $2 AND decision = 'confirm' AND id <> $3::bigint`,
    [tenant, entryId, suggestionId],
  );
  return rows.length > 0;
}

/** Records a person's decision on a suggestion. */
export async function recordSuggestionDecision(
  db: Queryable,
  tenant: string,
  id: string,
  decision: { decision: 'confirm' | 'decline'; entryId: string | null; decidedBy: string },
): Promise<void> {
  await db.query(
    `UPDATE recon_suggestions SET decision = $3, decided_at = now(), decided_by = $4, updated_at = now(),
       status = CASE WHEN $3 = 'confirm' THEN 'matched' ELSE status END,
       entry_id = CASE WHEN $3 = 'confirm' THEN $5 ELSE entry_id END
     WHERE tenant = $1 AND id = $2::bigint`,
    [tenant, id, decision.decision, decision.decidedBy, decision.entryId],
  );
}

/** Remembers a declined pair so it is never suggested again. */
export async function rememberDeclinedPair(db: Queryable, tenant: string, pair: { source: string; externalId: string; entryId: string }): Promise<void> {
  await db.query(
    `INSERT INTO recon_declined_pairs (tenant, source, external_id, entry_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [tenant, pair.source, pair.externalId, pair.entryId],
  );
}

/** Counts of the tenant's suggestions by status. */
export async function suggestionCounts(db: Queryable, tenant: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM recon_suggestions WHERE tenant = $1 GROUP BY status`,
    [tenant],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}
