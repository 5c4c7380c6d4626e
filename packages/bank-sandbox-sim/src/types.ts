/** Wire types of the Bank Sandbox API contract (shared/contracts/bank-sandbox-api.md). */

export type TransactionStatus = 'pending' | 'posted';

/**
 * One transaction as the contract sends it. Keys are in contract order so JSON bodies read like
 * the contract. `counterparty` and `reference` may be absent (the key is omitted) or `null`.
 */
export interface Transaction {
  transaction_id: string;
  account_id: string;
  /** Decimal string, negative is money out; never a JSON number. */
  amount: string;
  currency: string;
  /** `YYYY-MM-DD` (UTC). */
  booked_date: string;
  status: TransactionStatus;
  pending_transaction_id: string | null;
  description: string;
  counterparty?: string | null;
  reference?: string | null;
  /** ISO 8601 UTC, seconds precision, e.g. `2026-11-20T09:12:44Z`. */
  updated_at: string;
}

export interface Account {
  account_id: string;
  name: string;
  currency: string;
  mask: string;
}

/** A validated `POST /v1/transactions/sync` request. */
export interface SyncRequest {
  connection_id: string;
  /** `null` or absent starts a full sync. */
  cursor?: string | null;
  /** 1..500, default 100. */
  count?: number;
  /** `YYYY-MM-DD`, honoured only when `cursor` is null. */
  start_date?: string;
}

export interface SyncResponse {
  added: Transaction[];
  modified: Transaction[];
  removed: { transaction_id: string }[];
  next_cursor: string;
  has_more: boolean;
  provider_refreshed_at: string;
}

/** Error body of every non-2xx answer. */
export interface ErrorBody {
  error_code: string;
  error_message: string;
}
