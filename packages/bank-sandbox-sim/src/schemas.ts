import { z } from 'zod';
import { isCalendarDate } from './calendar.js';
import { InvalidRequestError } from './errors.js';

/** `connection_id`: 1-128 chars of `[A-Za-z0-9_.-]`. */
export const connectionIdSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'must be 1-128 chars of [A-Za-z0-9_.-]');

export const calendarDateSchema = z.string().refine(isCalendarDate, 'must be a calendar date YYYY-MM-DD');

/** Decimal string; the currency-specific check happens where the currency is known. */
export const amountSchema = z.string().regex(/^-?(0|[1-9]\d*)(\.\d+)?$/, 'must be a decimal string such as "-12000" or "-12.50"');

/**
 * `POST /v1/transactions/sync` body, strictly: unknown fields, a non-integer or out-of-range
 * `count`, a `start_date` that is not a real date, or a cursor that is not a string or null
 * are INVALID_REQUEST.
 */
export const syncRequestSchema = z.strictObject({
  connection_id: connectionIdSchema,
  cursor: z.string().nullable().optional(),
  count: z.number().int().min(1).max(500).optional(),
  start_date: calendarDateSchema.optional(),
});

export const accountSchema = z.strictObject({
  account_id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  name: z.string().min(1).max(100),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
  mask: z.string().regex(/^\d{2,4}$/),
});

const daysSchema = z.number().int().min(0).max(3_660);
const perDaySchema = z.number().int().min(0).max(100_000);
const accountsSchema = z
  .array(accountSchema)
  .min(1)
  .max(20)
  .refine((accounts) => new Set(accounts.map((a) => a.account_id)).size === accounts.length, 'account ids must be unique');

/** A connection to create, as the programmatic API takes it. */
export const connectionSpecSchema = z.strictObject({
  id: connectionIdSchema,
  days: daysSchema,
  perDay: perDaySchema,
  accounts: accountsSchema.optional(),
});

/** Admin: create a connection with generated data (snake_case on the wire). */
export const createConnectionSchema = z
  .strictObject({
    connection_id: connectionIdSchema,
    days: daysSchema,
    per_day: perDaySchema,
    accounts: accountsSchema.optional(),
  })
  .transform(({ connection_id, per_day, ...rest }) => ({ id: connection_id, perDay: per_day, ...rest }));

const optionalText = z.string().min(1).max(300).nullable().optional();

/** Admin: add a transaction. Omitted `counterparty`/`reference` stay absent in the body. */
export const newTransactionSchema = z.strictObject({
  account_id: z.string().min(1).optional(),
  amount: amountSchema,
  booked_date: calendarDateSchema.optional(),
  status: z.enum(['pending', 'posted']).optional(),
  description: z.string().min(1).max(300).optional(),
  counterparty: optionalText,
  reference: optionalText,
  pending_transaction_id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/).nullable().optional(),
});
export type NewTransactionInput = z.infer<typeof newTransactionSchema>;

/** Admin: modify a transaction (a new version with the same id). */
export const transactionPatchSchema = z
  .strictObject({
    amount: amountSchema.optional(),
    booked_date: calendarDateSchema.optional(),
    description: z.string().min(1).max(300).optional(),
    counterparty: optionalText,
    reference: optionalText,
  })
  .refine((patch) => Object.keys(patch).length > 0, 'nothing to change');
export type TransactionPatch = z.infer<typeof transactionPatchSchema>;

/** Admin: post a pending transaction. */
export const postTransactionSchema = z.strictObject({
  amount: amountSchema.optional(),
  booked_date: calendarDateSchema.optional(),
  /** Which change comes first in the log (and so on an earlier page when split). */
  order: z.enum(['removed_first', 'added_first']).optional(),
});
export type PostTransactionInput = z.infer<typeof postTransactionSchema>;

export const stateQuerySchema = z.strictObject({
  start_date: calendarDateSchema.optional(),
});

/** Turns zod issues into one readable line. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

/** `value` parsed by `schema`, or INVALID_REQUEST naming what is wrong. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidRequestError(describeIssues(result.error));
  return result.data;
}
