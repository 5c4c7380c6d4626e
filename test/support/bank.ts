import { startBankSandbox, type RunningBankSandbox } from '@accounting/bank-sandbox-sim';
import { listLedgerTransactions, type Db } from '@accounting/data-pg';

/** A fixed clock for the simulator, so its data (and the sync's start date) are stable. */
export const BANK_NOW = new Date('2026-11-22T03:00:00Z');
export const BANK_TOKEN = 'sandbox-token-3f9a2c71e5b84d06';

/** The project's bank simulator on loopback, seeded, with one or more connections. */
export function startTestBank(connections = [{ id: 'conn_default', days: 14, perDay: 20 }]): Promise<RunningBankSandbox> {
  return startBankSandbox({ token: BANK_TOKEN, seed: 7, now: BANK_NOW, connections });
}

type Row = [string, string, string, string, string, string, string | null, string, string | null, string | null];

/** The bank's current transactions booked since `startDate`, as comparable tuples. */
export function bankRows(bank: RunningBankSandbox, connectionId: string, startDate: string): Row[] {
  return bank.sandbox
    .getState(connectionId, { startDate })
    .transactions.map((tx): Row => [
      tx.transaction_id,
      tx.account_id,
      tx.amount,
      tx.currency,
      tx.booked_date,
      tx.status,
      tx.pending_transaction_id ?? null,
      tx.description,
      tx.counterparty ?? null,
      tx.reference ?? null,
    ])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

/** The live (not removed) stored rows of a source booked since `startDate`, as comparable tuples. */
export async function storedRows(db: Db, tenant: string, source: string, startDate: string): Promise<Row[]> {
  return (await listLedgerTransactions(db, tenant, source))
    .filter((row) => row.removed_at === null && row.booked_date >= startDate)
    .map((row): Row => [
      row.external_id,
      row.account_id,
      row.amount,
      row.currency,
      row.booked_date,
      row.status,
      row.pending_external_id,
      row.description,
      row.counterparty,
      row.reference,
    ])
    .sort((a, b) => a[0].localeCompare(b[0]));
}
