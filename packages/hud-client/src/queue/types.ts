import type { ApiErrorBody, HudIdentity, JsonValue } from '../types.js';

/** The HTTP methods a queued write may use. */
export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a write is, for the UI and for filtering; any string fits future writes. */
export type WriteKind = 'manual_review' | 'recon_decision' | 'approval' | (string & {});

/** Any write of the API: enough to send it again, days later, exactly as it was made. */
export interface WriteDescriptor {
  kind: WriteKind;
  method: WriteMethod;
  /** Path under the base URL, with its query if any, e.g. `/v1/accounting/audit/manual-review`. */
  path: string;
  /** JSON body; stored as JSON, so it is sent byte-for-byte the same on every attempt. */
  body?: JsonValue;
  /** A short text for the person, e.g. "Review of tx_42". */
  label?: string;
}

/** Why an attempt did not go through. */
export interface FailureInfo {
  /** ISO 8601, when the attempt failed. */
  at: string;
  /** HTTP status, or `null` when no answer came (network, timeout). */
  status: number | null;
  /** The API's `error_code`; `NETWORK_ERROR` when no answer came. */
  error_code: string;
  message: string;
  request_id: string | null;
}

/** A write waiting in the queue. Its `idempotencyKey` was fixed when it was queued. */
export interface QueuedWrite extends WriteDescriptor {
  /** Local id (stable across dead-letter retries). */
  id: string;
  /** Sent as `Idempotency-Key` on every attempt. */
  idempotencyKey: string;
  /** Who made the write: it is sent as them even if the app has switched user since. */
  identity: HudIdentity;
  /** ISO 8601, when it was queued. */
  enqueuedAt: string;
  /** Attempts that got no 2xx. */
  attempts: number;
  lastFailure: FailureInfo | null;
}

/** A write the server refused for good (a 4xx other than 408, 409 in progress or 429). */
export interface DeadLetter {
  item: QueuedWrite;
  /** ISO 8601. */
  failedAt: string;
  /** The HTTP status of the refusal. */
  status: number;
  /** The server's error body: `error_code`, `message`, `request_id` and any extra fields. */
  error: ApiErrorBody;
}

/** A write the server applied (or had applied: `replayed`). */
export interface AppliedWrite {
  item: QueuedWrite;
  status: number;
  body: JsonValue | null;
  /** The server answered its stored outcome (`Idempotent-Replayed: true`): it had applied it before. */
  replayed: boolean;
}

/** Where a submitted write stands once `submit` returns. */
export type WriteOutcome<T = JsonValue | null> =
  | { outcome: 'applied'; item: QueuedWrite; status: number; body: T; replayed: boolean }
  | { outcome: 'queued'; item: QueuedWrite }
  | { outcome: 'dead_lettered'; item: QueuedWrite; deadLetter: DeadLetter };

/** Why a flush stopped before the queue was empty. */
export type FlushStop =
  | { reason: 'offline' }
  | { reason: 'closed' }
  | { reason: 'retry'; failure: FailureInfo; retryInMs: number };

/** What one flush did. */
export interface FlushReport {
  applied: AppliedWrite[];
  deadLettered: DeadLetter[];
  /** `null` when the flush emptied the queue. */
  stopped: FlushStop | null;
  /** Writes still queued when it ended. */
  remaining: number;
}

/**
 * `idle`: nothing is being sent and nothing waits for a retry; `sending`: a flush is running;
 * `waiting`: a retry is scheduled (backoff); `offline`: the app said so; `closed`.
 */
export type QueueStatus = 'idle' | 'sending' | 'waiting' | 'offline' | 'closed';
