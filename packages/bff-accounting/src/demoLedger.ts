import { importLedgerEntries, listLedgerEntries, listLedgerTransactions, type Db, type LedgerEntry } from '@accounting/data-pg';

function shiftDate(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Ledger entries for the embedded demo, made from the tenant's synced bank transactions so that
 * reconciliation shows every outcome: most posted transactions get an entry (some with the
 * reference, some a day or two off, a few with another amount), some get none (unmatched), a
 * few entries match nothing, and a large one trips the auto-match limit. Deterministic.
 * Does nothing when the tenant already has entries.
 */
export async function seedDemoLedger(db: Db, tenant: string, source: string): Promise<number> {
  if ((await listLedgerEntries(db, tenant, { limit: 1 })).items.length > 0) return 0;
  const posted = (await listLedgerTransactions(db, tenant, source)).filter((tx) => tx.removed_at === null && tx.status === 'posted');
  const entries: LedgerEntry[] = [];
  posted.forEach((tx, i) => {
    if (i % 5 === 4) return; // left unmatched on purpose
    const entry: LedgerEntry = {
      entry_id: `demo-${tenant}-${i + 1}`,
      amount: tx.amount,
      currency: tx.currency,
      date: shiftDate(tx.booked_date, i % 3),
      memo: i % 2 === 0 ? tx.description : `${tx.counterparty ?? 'payment'} ${tx.booked_date}`,
      reference: i % 4 === 0 ? tx.reference : null,
      counterparty: tx.counterparty,
    };
    if (i % 11 === 7) entry.amount = (Number(tx.amount) * 1.5).toFixed(tx.currency === 'KRW' ? 0 : 2);
    entries.push(entry);
  });
  for (let k = 0; k < Math.max(3, Math.floor(posted.length / 10)); k += 1) {
    entries.push({ entry_id: `demo-${tenant}-orphan-${k + 1}`, amount: `-${31_000 + k * 1_000}`, currency: 'KRW', date: posted[0]?.booked_date ?? '2026-01-01', memo: `OFFICE SUPPLIES ${k + 1}`, reference: null, counterparty: 'OFFICE DEPOT' });
  }
  if (posted[0]) {
    entries.push({ entry_id: `demo-${tenant}-large-1`, amount: '-2400000', currency: 'KRW', date: posted[0].booked_date, memo: 'EQUIPMENT LEASE', reference: 'LEASE-2026-11', counterparty: 'KOREA LEASING' });
  }
  const counts = await importLedgerEntries(db, tenant, entries);
  return counts.created;
}
