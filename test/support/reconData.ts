import type { LedgerEntry, LedgerTransaction } from '@accounting/data-pg';
import type { ReconBankTransaction, ReconLedgerEntry } from '@accounting/service-core-accounting';

/** A bank line of the engine's labelled data set as the sync stores it in `external_ledger`. */
export const storedBankLine = (tx: ReconBankTransaction): LedgerTransaction => ({
  externalId: tx.id,
  accountId: tx.accountId,
  amount: tx.amount,
  currency: tx.currency,
  bookedDate: tx.bookedDate,
  status: tx.status,
  pendingExternalId: null,
  description: tx.description,
  counterparty: tx.counterparty,
  reference: tx.reference,
  providerUpdatedAt: null,
});

/** A ledger entry of the engine's labelled data set as `POST /ledger-entries` imports it. */
export const importedEntry = (entry: ReconLedgerEntry): LedgerEntry => ({
  entry_id: entry.id,
  amount: entry.amount,
  currency: entry.currency,
  date: entry.date,
  memo: entry.memo,
  reference: entry.reference,
  counterparty: entry.counterparty,
});
