import { z } from 'zod';

/**
 * The contract's response bodies, written out strictly from shared/contracts/bank-sandbox-api.md
 * (not imported from the simulator, so a drift in the simulator fails the tests).
 */
const calendarDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const contractTransactionSchema = z.strictObject({
  transaction_id: z.string().min(1),
  account_id: z.string().min(1),
  amount: z.string().regex(/^-?\d+(\.\d+)?$/),
  currency: z.string().regex(/^[A-Z]{3}$/),
  booked_date: calendarDate,
  status: z.enum(['pending', 'posted']),
  pending_transaction_id: z.string().min(1).nullable(),
  description: z.string(),
  counterparty: z.string().nullable().optional(),
  reference: z.string().nullable().optional(),
  updated_at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
});
export type ContractTransaction = z.infer<typeof contractTransactionSchema>;

export const contractSyncPageSchema = z.strictObject({
  added: z.array(contractTransactionSchema),
  modified: z.array(contractTransactionSchema),
  removed: z.array(z.strictObject({ transaction_id: z.string().min(1) })),
  next_cursor: z.string().min(1),
  has_more: z.boolean(),
  provider_refreshed_at: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/),
});
export type ContractSyncPage = z.infer<typeof contractSyncPageSchema>;

export const contractAccountsSchema = z.strictObject({
  accounts: z.array(
    z.strictObject({ account_id: z.string().min(1), name: z.string(), currency: z.string().regex(/^[A-Z]{3}$/), mask: z.string() }),
  ),
});

export const contractErrorSchema = z.strictObject({ error_code: z.string(), error_message: z.string() });
