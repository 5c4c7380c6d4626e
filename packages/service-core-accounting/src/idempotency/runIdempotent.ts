import { createHash } from 'node:crypto';
import {
  findIdempotencyRecord,
  saveIdempotencyRecord,
  tryLockIdempotencyKey,
  withTransaction,
  type Db,
  type Queryable,
} from '@accounting/data-pg';
import { ConflictError, InvalidInputError, UnprocessableError } from '../errors.js';

/**
 * How long a key's outcome is kept. The HUD's offline queue may replay a request days later;
 * 30 days covers a phone that stays offline for weeks. See docs/IDEMPOTENCY.md.
 */
export const IDEMPOTENCY_RETENTION_DAYS = 30;

const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** Checks an `Idempotency-Key` header value: 1-255 printable ASCII characters. */
export function parseIdempotencyKey(value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new InvalidInputError('the Idempotency-Key header is required on this route', 'IDEMPOTENCY_KEY_REQUIRED');
  }
  if (!KEY_PATTERN.test(value)) {
    throw new InvalidInputError('Idempotency-Key must be 1-255 printable ASCII characters', 'INVALID_IDEMPOTENCY_KEY');
  }
  return value;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, inner]) => inner !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, inner]) => [key, canonical(inner)]),
    );
  }
  return value;
}

/** sha256 of the request's validated input, independent of key order. */
export function requestFingerprint(input: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical(input))).digest('hex');
}

export interface IdempotentRequest {
  tenant: string;
  key: string;
  /** What the key was used for (e.g. the route's name): the same key on another route is a reuse. */
  scope: string;
  /** The validated input; a retry must carry the same. */
  input: unknown;
}

export interface IdempotentResult<T> {
  status: number;
  body: T;
  /** True when this is the stored outcome of an earlier request with the same key. */
  replayed: boolean;
}

/**
 * Runs `work` at most once per (tenant, key). In one transaction: take the key's lock without
 * waiting (held: 409 IDEMPOTENCY_IN_PROGRESS), replay a stored outcome (same input) or refuse it
 * (other input or route: 422 IDEMPOTENCY_KEY_REUSED), else run `work` and store its outcome.
 * The work and its record commit together, so a crash leaves neither, and parallel duplicates
 * produce one effect. Only outcomes of `work` are stored; a request that failed validation before
 * it got here can be retried with the same key.
 */
export async function runIdempotent<T>(
  db: Db,
  request: IdempotentRequest,
  work: (tx: Queryable) => Promise<{ status: number; body: T }>,
): Promise<IdempotentResult<T>> {
  const fingerprint = requestFingerprint(request.input);
  return withTransaction(db, async (tx) => {
    if (!(await tryLockIdempotencyKey(tx, request.tenant, request.key))) {
      throw new ConflictError('a request with this Idempotency-Key is still being processed; retry shortly', 'IDEMPOTENCY_IN_PROGRESS');
    }
    const stored = await findIdempotencyRecord(tx, request.tenant, request.key);
    if (stored) {
      if (stored.scope !== request.scope || stored.requestHash !== fingerprint) {
        throw new UnprocessableError('this Idempotency-Key was already used for a different request', 'IDEMPOTENCY_KEY_REUSED');
      }
      return { status: stored.responseStatus, body: stored.responseBody as T, replayed: true };
    }
    const outcome = await work(tx);
    await saveIdempotencyRecord(tx, request.tenant, request.key, {
      scope: request.scope,
      requestHash: fingerprint,
      responseStatus: outcome.status,
      responseBody: outcome.body,
      retentionDays: IDEMPOTENCY_RETENTION_DAYS,
    });
    return { ...outcome, replayed: false };
  });
}
