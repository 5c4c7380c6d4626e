import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  listLedgerTransactions,
  markLedgerTransactionsRemoved,
  runMigrations,
  seedExternalSource,
  sweepUnseenLedgerTransactions,
  upsertLedgerTransactions,
  type LedgerTransaction,
} from '@accounting/data-pg';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

let schema: TestSchema;
let sourceNo = 0;
let scope: { tenant: string; source: string; seenMarker: string };

function tx(id: string, overrides: Partial<LedgerTransaction> = {}): LedgerTransaction {
  return {
    externalId: id,
    accountId: 'acc_1',
    amount: '-12000.00',
    currency: 'KRW',
    bookedDate: '2026-11-20',
    status: 'posted',
    pendingExternalId: null,
    description: 'CARD 4821 STARBUCKS GANGNAM',
    counterparty: 'STARBUCKS',
    reference: null,
    providerUpdatedAt: '2026-11-20T09:12:44Z',
    ...overrides,
  };
}

beforeAll(async () => {
  schema = await createTestSchema('vt_ledger');
  await runMigrations(schema.db);
});
afterAll(async () => {
  await schema?.drop();
});
beforeEach(async () => {
  sourceNo += 1;
  scope = { tenant: 'default', source: `src${sourceNo}`, seenMarker: '16' };
  await seedExternalSource(schema.db, 'default', { source: scope.source, kind: 'bank_sbx', connectionId: 'conn_default', enabled: true });
});

describe('external ledger storage', () => {
  it('inserts new transactions and counts them as added, amounts kept exactly', async () => {
    const result = await upsertLedgerTransactions(schema.db, scope, [tx('tx_1'), tx('tx_2', { amount: '1234567890123.45', currency: 'USD' })]);
    expect(result).toEqual({ added: 2, modified: 0 });
    const rows = await listLedgerTransactions(schema.db, 'default', scope.source);
    expect(rows.map((r) => [r.external_id, r.amount, r.currency])).toEqual([
      ['tx_1', '-12000.00', 'KRW'],
      ['tx_2', '1234567890123.45', 'USD'],
    ]);
  });

  it('counts an identical re-delivery as nothing and leaves ts alone', async () => {
    await upsertLedgerTransactions(schema.db, scope, [tx('tx_1')]);
    const [before] = await listLedgerTransactions(schema.db, 'default', scope.source);
    expect(await upsertLedgerTransactions(schema.db, scope, [tx('tx_1')])).toEqual({ added: 0, modified: 0 });
    const [after] = await listLedgerTransactions(schema.db, 'default', scope.source);
    expect(after?.ts).toEqual(before?.ts);
  });

  it('applies a modification, moves ts, and keeps the note someone attached', async () => {
    await upsertLedgerTransactions(schema.db, scope, [tx('tx_1')]);
    await schema.db.query(`UPDATE external_ledger SET note = 'checked by kim' WHERE source = $1 AND external_id = 'tx_1'`, [scope.source]);
    const [before] = await listLedgerTransactions(schema.db, 'default', scope.source);
    expect(await upsertLedgerTransactions(schema.db, scope, [tx('tx_1', { amount: '-13000.00' })])).toEqual({ added: 0, modified: 1 });
    const [after] = await listLedgerTransactions(schema.db, 'default', scope.source);
    expect(after).toMatchObject({ amount: '-13000.00', note: 'checked by kim' });
    expect(after!.ts.getTime()).toBeGreaterThan(before!.ts.getTime());
  });

  it('keeps the last version when a batch names the same id twice', async () => {
    const result = await upsertLedgerTransactions(schema.db, scope, [tx('tx_1'), tx('tx_1', { amount: '-1.00' })]);
    expect(result.added).toBe(1);
    expect((await listLedgerTransactions(schema.db, 'default', scope.source))[0]?.amount).toBe('-1.00');
  });

  it('tombstones removed transactions, counts unknown ids, and never deletes', async () => {
    await upsertLedgerTransactions(schema.db, scope, [tx('tx_1'), tx('tx_2')]);
    const result = await markLedgerTransactionsRemoved(schema.db, scope, ['tx_1', 'tx_never_seen']);
    expect(result).toEqual({ removed: 1, removedUnknown: 1 });
    const rows = await listLedgerTransactions(schema.db, 'default', scope.source);
    expect(rows.map((r) => [r.external_id, r.removed_at !== null])).toEqual([
      ['tx_1', true],
      ['tx_2', false],
    ]);
    expect(await markLedgerTransactionsRemoved(schema.db, scope, ['tx_1'])).toEqual({ removed: 0, removedUnknown: 0 });
  });

  it('moves a note from the pending transaction to its posted version', async () => {
    await upsertLedgerTransactions(schema.db, scope, [tx('tx_p', { status: 'pending' })]);
    await schema.db.query(`UPDATE external_ledger SET note = 'ask finance' WHERE source = $1 AND external_id = 'tx_p'`, [scope.source]);
    await upsertLedgerTransactions(schema.db, scope, [tx('tx_posted', { pendingExternalId: 'tx_p' })]);
    await markLedgerTransactionsRemoved(schema.db, scope, ['tx_p']);
    const rows = await listLedgerTransactions(schema.db, 'default', scope.source);
    expect(rows.map((r) => [r.external_id, r.status, r.pending_external_id, r.note, r.removed_at !== null])).toEqual([
      ['tx_p', 'pending', null, 'ask finance', true],
      ['tx_posted', 'posted', 'tx_p', 'ask finance', false],
    ]);
  });

  it('after a full sync, tombstones live rows since the start date that the pass did not see', async () => {
    await upsertLedgerTransactions(schema.db, { ...scope, seenMarker: '1' }, [
      tx('tx_old', { bookedDate: '2026-11-01' }),
      tx('tx_gone', { bookedDate: '2026-11-20' }),
      tx('tx_kept', { bookedDate: '2026-11-20' }),
    ]);
    await upsertLedgerTransactions(schema.db, { ...scope, seenMarker: '2' }, [tx('tx_kept', { bookedDate: '2026-11-20' })]);
    expect(await sweepUnseenLedgerTransactions(schema.db, { ...scope, seenMarker: '2' }, '2026-11-15')).toBe(1);
    const rows = await listLedgerTransactions(schema.db, 'default', scope.source);
    expect(rows.map((r) => [r.external_id, r.removed_at !== null])).toEqual([
      ['tx_gone', true],
      ['tx_kept', false],
      ['tx_old', false],
    ]);
  });

  it('never shows one tenant the transactions of another', async () => {
    await seedExternalSource(schema.db, 'pilot-a', { source: scope.source, kind: 'bank_sbx', connectionId: 'conn_a', enabled: true });
    await upsertLedgerTransactions(schema.db, { ...scope, tenant: 'pilot-a' }, [tx('tx_a')]);
    expect(await listLedgerTransactions(schema.db, 'default', scope.source)).toEqual([]);
    expect((await listLedgerTransactions(schema.db, 'pilot-a', scope.source)).map((r) => r.external_id)).toEqual(['tx_a']);
  });
});
