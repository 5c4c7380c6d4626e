import type { Transaction } from './types.js';

/**
 * A copy of `tx` with its keys in contract order; `counterparty` and `reference` stay absent
 * when they are `undefined`, so "absent" and "null" both survive to the JSON body. Keys are
 * added one by one (not spread) so every copy shares one of four compact object shapes:
 * this runs for each of 100,000 generated transactions.
 */
export function inContractOrder(tx: Transaction): Transaction {
  const out: Partial<Transaction> = {
    transaction_id: tx.transaction_id,
    account_id: tx.account_id,
    amount: tx.amount,
    currency: tx.currency,
    booked_date: tx.booked_date,
    status: tx.status,
    pending_transaction_id: tx.pending_transaction_id,
    description: tx.description,
  };
  if (tx.counterparty !== undefined) out.counterparty = tx.counterparty;
  if (tx.reference !== undefined) out.reference = tx.reference;
  out.updated_at = tx.updated_at;
  return out as Transaction;
}
