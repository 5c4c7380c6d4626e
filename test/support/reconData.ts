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

const BANK_LINE: Omit<LedgerTransaction, 'externalId'> = {
  accountId: 'acc_1',
  amount: '-12000',
  currency: 'KRW',
  bookedDate: '2026-11-20',
  status: 'posted',
  pendingExternalId: null,
  description: 'TRANSFER',
  counterparty: null,
  reference: null,
  providerUpdatedAt: null,
};

/**
 * Makes bank lines as the sync stores them: a posted line of 12,000 KRW out on 2026-11-20 on
 * `acc_1`, described `TRANSFER`, with a file's `defaults` over it and each line's `overrides` last.
 */
export const bankTxWith =
  (defaults: Partial<LedgerTransaction> = {}) =>
  (id: string, overrides: Partial<LedgerTransaction> = {}): LedgerTransaction => ({ externalId: id, ...BANK_LINE, ...defaults, ...overrides });

/** A bank line of the plain defaults (`bankTxWith()`), with `overrides`. */
export const bankTx = bankTxWith();

const LEDGER_ENTRY: Omit<LedgerEntry, 'entry_id'> = { amount: '-12000', currency: 'KRW', date: '2026-11-20', memo: '', reference: null, counterparty: null };

/** Makes ledger entries as `POST /ledger-entries` imports them: 12,000 KRW out on 2026-11-20, with `defaults` and then `overrides` over it. */
export const entryWith =
  (defaults: Partial<LedgerEntry> = {}) =>
  (id: string, overrides: Partial<LedgerEntry> = {}): LedgerEntry => ({ entry_id: id, ...LEDGER_ENTRY, ...defaults, ...overrides });

/** A ledger entry of the plain defaults (`entryWith()`), with `overrides`. */
export const entry = entryWith();
