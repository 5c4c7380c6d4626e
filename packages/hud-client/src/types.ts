/**
 * Wire types of the BFF routes the HUD uses, as docs/API.md and docs/RECON.md describe them.
 * Field names are the JSON's own (snake_case), so a type reads the same as the docs.
 */

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Who acts: sent as `X-Tenant`, `X-User-Role` and `X-User-Id` (docs/POLICY.md). */
export interface HudIdentity {
  tenant: string;
  role: string;
  userId?: string;
}

/** Audit actions the API knows (`action` filter of the audit list). */
export type AuditAction =
  | 'manual_review_request'
  | 'external_sync_failed'
  | 'external_source_configured'
  | 'source_connection_refused'
  | 'export_created'
  | 'export_aborted'
  | 'recon_decision'
  | 'recon_match_replaced'
  | 'recon_alias_learned'
  | 'recon_alias_removed';

/** One audit event. */
export interface AuditEvent {
  id: string;
  /** ISO 8601 with microseconds. */
  ts: string;
  actor: { role: string; id: string | null };
  action: AuditAction;
  subject_type: string | null;
  subject_id: string | null;
  summary: string;
  details: JsonObject;
  request_id: string | null;
}

/** Filters of `GET /v1/accounting/audit`, all optional and combined with AND. */
export interface AuditQuery {
  action?: AuditAction | readonly AuditAction[];
  subject_id?: string;
  actor?: string;
  /** ISO 8601, inclusive. */
  from?: string;
  /** ISO 8601, exclusive. */
  to?: string;
  q?: string;
  /** 1-200, default 50. */
  limit?: number;
  cursor?: string;
}

/** A page of audit events, newest first. */
export interface AuditPage {
  tenant: string;
  items: AuditEvent[];
  next_cursor: string | null;
}

/** Body of `POST /v1/accounting/audit/manual-review`. */
export interface ManualReviewInput {
  subject_type: string;
  subject_id: string;
  reason: string;
  note?: string;
  /** When the person asked; the client fills it in at enqueue time when absent. */
  client_ts?: string;
}

export type ReconStatus = 'matched' | 'suggested' | 'unmatched' | 'blocked';

/** One criterion of a candidate pair (`{ name, score, detail }`). */
export interface ReconCriterion {
  name: 'amount' | 'currency' | 'date' | 'reference' | 'text';
  /** 0..1, two decimals. */
  score: number;
  /** Human, e.g. "amount equal (12,000 KRW)". */
  detail: string;
}

/** A ledger entry that may be the bank line's pair. */
export interface ReconCandidate {
  entryId: string;
  confidence: number;
  tier: 'reference' | 'amount_date' | 'fuzzy';
  criteria: ReconCriterion[];
  taken: boolean;
}

/** The bank line of a suggestion. Amounts are decimal strings. */
export interface ReconBankLine {
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

/** The ledger entry of a suggestion. */
export interface ReconLedgerEntry {
  entry_id: string;
  amount: string;
  currency: string;
  date: string;
  memo: string;
  reference: string | null;
  counterparty: string | null;
}

/** One suggestion per bank transaction, with its rationale (docs/RECON.md "Rationale"). */
export interface ReconSuggestion {
  id: string;
  source: string;
  status: ReconStatus;
  confidence: number | null;
  rule: string;
  rationale: string;
  criteria: ReconCriterion[];
  candidates: ReconCandidate[];
  rules_version: string;
  decision: 'confirm' | 'decline' | null;
  decided_at: string | null;
  decided_by: string | null;
  transaction: ReconBankLine;
  entry: ReconLedgerEntry | null;
}

/** Query of `GET /v1/accounting/recon/suggestions`. */
export interface ReconSuggestionQuery {
  status?: ReconStatus | readonly ReconStatus[];
  /** 1-200, default 50. */
  limit?: number;
  cursor?: string;
}

/** A page of suggestions, newest first. */
export interface ReconSuggestionPage {
  tenant: string;
  items: ReconSuggestion[];
  next_cursor: string | null;
}

/** Body of `POST /v1/accounting/recon/suggestions/:id/decision`. */
export interface ReconDecisionInput {
  decision: 'confirm' | 'decline';
  /** Which candidate; default the suggestion's own entry. */
  entry_id?: string;
  /** Confirm only: take the entry from the line it is matched to (else 409 `ENTRY_ALREADY_MATCHED`). */
  replace?: boolean;
  /** Confirm only: confirm the suggestion's group candidate (a batch or a split) as one match (else 422 `NOT_A_GROUP`). */
  group?: boolean;
  note?: string;
}

/** The one error shape of the API: `{error_code, <extra fields>, message, request_id}`. */
export interface ApiErrorBody {
  error_code: string;
  message: string;
  request_id: string | null;
  [extra: string]: JsonValue;
}
