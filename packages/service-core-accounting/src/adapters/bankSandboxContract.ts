import { z } from 'zod';
import { isStorableText, STORABLE_TEXT_MESSAGE } from '../text.js';

/**
 * The bank sandbox contract's response bodies (shared/contracts/bank-sandbox-api.md), checked
 * before anything is stored. A page that does not match is a provider bug: nothing of it is kept.
 */
/** Text PostgreSQL can store: no NUL characters, no lone UTF-16 surrogates. */
const storableText = z.string().refine(isStorableText, STORABLE_TEXT_MESSAGE);
const decimalString = z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal string');
const calendarDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

export const bankTransactionSchema = z.object({
  transaction_id: storableText.min(1).max(256),
  account_id: storableText.min(1).max(256),
  amount: decimalString,
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
  booked_date: calendarDate,
  status: z.enum(['pending', 'posted']),
  pending_transaction_id: storableText.min(1).nullable().optional(),
  description: storableText,
  counterparty: storableText.nullable().optional(),
  reference: storableText.nullable().optional(),
  updated_at: z.iso.datetime({ offset: true }).optional(),
});
export type BankTransaction = z.output<typeof bankTransactionSchema>;

export const syncPageSchema = z.object({
  added: z.array(bankTransactionSchema),
  modified: z.array(bankTransactionSchema),
  removed: z.array(z.object({ transaction_id: storableText.min(1) })),
  next_cursor: z.string().min(1),
  has_more: z.boolean(),
  provider_refreshed_at: z.iso.datetime({ offset: true }).nullable().optional(),
});
export type SyncPage = z.output<typeof syncPageSchema>;

export const accountsSchema = z.object({
  accounts: z.array(
    z.object({
      account_id: z.string().min(1),
      name: z.string(),
      currency: z.string().regex(/^[A-Z]{3}$/),
      mask: z.string().nullable().optional(),
    }),
  ),
});
export type BankAccount = z.output<typeof accountsSchema>['accounts'][number];

export const errorBodySchema = z.object({ error_code: z.string() }).loose();
