import type { Queryable } from '../db.js';
import { inTenant } from '../tenantScope.js';
import { sqlParams } from '../sqlParams.js';
import { RECON_RUN_FENCE_SQL, ReconRunLostError, type ReconRunFence } from './reconRunFence.js';

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

/** A bank line as a run reads it, with what the tenant's stored suggestion for it says. */
export interface ReconLineRow extends ReconTransactionRow {
  /** The stored suggestion's `updated_at` as text: its write is skipped if the row changed since (a decision). Null: none stored. */
  seen: string | null;
  /** The entries the stored suggestion was scored against (empty when none is stored). */
  scored: string[];
  /** Those of them it could claim (at the auto-match threshold or above). */
  claimable: string[];
}

/** A marked line: `live` unless removed by the bank or confirmed by a person (then it only leaves the runs). */
export interface MarkedReconLineRow extends ReconLineRow {
  live: boolean;
}

/** Days, inclusive, as `YYYY-MM-DD`. */
export interface DateInterval {
  from: string;
  to: string;
}

/** A line's key. */
export interface ReconLineKey {
  source: string;
  external_id: string;
}

const LINE_COLUMNS = `l.source, l.external_id, l.account_id, l.amount::text AS amount, l.currency, l.booked_date, l.status,
  l.description, l.counterparty, l.reference, s.updated_at::text AS seen, coalesce(s.scored_entry_ids, '{}') AS scored,
  coalesce(s.claimable_entry_ids, '{}') AS claimable`;
const WITH_SUGGESTION = `LEFT JOIN recon_suggestions s ON s.tenant = l.tenant AND s.source = l.source AND s.external_id = l.external_id`;

/** A page of the tenant's marked lines (`recon_pending_lines`) in mark order, after `afterSeq`. */
export async function pendingLineMarks(
  db: Queryable,
  tenant: string,
  afterSeq: string,
  limit: number,
): Promise<(ReconLineKey & { seq: string })[]> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<ReconLineKey & { seq: string }>(
      `SELECT source, external_id, seq FROM recon_pending_lines WHERE tenant = $1 AND seq > $2::bigint ORDER BY seq LIMIT $3`,
      [tenant, afterSeq, limit],
    );
    return rows;
  });
}

/** The tenant's marked ledger dates (`recon_pending_days`). */
export async function pendingDayMarks(db: Queryable, tenant: string): Promise<{ day: string; seq: string }[]> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<{ day: string; seq: string }>(`SELECT day, seq FROM recon_pending_days WHERE tenant = $1 ORDER BY day`, [tenant]);
    return rows;
  });
}

/**
 * Deletes the marks a finished run read, by seq: a mark rewritten since has another seq and
 * stays. Locks them in key order first, as the triggers that write them do (no deadlock with
 * a concurrent import or sync). Call it in the pass's closing transaction (`completeReconPass`).
 */
export async function deletePendingMarks(db: Queryable, tenant: string, marks: { lineSeqs: readonly string[]; daySeqs: readonly string[] }): Promise<void> {
  return inTenant(db, tenant, async (db) => {
    if (marks.lineSeqs.length > 0) {
      await db.query(
        `DELETE FROM recon_pending_lines p
         USING (SELECT source, external_id FROM recon_pending_lines WHERE tenant = $1 AND seq = ANY($2::bigint[])
                ORDER BY source, external_id FOR UPDATE) AS k
         WHERE p.tenant = $1 AND p.source = k.source AND p.external_id = k.external_id AND p.seq = ANY($2::bigint[])`,
        [tenant, marks.lineSeqs],
      );
    }
    if (marks.daySeqs.length > 0) {
      await db.query(
        `DELETE FROM recon_pending_days p
         USING (SELECT day FROM recon_pending_days WHERE tenant = $1 AND seq = ANY($2::bigint[]) ORDER BY day FOR UPDATE) AS k
         WHERE p.tenant = $1 AND p.day = k.day AND p.seq = ANY($2::bigint[])`,
        [tenant, marks.daySeqs],
      );
    }
  });
}

/** The tenant's lines with these keys, whatever their state (`live` says). */
export async function reconLinesByKey(db: Queryable, tenant: string, keys: readonly ReconLineKey[]): Promise<MarkedReconLineRow[]> {
  return inTenant(db, tenant, async (db) => {
    if (keys.length === 0) return [];
    const { rows } = await db.query<MarkedReconLineRow>(
      `SELECT ${LINE_COLUMNS}, (l.removed_at IS NULL AND s.decision IS DISTINCT FROM 'confirm') AS live
       FROM unnest($2::text[], $3::text[]) AS k(source, external_id)
       JOIN external_ledger l ON l.tenant = $1 AND l.source = k.source AND l.external_id = k.external_id
       ${WITH_SUGGESTION}`,
      [tenant, keys.map((key) => key.source), keys.map((key) => key.external_id)],
    );
    return rows;
  });
}

/**
 * A page of the tenant's live lines without a confirmed match booked within `interval`, by
 * booked date then key, after `after`.
 */
export async function reconLinesBookedWithin(
  db: Queryable,
  tenant: string,
  interval: DateInterval,
  after: { booked_date: string; source: string; external_id: string } | null,
  limit: number,
): Promise<ReconLineRow[]> {
  return inTenant(db, tenant, async (db) => {
    // The page starts at the cursor's date, so each page reads from where the last one stopped.
    const { rows } = await db.query<ReconLineRow>(
      `SELECT ${LINE_COLUMNS}
       FROM external_ledger l ${WITH_SUGGESTION}
       WHERE l.tenant = $1 AND l.removed_at IS NULL AND l.booked_date BETWEEN $2::date AND $3::date
         AND s.decision IS DISTINCT FROM 'confirm'
         ${after ? 'AND (l.booked_date, l.source, l.external_id) > ($2::date, $5, $6)' : ''}
       ORDER BY l.booked_date, l.source, l.external_id LIMIT $4`,
      after
        ? [tenant, after.booked_date, interval.to, limit, after.source, after.external_id]
        : [tenant, interval.from, interval.to, limit],
    );
    return rows;
  });
}

/**
 * The tenant's live lines without a confirmed match whose stored suggestion was scored against
 * (`scored`) or could claim (`claimable`) one of `entryIds`.
 */
export async function reconLinesByStoredEntries(
  db: Queryable,
  tenant: string,
  column: 'scored' | 'claimable',
  entryIds: readonly string[],
): Promise<ReconLineRow[]> {
  return inTenant(db, tenant, async (db) => {
    if (entryIds.length === 0) return [];
    const { rows } = await db.query<ReconLineRow>(
      `SELECT ${LINE_COLUMNS}
       FROM (SELECT DISTINCT source, external_id FROM recon_scored_entries
             WHERE tenant = $1 AND entry_id = ANY($2::text[]) ${column === 'claimable' ? 'AND claimable' : ''}) AS k
       JOIN external_ledger l ON l.tenant = $1 AND l.source = k.source AND l.external_id = k.external_id
       ${WITH_SUGGESTION}
       WHERE l.removed_at IS NULL AND s.decision IS DISTINCT FROM 'confirm'`,
      [tenant, entryIds],
    );
    return rows;
  });
}

/**
 * Entry ids dated within `interval` that a confirmed match holds (a person confirmed them for
 * some transaction, alone or as part of a batch or split): never matched again.
 */
export async function confirmedEntryIdsWithin(db: Queryable, tenant: string, interval: DateInterval): Promise<string[]> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<{ entry_id: string }>(
      `SELECT h.entry_id FROM recon_entry_holds h
       JOIN ledger_entries e ON e.tenant = h.tenant AND e.entry_id = h.entry_id
       WHERE h.tenant = $1 AND e.entry_date BETWEEN $2::date AND $3::date
       UNION
       -- A confirm written by the release before 014 (its pods serve during a rolling upgrade) holds no row.
       SELECT s.entry_id FROM recon_suggestions s
       JOIN ledger_entries e ON e.tenant = s.tenant AND e.entry_id = s.entry_id
       WHERE s.tenant = $1 AND s.decision = 'confirm' AND e.entry_date BETWEEN $2::date AND $3::date`,
      [tenant, interval.from, interval.to],
    );
    return rows.map((row) => row.entry_id);
  });
}

/**
 * Entries dated within `interval` that a run auto-matched (no decision yet), with their lines:
 * a run that does not decide those lines again leaves them held (no group of another line
 * takes them).
 */
export async function autoMatchedEntriesWithin(
  db: Queryable,
  tenant: string,
  interval: DateInterval,
): Promise<{ entry_id: string; source: string; external_id: string }[]> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<{ entry_id: string; source: string; external_id: string }>(
      `SELECT s.entry_id, s.source, s.external_id FROM recon_suggestions s
       JOIN ledger_entries e ON e.tenant = s.tenant AND e.entry_id = s.entry_id
       WHERE s.tenant = $1 AND s.status = 'matched' AND s.decision IS NULL AND e.entry_date BETWEEN $2::date AND $3::date`,
      [tenant, interval.from, interval.to],
    );
    return rows;
  });
}

/** The declined pairs of these lines. */
export async function declinedPairsOf(
  db: Queryable,
  tenant: string,
  keys: readonly ReconLineKey[],
): Promise<{ source: string; external_id: string; entry_id: string }[]> {
  return inTenant(db, tenant, async (db) => {
    if (keys.length === 0) return [];
    const { rows } = await db.query<{ source: string; external_id: string; entry_id: string }>(
      `SELECT d.source, d.external_id, d.entry_id
       FROM recon_declined_pairs d JOIN unnest($2::text[], $3::text[]) AS k(source, external_id)
         ON d.source = k.source AND d.external_id = k.external_id
       WHERE d.tenant = $1`,
      [tenant, keys.map((key) => key.source), keys.map((key) => key.external_id)],
    );
    return rows;
  });
}

/** Every declined pair of the tenant. */
export async function declinedPairs(db: Queryable, tenant: string): Promise<{ source: string; external_id: string; entry_id: string }[]> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<{ source: string; external_id: string; entry_id: string }>(
      `SELECT source, external_id, entry_id FROM recon_declined_pairs WHERE tenant = $1`,
      [tenant],
    );
    return rows;
  });
}

/**
 * One computed suggestion to store; a chunk of them travels as one JSON array (built off the
 * event loop by the engine thread) straight into `storeSuggestionChunk`.
 */
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
  /** Entries the transaction was scored against. */
  scored: string[];
  /** Those it could claim. */
  claimable: string[];
  /** `ReconLineRow.seen` as the run read it. */
  seen: string | null;
  /** The line's alias key (`aliasNameKey` of its counterparty, else of its description); null when empty. */
  alias_key: string | null;
}

/**
 * Stores a chunk of a run's outcomes (`suggestionsJson`: a JSON array of `SuggestionWrite`) in
 * one statement, while the run is still `fence.owner`'s. A suggestion is written only if its
 * row is as the run read it (`seen`): confirmed rows are never touched, and a row a person
 * decided meanwhile is left to the next run (the decision marked its line). The entries each
 * written line was scored against go to `recon_scored_entries` too. Answers how many were written;
 * `ReconRunLostError` (nothing written) when the run is no longer `fence.owner`'s running run.
 * The run row is share-locked until the write commits, so a requeue or ABANDONED waits for it.
 */
export async function storeSuggestionChunk(db: Queryable, fence: ReconRunFence, suggestionsJson: string): Promise<number> {
  return inTenant(db, fence.tenant, async (db) => {
    const { rows } = await db.query<{ written: number; held: boolean }>(
      `WITH fence AS (
         ${RECON_RUN_FENCE_SQL} FOR SHARE
       ), r AS (
         SELECT * FROM jsonb_to_recordset($4::jsonb) AS r(source text, external_id text, status text, entry_id text, confidence numeric,
           rule text, rationale text, criteria jsonb, candidates jsonb, rules_version text, scored text[], claimable text[], seen text, alias_key text)
       ), current AS (
         SELECT s.source, s.external_id, s.updated_at, s.decision
         FROM recon_suggestions s JOIN r ON s.source = r.source AND s.external_id = r.external_id
         WHERE s.tenant = $1
         FOR UPDATE OF s
       ), written AS (
         INSERT INTO recon_suggestions AS s
           (tenant, source, external_id, status, entry_id, confidence, rule, rationale, criteria, candidates, rules_version,
            scored_entry_ids, claimable_entry_ids, alias_key)
         SELECT $1, r.source, r.external_id, r.status, r.entry_id, r.confidence, r.rule, r.rationale, r.criteria, r.candidates,
                r.rules_version, r.scored, r.claimable, r.alias_key
         FROM r LEFT JOIN current c ON c.source = r.source AND c.external_id = r.external_id
         WHERE EXISTS (SELECT 1 FROM fence)
           AND CASE WHEN c.source IS NULL THEN r.seen IS NULL
                    ELSE c.decision IS DISTINCT FROM 'confirm' AND c.updated_at = r.seen::timestamptz END
         ON CONFLICT (tenant, source, external_id) DO UPDATE SET
           status = excluded.status, entry_id = excluded.entry_id, confidence = excluded.confidence, rule = excluded.rule,
           rationale = excluded.rationale, criteria = excluded.criteria, candidates = excluded.candidates,
           rules_version = excluded.rules_version, scored_entry_ids = excluded.scored_entry_ids,
           claimable_entry_ids = excluded.claimable_entry_ids, alias_key = excluded.alias_key,
           decision = NULL, decided_at = NULL, decided_by = NULL, updated_at = now()
         WHERE s.decision IS DISTINCT FROM 'confirm'
         RETURNING s.source, s.external_id, s.scored_entry_ids, s.claimable_entry_ids
       ), pairs AS (
         SELECT w.source, w.external_id, e.entry_id, e.entry_id = ANY(w.claimable_entry_ids) AS claimable
         FROM written w CROSS JOIN unnest(w.scored_entry_ids) AS e(entry_id)
       ), dropped AS (
         DELETE FROM recon_scored_entries x USING written w
         WHERE x.tenant = $1 AND x.source = w.source AND x.external_id = w.external_id AND NOT x.entry_id = ANY(w.scored_entry_ids)
       ), kept AS (
         INSERT INTO recon_scored_entries (tenant, entry_id, source, external_id, claimable)
         SELECT $1, p.entry_id, p.source, p.external_id, p.claimable FROM pairs p
         ON CONFLICT (tenant, entry_id, source, external_id) DO UPDATE SET claimable = excluded.claimable
       )
       SELECT (SELECT count(*) FROM written)::int AS written, EXISTS (SELECT 1 FROM fence) AS held`,
      [fence.tenant, fence.runId, fence.owner, suggestionsJson],
    );
    if (!rows[0]?.held) throw new ReconRunLostError(fence);
    return rows[0].written;
  });
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
  return inTenant(db, tenant, async (db) => {
    const { params, where, param } = sqlParams([tenant]);
    where.push('s.tenant = $1');
    if (options.statuses?.length) where.push(`s.status = ANY(${param(options.statuses)}::text[])`);
    if (options.beforeId) where.push(`s.id < ${param(options.beforeId)}::bigint`);
    const { rows } = await db.query<SuggestionView>(`${VIEW} WHERE ${where.join(' AND ')} ORDER BY s.id DESC LIMIT ${param(options.limit + 1)}`, params);
    const items = rows.slice(0, options.limit);
    return { items, next: rows.length > options.limit ? (items.at(-1)?.id ?? null) : null };
  });
}

/** One suggestion of the tenant, as it stands (no lock). */
export async function findSuggestion(db: Queryable, tenant: string, id: string): Promise<SuggestionView | undefined> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<SuggestionView>(`${VIEW} WHERE s.tenant = $1 AND s.id = $2::bigint`, [tenant, id]);
    return rows[0];
  });
}

/** One suggestion of the tenant, locked for a decision (in a transaction). */
export async function findSuggestionForUpdate(db: Queryable, tenant: string, id: string): Promise<SuggestionView | undefined> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<SuggestionView>(`${VIEW} WHERE s.tenant = $1 AND s.id = $2::bigint FOR UPDATE OF s`, [tenant, id]);
    return rows[0];
  });
}

/**
 * Takes the lock of decisions on `entryId` for the current transaction, waiting for the
 * decision that holds it: confirms of one entry run one at a time. Take it before locking any
 * suggestion, so that a confirm that takes the entry from another line does not deadlock with
 * one confirming that line. Two confirms that each take the other's entry (a swap) can still
 * deadlock; PostgreSQL ends one and the API answers it 503 `DATABASE_UNAVAILABLE`, safe to
 * retry. Scoped by schema, like every advisory lock here.
 */
export async function lockEntryDecisions(tx: Queryable, tenant: string, entryId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('recon_entry'), hashtext(current_schema() || ':' || $1 || ':' || $2))`, [tenant, entryId]);
}

/**
 * The other suggestion that holds `entryId` as its match, locked (in a transaction): a line of
 * the confirmed match that holds it (`recon_entry_holds`; of a split, the first), else a line a
 * run auto-matched to it and no person decided; undefined when none does.
 */
export async function findEntryMatchForUpdate(db: Queryable, tenant: string, entryId: string, exceptId: string): Promise<SuggestionView | undefined> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<SuggestionView>(
      `${VIEW} WHERE s.tenant = $1 AND s.id <> $3::bigint
         AND ((s.decision = 'confirm' AND EXISTS (
                SELECT 1 FROM recon_matched_entries m
                WHERE m.tenant = s.tenant AND m.entry_id = $2 AND m.source = s.source AND m.external_id = s.external_id))
              OR (s.entry_id = $2 AND s.status = 'matched' AND s.decision IS NULL)
              -- A confirm written by the release before 014, which holds no row.
              OR (s.entry_id = $2 AND s.decision = 'confirm' AND NOT EXISTS (
                SELECT 1 FROM recon_matched_entries m WHERE m.tenant = s.tenant AND m.source = s.source AND m.external_id = s.external_id)))
       ORDER BY s.id FOR UPDATE OF s`,
      [tenant, entryId, exceptId],
    );
    return rows[0];
  });
}

/**
 * The suggestions of these lines, locked (in a transaction) in id order; a line removed by the
 * bank, or without a suggestion, is left out.
 */
export async function findLineSuggestionsForUpdate(db: Queryable, tenant: string, keys: readonly ReconLineKey[]): Promise<SuggestionView[]> {
  return inTenant(db, tenant, async (db) => {
    if (keys.length === 0) return [];
    const { rows } = await db.query<SuggestionView>(
      `${VIEW} JOIN unnest($2::text[], $3::text[]) AS k(source, external_id) ON s.source = k.source AND s.external_id = k.external_id
       WHERE s.tenant = $1 AND l.removed_at IS NULL
       ORDER BY s.id FOR UPDATE OF s`,
      [tenant, keys.map((key) => key.source), keys.map((key) => key.external_id)],
    );
    return rows;
  });
}

/** A confirmed match: the entries it holds and its lines. */
export interface ReleasedMatch {
  entryIds: string[];
  lines: (ReconLineKey & { suggestion_id: string })[];
}

/**
 * Frees the confirmed match `line` is part of: deletes its holds, and with them the rows of its
 * lines (`recon_matched_entries`), in one statement. Answers what it held (nothing: empty lists).
 * The caller undoes the lines' suggestions (`undoSuggestionMatch`) in the same transaction.
 */
export async function releaseMatchOf(db: Queryable, tenant: string, line: ReconLineKey): Promise<ReleasedMatch> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<{ entry_id: string; source: string; external_id: string; suggestion_id: string }>(
      `WITH key AS (
         SELECT DISTINCT match_key FROM recon_matched_entries WHERE tenant = $1 AND source = $2 AND external_id = $3
       ), held AS (
         SELECT m.entry_id, m.source, m.external_id, s.id::text AS suggestion_id
         FROM recon_matched_entries m JOIN key k ON k.match_key = m.match_key
         JOIN recon_suggestions s ON s.tenant = m.tenant AND s.source = m.source AND s.external_id = m.external_id
         WHERE m.tenant = $1
       ), released AS (
         DELETE FROM recon_entry_holds h USING key k WHERE h.tenant = $1 AND h.match_key = k.match_key
       )
       SELECT * FROM held ORDER BY entry_id, source, external_id`,
      [tenant, line.source, line.external_id],
    );
    const lines = new Map(rows.map((row) => [row.suggestion_id, { source: row.source, external_id: row.external_id, suggestion_id: row.suggestion_id }]));
    return { entryIds: [...new Set(rows.map((row) => row.entry_id))], lines: [...lines.values()] };
  });
}

/** What a suggestion says about its line: written as a whole by a decision. */
export interface SuggestionOutcome {
  status: SuggestionWrite['status'];
  entryId: string | null;
  confidence: number | null;
  rule: string;
  rationale: string;
  criteria: unknown[];
  candidates: unknown[];
}

const OUTCOME_SET = `status = $3, entry_id = $4, confidence = $5, rule = $6, rationale = $7, criteria = $8::jsonb, candidates = $9::jsonb, updated_at = now()`;

function outcomeParams(outcome: SuggestionOutcome): unknown[] {
  return [outcome.status, outcome.entryId, outcome.confidence, outcome.rule, outcome.rationale, JSON.stringify(outcome.criteria), JSON.stringify(outcome.candidates)];
}

/** PostgreSQL's answer when a line would join the match of an entry another match holds (`recon_entry_holds`). */
function isConfirmedEntryTaken(err: unknown): boolean {
  const { code, constraint } = (err ?? {}) as { code?: unknown; constraint?: unknown };
  return code === '23503' && constraint === 'recon_matched_entries_hold_fkey';
}

/**
 * Records a person's decision on a suggestion with the outcome it gives. A confirm makes the line
 * part of the match `match.key` holding `match.entryIds` (default: a match of its own holding
 * the outcome's entry): the entries' holds are written unless that match has them already, and
 * one `recon_matched_entries` row per entry for this line. Answers false, writing nothing, when
 * another match holds one of the entries (the statement failed: the caller must end the
 * transaction).
 */
export async function recordSuggestionDecision(
  db: Queryable,
  tenant: string,
  id: string,
  decision: {
    decision: 'confirm' | 'decline';
    decidedBy: string;
    outcome: SuggestionOutcome;
    match?: { key: string; entryIds: readonly string[] } | undefined;
  },
): Promise<boolean> {
  return inTenant(db, tenant, async (db) => {
    const entryIds = decision.decision === 'confirm' ? (decision.match?.entryIds ?? (decision.outcome.entryId ? [decision.outcome.entryId] : [])) : [];
    try {
      await db.query(
        `WITH decided AS (
           UPDATE recon_suggestions SET decision = $10, decided_at = now(), decided_by = $11, ${OUTCOME_SET}
           WHERE tenant = $1 AND id = $2::bigint
           RETURNING id, source, external_id
         ), key AS (
           SELECT coalesce($12, 'suggestion:' || $2) AS match_key
         ), held AS (
           INSERT INTO recon_entry_holds (tenant, entry_id, match_key)
           SELECT $1, e.entry_id, key.match_key FROM unnest($13::text[]) AS e(entry_id), key ORDER BY e.entry_id
           ON CONFLICT (tenant, entry_id) DO NOTHING
         )
         INSERT INTO recon_matched_entries (tenant, entry_id, match_key, source, external_id, suggestion_id)
         SELECT $1, e.entry_id, key.match_key, d.source, d.external_id, d.id FROM decided d, unnest($13::text[]) AS e(entry_id), key`,
        [tenant, id, ...outcomeParams(decision.outcome), decision.decision, decision.decidedBy, decision.match?.key ?? null, entryIds],
      );
      return true;
    } catch (err) {
      if (isConfirmedEntryTaken(err)) return false;
      throw err;
    }
  });
}

/**
 * Undoes the match of a suggestion whose entry a person gave to another line: writes `outcome`,
 * clears its decision and marks its line so the next run decides it again.
 */
export async function undoSuggestionMatch(db: Queryable, tenant: string, id: string, outcome: SuggestionOutcome): Promise<void> {
  return inTenant(db, tenant, async (db) => {
    await db.query(
      `WITH undone AS (
         UPDATE recon_suggestions SET decision = NULL, decided_at = NULL, decided_by = NULL, ${OUTCOME_SET}
         WHERE tenant = $1 AND id = $2::bigint
         RETURNING tenant, source, external_id
       )
       INSERT INTO recon_pending_lines (tenant, source, external_id) SELECT tenant, source, external_id FROM undone
       ON CONFLICT (tenant, source, external_id) DO UPDATE SET seq = excluded.seq`,
      [tenant, id, ...outcomeParams(outcome)],
    );
  });
}

/** Remembers a declined pair so it is never suggested again. */
export async function rememberDeclinedPair(db: Queryable, tenant: string, pair: { source: string; externalId: string; entryId: string }): Promise<void> {
  return inTenant(db, tenant, async (db) => {
    await db.query(
      `INSERT INTO recon_declined_pairs (tenant, source, external_id, entry_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [tenant, pair.source, pair.externalId, pair.entryId],
    );
  });
}

/** Counts of the tenant's suggestions by status. */
export async function suggestionCounts(db: Queryable, tenant: string): Promise<Record<string, number>> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM recon_suggestions WHERE tenant = $1 GROUP BY status`,
      [tenant],
    );
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  });
}
