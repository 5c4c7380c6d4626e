import { describe, expect, it } from 'vitest';
import { createBankSandbox } from '../src/BankSandbox.js';
import { generateConnectionData } from '../src/generateConnectionData.js';
import { contractTransactionSchema } from './support/contractSchema.js';
import { NOW } from './support/fixtures.js';

const spec = { id: 'conn_default', days: 30, perDay: 40 };

describe('seeded data', () => {
  it('is the same for the same seed and clock', () => {
    expect(generateConnectionData(spec, '42', NOW)).toEqual(generateConnectionData(spec, '42', NOW));
  });

  it('differs for another seed', () => {
    const a = generateConnectionData(spec, '42', NOW).transactions;
    const b = generateConnectionData(spec, '43', NOW).transactions;
    expect(a.map((tx) => tx.amount)).not.toEqual(b.map((tx) => tx.amount));
  });

  it('treats seed 42 and seed "42" alike, so the CLI and the programmatic API agree', () => {
    const numeric = createBankSandbox({ seed: 42, now: NOW, connections: [spec] }).getState('conn_default');
    const text = createBankSandbox({ seed: '42', now: NOW, connections: [spec] }).getState('conn_default');
    expect(numeric).toEqual(text);
  });

  it("does not change a connection's data when other connections are added", () => {
    const alone = createBankSandbox({ seed: 42, now: NOW, connections: [spec] }).getState('conn_default');
    const withOthers = createBankSandbox({ seed: 42, now: NOW, connections: [{ id: 'conn_pilot_a', days: 5, perDay: 5 }, spec] }).getState('conn_default');
    expect(withOthers).toEqual(alone);
  });

  it('gives different connections different data', () => {
    const a = generateConnectionData(spec, '42', NOW).transactions;
    const b = generateConnectionData({ ...spec, id: 'conn_pilot_a' }, '42', NOW).transactions;
    expect(a.map((tx) => tx.description)).not.toEqual(b.map((tx) => tx.description));
  });

  it('has days x perDay transactions with unique ids tx_1.. in booking order, none after now', () => {
    const { transactions } = generateConnectionData(spec, '42', NOW);
    expect(transactions).toHaveLength(1_200);
    expect(transactions.map((tx) => tx.transaction_id)).toEqual(transactions.map((_, i) => `tx_${i + 1}`));
    const stamps = transactions.map((tx) => tx.updated_at);
    expect([...stamps].sort()).toEqual(stamps);
    expect(transactions[0]?.booked_date).toBe('2026-10-24');
    expect(transactions.at(-1)?.booked_date).toBe('2026-11-22');
    expect(stamps.every((s) => s <= '2026-11-22T03:10:00Z')).toBe(true);
  });

  it('matches the contract: KRW whole amounts (sometimes with .00), USD with two decimals, texts sometimes null or absent', () => {
    const { transactions } = generateConnectionData(spec, '42', NOW);
    for (const tx of transactions) contractTransactionSchema.parse(tx);
    const krw = transactions.filter((tx) => tx.currency === 'KRW').map((tx) => tx.amount);
    const usd = transactions.filter((tx) => tx.currency === 'USD').map((tx) => tx.amount);
    expect(krw.every((a) => /^-?\d+(\.00)?$/.test(a))).toBe(true);
    expect(krw.some((a) => a.endsWith('.00'))).toBe(true);
    expect(krw.some((a) => !a.includes('.'))).toBe(true);
    expect(usd.length).toBeGreaterThan(50);
    expect(usd.every((a) => /^-?\d+\.\d{2}$/.test(a))).toBe(true);
    expect(transactions.some((tx) => Number(tx.amount) > 0)).toBe(true);
    expect(transactions.some((tx) => !('counterparty' in tx))).toBe(true);
    expect(transactions.some((tx) => tx.counterparty === null)).toBe(true);
    expect(transactions.some((tx) => !('reference' in tx))).toBe(true);
    expect(transactions.some((tx) => tx.reference === null)).toBe(true);
    expect(transactions.some((tx) => /^CARD \d{4} STARBUCKS [A-Z]+$/.test(tx.description))).toBe(true);
  });

  it('has a few pending card transactions, only in the last two days', () => {
    const { transactions } = generateConnectionData(spec, '42', NOW);
    const pending = transactions.filter((tx) => tx.status === 'pending');
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.length).toBeLessThan(transactions.length / 10);
    expect(pending.every((tx) => tx.booked_date >= '2026-11-21' && tx.description.startsWith('CARD '))).toBe(true);
  });

  it('uses the accounts it is given, amounts in their currency', () => {
    const { accounts, transactions } = generateConnectionData(
      { id: 'conn_x', days: 5, perDay: 10, accounts: [{ account_id: 'acc_jp', name: 'Tokyo', currency: 'JPY', mask: '0042' }] },
      '1',
      NOW,
    );
    expect(accounts).toEqual([{ account_id: 'acc_jp', name: 'Tokyo', currency: 'JPY', mask: '0042' }]);
    expect(transactions.every((tx) => tx.account_id === 'acc_jp' && tx.currency === 'JPY')).toBe(true);
  });

  it('generates 100,000 transactions for one connection, which a full sync pages through completely', () => {
    const sandbox = createBankSandbox({ seed: 42, now: NOW, connections: [{ id: 'conn_big', days: 100, perDay: 1_000 }] });
    expect(sandbox.getState('conn_big').transaction_count).toBe(100_000);
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const page = sandbox.sync({ connection_id: 'conn_big', cursor, count: 500 });
      for (const tx of page.added) seen.add(tx.transaction_id);
      pages += 1;
      cursor = page.next_cursor;
      if (!page.has_more) break;
    }
    expect(pages).toBe(200);
    expect(seen.size).toBe(100_000);
  });
});
