import { PG_BIGINT } from '@accounting/data-pg';
import { z } from 'zod';
import type { ErrorBody } from '../../middleware/errors.js';

/**
 * The one error shape of every route (docs/API.md "Errors"). Extra fields depend on the code:
 * `issues` (VALIDATION_FAILED), `tenant` (TENANT_NOT_ENABLED), `permission` and `role`
 * (FORBIDDEN), `candidates` (ENTRY_NOT_A_CANDIDATE), `reason` (NOT_READY), ...
 */
export const errorBody = z
  .looseObject({
    error_code: z.string().meta({ description: 'Stable machine-readable code' }),
    message: z.string().meta({ description: 'For people; may change' }),
    request_id: z.string().meta({ description: 'Also in the `X-Request-Id` header; quote it when reporting a problem' }),
    issues: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'VALIDATION_FAILED only: what is wrong, by dotted path' }),
  })
  .meta({ id: 'Error' }) satisfies z.ZodType<ErrorBody>;

/**
 * The one calendar range of the API (docs/API.md "Input limits"): every date and
 * timestamp it reads, in a query, a body or a cursor, lies from 1900-01-01 to 9998-12-31 (UTC).
 * Wide enough for any ledger; narrow enough that a date shifted by a reconciliation window, or a
 * timestamp in microseconds, stays far inside what PostgreSQL and JavaScript's `Date` can hold.
 */
export const DATE_RANGE = { first: '1900-01-01', last: '9998-12-31' } as const;

const DATE_RANGE_MESSAGE = `must be from ${DATE_RANGE.first} to ${DATE_RANGE.last}`;
const FIRST_INSTANT_MS = Date.parse(`${DATE_RANGE.first}T00:00:00Z`);
/** The first instant after the range (exclusive). */
const END_INSTANT_MS = Date.parse(`${DATE_RANGE.last}T00:00:00Z`) + 86_400_000;

/** A calendar date `YYYY-MM-DD` that exists (no 2026-02-30) and lies in `DATE_RANGE`. */
export const calendarDate = z.iso
  .date({ error: 'must be a date YYYY-MM-DD that exists', abort: true })
  .refine((date) => date >= DATE_RANGE.first && date <= DATE_RANGE.last, DATE_RANGE_MESSAGE)
  .meta({ description: `A date YYYY-MM-DD that exists, from ${DATE_RANGE.first} to ${DATE_RANGE.last}` });

/** An ISO 8601 date-time with `Z` or an offset, a real one, whose instant lies in `DATE_RANGE`. */
export const instant = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time with Z or an offset', abort: true })
  .refine((text) => {
    const ms = Date.parse(text);
    return ms >= FIRST_INSTANT_MS && ms < END_INSTANT_MS;
  }, DATE_RANGE_MESSAGE)
  .meta({ description: `An ISO 8601 date-time with Z or an offset, from ${DATE_RANGE.first} to ${DATE_RANGE.last} (UTC)` });

/** Whether `micros` (microseconds since the epoch, as a cursor holds them) is an instant in `DATE_RANGE`. */
export function isInstantMicrosInRange(micros: bigint): boolean {
  return micros >= BigInt(FIRST_INSTANT_MS) * 1_000n && micros < BigInt(END_INSTANT_MS) * 1_000n;
}

/** A positive PostgreSQL `bigint` in decimal (a `bigserial` id): 1 to 9223372036854775807. */
export const bigintId = (message: string) =>
  z
    .string()
    .regex(/^[1-9]\d{0,18}$/, { error: message, abort: true })
    .refine((digits) => BigInt(digits) <= PG_BIGINT.MAX, message);

/** A query parameter given once or several times, or as a comma-separated list. */
export const listQueryParam = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).filter(Boolean));

/** `limit` of a listing: a whole number from 1 to `max`, `fallback` when absent. */
export const pageLimitParam = (max: number, fallback: number) =>
  z.string().regex(/^\d{1,3}$/).transform(Number).pipe(z.number().min(1).max(max)).default(fallback).meta({ description: 'Page size, a whole number' });

/** `X-User-Id` (`AUTH_MODE=headers` only): who acts, recorded in the audit trail; ignored unless 1-128 of `[A-Za-z0-9._@:-]`. */
export const userIdHeader = z
  .string()
  .optional()
  .meta({
    param: { in: 'header', name: 'X-User-Id', id: 'UserId' },
    description:
      'With `AUTH_MODE=headers`: who acts, recorded as the actor id of audit events; ignored unless 1-128 characters of `[A-Za-z0-9._@:-]`. ' +
      "Ignored with `AUTH_MODE=jwt`, where the actor is the token's user claim.",
  });

/** `X-Request-Id` on a request: kept when sane, otherwise the server makes a UUID. */
export const requestIdParam = z
  .string()
  .optional()
  .meta({
    param: { in: 'header', name: 'X-Request-Id', id: 'RequestId' },
    description: 'Correlation id; kept when 1-128 characters of `[A-Za-z0-9._:/+=-]`, otherwise the server makes a UUID.',
  });

/** `Idempotency-Key` on the writes that need it (docs/IDEMPOTENCY.md). */
export const idempotencyKeyParam = z
  .string()
  .min(1)
  .max(255)
  .meta({
    param: { in: 'header', name: 'Idempotency-Key', id: 'IdempotencyKey' },
    description:
      '1-255 printable ASCII characters; the same key with the same body replays the first answer (with `Idempotent-Replayed: true`), see docs/IDEMPOTENCY.md.',
  });

/** `X-Request-Id` on every response. */
export const requestIdResponseHeader = z
  .string()
  .meta({ header: { id: 'X-Request-Id' }, description: 'The request id: the sane incoming `X-Request-Id`, or a new UUID' });

/** `Idempotent-Replayed: true` when an idempotent write answers with a stored outcome. */
export const idempotentReplayedHeader = z
  .literal('true')
  .optional()
  .meta({ header: { id: 'Idempotent-Replayed' }, description: 'Present when the answer is the stored outcome of an earlier request with the same key' });
