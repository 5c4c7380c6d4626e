import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerTransaction } from '@accounting/data-pg';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { bankTxWith, entryWith } from '../../../test/support/reconData.js';
import { reconFixtures } from './support/reconFixtures.js';

// Confirming a group suggestion as one match: a batch (one bank line pays several entries) and a
// split (several lines pay one entry). Each describe works in a tenant of its own; the API runs
// as the app role under row-level security.

let schema: TestSchema;
let t: TestApp;

const as = (tenant: string) => ({ 'X-Tenant': tenant, 'X-User-Role': 'operator' });

const bankTx = bankTxWith({ amount: '-100000', bookedDate: '2026-03-05', description: '' });
const ledgerEntry = entryWith();
const entry = (id: string, amount: string, date: string, memo: string, counterparty: string | null = null) => ledgerEntry(id, { amount, date, memo, counterparty });

/**
 * Two entries of 누리유통 that one bank line of 300,000 pays (a batch), and a nameless line of 200,000
 * suggested an office-supplies entry of 200,000 or the batch's second entry (neither claimed).
 */
const BATCH = {
  lines: [
    bankTx('tx_nuri', { amount: '-300000', description: 'FB출금 누리유통', bookedDate: '2026-03-05' }),
    bankTx('tx_misc', { amount: '-200000', description: '인터넷뱅킹', bookedDate: '2026-03-06' }),
  ],
  entries: [
    entry('e-nuri-1', '-100000', '2026-03-02', '외상매입 - 누리유통', '누리유통'),
    entry('e-nuri-2', '-200000', '2026-03-03', '외상매입 - 누리유통', '누리유통'),
    entry('e-office', '-200000', '2026-03-09', '사무용품'),
  ],
};

/** One entry of 한빛상사 that two bank lines pay (a split), and an office-supplies entry of 300,000. */
const SPLIT = {
  lines: [
    bankTx('tx_hanbit_1', { amount: '-200000', description: '인터넷뱅킹 한빛상사', bookedDate: '2026-03-09' }),
    bankTx('tx_hanbit_2', { amount: '-300000', description: '인터넷뱅킹 한빛상사', bookedDate: '2026-03-12' }),
  ],
  entries: [entry('e-hanbit', '-500000', '2026-03-08', '상품매입 - 한빛상사'), entry('e-supplies', '-300000', '2026-03-13', '사무용품')],
};

let syncs = 0;

const recon = reconFixtures(() => ({ db: schema.db, t }), as);
const { runRecon, byTx, decide } = recon;
/** Each seed is a sync of its own. */
const seed = (tenant: string, txs: LedgerTransaction[], entries: object[]) => recon.seed(tenant, txs, entries, String(++syncs));
/** The tenant's audit events but the aliases its confirms teach (reconAliasLearning.test.ts). */
const auditOf = async (tenant: string) => (await recon.storedAudit(tenant)).filter((e) => e.action !== 'recon_alias_learned');

/** The tenant's confirmed matches as stored: each held entry with its match's lines. */
async function holds(tenant: string) {
  const { rows } = await schema.db.query<{ entry_id: string; lines: string[]; keys: number }>(
    `SELECT h.entry_id, array_agg(m.external_id ORDER BY m.external_id) AS lines, count(DISTINCT h.match_key)::int AS keys
     FROM recon_entry_holds h JOIN recon_matched_entries m ON m.tenant = h.tenant AND m.entry_id = h.entry_id AND m.match_key = h.match_key
     WHERE h.tenant = $1 GROUP BY h.entry_id ORDER BY h.entry_id`,
    [tenant],
  );
  return rows;
}

async function matchKeys(tenant: string): Promise<number> {
  const { rows } = await schema.db.query<{ n: number }>(`SELECT count(DISTINCT match_key)::int AS n FROM recon_entry_holds WHERE tenant = $1`, [tenant]);
  return rows[0]?.n ?? 0;
}

beforeAll(async () => {
  schema = await createTestSchema('vt_recon_groups');
  t = await buildTestApp(schema.db);
});
afterAll(async () => {
  await t?.reconRuns.stop();
  await schema?.drop();
});

describe('confirming a batch', () => {
  const tenant = 'batch';

  beforeAll(async () => {
    await seed(tenant, BATCH.lines, BATCH.entries);
    await runRecon(tenant);
    const nuri = await byTx(tenant, 'tx_nuri');
    expect(nuri).toMatchObject({ status: 'suggested', rule: 'group', decision: null });
    expect(nuri.candidates[0]).toMatchObject({ tier: 'group', entryId: 'e-nuri-1', entryIds: ['e-nuri-1', 'e-nuri-2'] });
    expect((await byTx(tenant, 'tx_misc')).candidates.map((c) => c.entryId)).toContain('e-nuri-2');
  });

  it('group: true on a suggestion without a group candidate answers 422 NOT_A_GROUP, and changes nothing', async () => {
    const misc = await byTx(tenant, 'tx_misc');
    const res = await decide(tenant, misc.id, { decision: 'confirm', group: true });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error_code: 'NOT_A_GROUP', request_id: expect.any(String) });
    expect(await byTx(tenant, 'tx_misc')).toEqual(misc);
    expect(await auditOf(tenant)).toEqual([]);
  });

  it('group with a decline is refused as a validation error', async () => {
    const nuri = await byTx(tenant, 'tx_nuri');
    const res = await decide(tenant, nuri.id, { decision: 'decline', group: true });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'VALIDATION_FAILED', issues: [{ path: 'group' }] });
  });

  it('an entry_id other than the group entry is refused with 422 ENTRY_NOT_A_CANDIDATE', async () => {
    const nuri = await byTx(tenant, 'tx_nuri');
    const res = await decide(tenant, nuri.id, { decision: 'confirm', group: true, entry_id: 'e-nuri-2' });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error_code: 'ENTRY_NOT_A_CANDIDATE', candidates: ['e-nuri-1'] });
  });

  it('matches the line to every entry of the batch: each is held by the one match, and one audit event says so', async () => {
    const nuri = await byTx(tenant, 'tx_nuri');
    const res = await decide(tenant, nuri.id, { decision: 'confirm', group: true, note: 'two invoices in one transfer' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: nuri.id, status: 'matched', decision: 'confirm', entry: { entry_id: 'e-nuri-1' } });
    expect(await holds(tenant)).toEqual([
      { entry_id: 'e-nuri-1', lines: ['tx_nuri'], keys: 1 },
      { entry_id: 'e-nuri-2', lines: ['tx_nuri'], keys: 1 },
    ]);
    expect(await matchKeys(tenant)).toBe(1);
    expect(await auditOf(tenant)).toEqual([
      {
        action: 'recon_decision',
        subject_id: 'tx_nuri',
        details: expect.objectContaining({
          decision: 'confirm',
          suggestion_id: nuri.id,
          entry_id: 'e-nuri-1',
          note: 'two invoices in one transfer',
          group: { kind: 'batch', entry_ids: ['e-nuri-1', 'e-nuri-2'], transaction_ids: ['bank_sbx|tx_nuri'] },
        }),
      },
    ]);
  });

  it("a later confirm of the batch's second entry on another line answers 409 ENTRY_ALREADY_MATCHED naming the batch line", async () => {
    const misc = await byTx(tenant, 'tx_misc');
    const nuri = await byTx(tenant, 'tx_nuri');
    const res = await decide(tenant, misc.id, { decision: 'confirm', entry_id: 'e-nuri-2' });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      error_code: 'ENTRY_ALREADY_MATCHED',
      entry_id: 'e-nuri-2',
      matched_suggestion_id: nuri.id,
      matched_external_id: 'tx_nuri',
      matched_by: 'person',
    });
    expect((await byTx(tenant, 'tx_misc')).decision).toBeNull();
  });

  it('a later run never matches an entry of the batch to another line', async () => {
    await seed(tenant, [bankTx('tx_late', { amount: '-200000', description: 'FB출금 누리유통', bookedDate: '2026-03-04' })], []);
    await runRecon(tenant);
    const late = await byTx(tenant, 'tx_late');
    expect(late.status).not.toBe('matched');
    expect(late.candidates.find((c) => c.entryId === 'e-nuri-2')).toMatchObject({ taken: true });
    expect(await holds(tenant)).toEqual([
      { entry_id: 'e-nuri-1', lines: ['tx_nuri'], keys: 1 },
      { entry_id: 'e-nuri-2', lines: ['tx_nuri'], keys: 1 },
    ]);
    expect(await byTx(tenant, 'tx_nuri')).toMatchObject({ status: 'matched', decision: 'confirm' });
  });
});

describe('confirming a batch one of whose entries another line holds', () => {
  const tenant = 'batch-replace';

  beforeAll(async () => {
    await seed(tenant, BATCH.lines, BATCH.entries);
    await runRecon(tenant);
    const misc = await byTx(tenant, 'tx_misc');
    expect((await decide(tenant, misc.id, { decision: 'confirm', entry_id: 'e-nuri-2' })).status).toBe(200);
    expect((await byTx(tenant, 'tx_nuri')).candidates[0]).toMatchObject({ tier: 'group', entryIds: ['e-nuri-1', 'e-nuri-2'] });
  });

  it('answers 409 ENTRY_ALREADY_MATCHED naming that entry and line, and changes nothing', async () => {
    const nuri = await byTx(tenant, 'tx_nuri');
    const misc = await byTx(tenant, 'tx_misc');
    const res = await decide(tenant, nuri.id, { decision: 'confirm', group: true });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error_code: 'ENTRY_ALREADY_MATCHED', entry_id: 'e-nuri-2', matched_suggestion_id: misc.id, matched_external_id: 'tx_misc' });
    expect(await holds(tenant)).toEqual([{ entry_id: 'e-nuri-2', lines: ['tx_misc'], keys: 1 }]);
  });

  it('with replace: true, un-matches that line and holds every entry of the batch, in one transaction', async () => {
    const nuri = await byTx(tenant, 'tx_nuri');
    const misc = await byTx(tenant, 'tx_misc');
    const res = await decide(tenant, nuri.id, { decision: 'confirm', group: true, replace: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'matched', decision: 'confirm', entry: { entry_id: 'e-nuri-1' } });
    const undone = await byTx(tenant, 'tx_misc');
    expect(undone).toMatchObject({ rule: 'match_replaced', decision: null });
    expect(undone.status).not.toBe('matched');
    expect(undone.rationale).toMatch(/e-nuri-2 was reassigned to transaction tx_nuri by a person/);
    expect(await holds(tenant)).toEqual([
      { entry_id: 'e-nuri-1', lines: ['tx_nuri'], keys: 1 },
      { entry_id: 'e-nuri-2', lines: ['tx_nuri'], keys: 1 },
    ]);
    const events = (await auditOf(tenant)).slice(1);
    expect(events.map((e) => [e.action, e.subject_id])).toEqual([
      ['recon_match_replaced', 'tx_misc'],
      ['recon_decision', 'tx_nuri'],
    ]);
    expect(events[0]?.details).toMatchObject({ suggestion_id: misc.id, entry_id: 'e-nuri-2', matched_by: 'person' });
    expect(events[1]?.details).toMatchObject({ replaced: [{ suggestion_id: misc.id, external_id: 'tx_misc' }], group: { kind: 'batch' } });
  });
});

describe('confirming a split', () => {
  const tenant = 'split';

  beforeAll(async () => {
    await seed(tenant, SPLIT.lines, SPLIT.entries);
    await runRecon(tenant);
    expect((await byTx(tenant, 'tx_hanbit_1')).candidates[0]).toMatchObject({ tier: 'group', entryId: 'e-hanbit', transactionIds: ['bank_sbx|tx_hanbit_2'] });
    expect((await byTx(tenant, 'tx_hanbit_2')).candidates[0]).toMatchObject({ tier: 'group', entryId: 'e-hanbit', transactionIds: ['bank_sbx|tx_hanbit_1'] });
  });

  it('on one line matches every line of the split to the entry, as one match, with one audit event per line', async () => {
    const first = await byTx(tenant, 'tx_hanbit_1');
    const second = await byTx(tenant, 'tx_hanbit_2');
    const res = await decide(tenant, first.id, { decision: 'confirm', group: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: first.id, status: 'matched', decision: 'confirm', entry: { entry_id: 'e-hanbit' } });
    expect(await byTx(tenant, 'tx_hanbit_2')).toMatchObject({ id: second.id, status: 'matched', decision: 'confirm', entry: { entry_id: 'e-hanbit' } });
    expect(await holds(tenant)).toEqual([{ entry_id: 'e-hanbit', lines: ['tx_hanbit_1', 'tx_hanbit_2'], keys: 1 }]);

    const group = { kind: 'split', entry_ids: ['e-hanbit'], transaction_ids: ['bank_sbx|tx_hanbit_1', 'bank_sbx|tx_hanbit_2'] };
    expect(await auditOf(tenant)).toEqual([
      { action: 'recon_decision', subject_id: 'tx_hanbit_1', details: expect.objectContaining({ decision: 'confirm', suggestion_id: first.id, entry_id: 'e-hanbit', group }) },
      { action: 'recon_decision', subject_id: 'tx_hanbit_2', details: expect.objectContaining({ decision: 'confirm', suggestion_id: second.id, entry_id: 'e-hanbit', group }) },
    ]);
  });

  it('the other line of a confirmed split is decided: a confirm of it answers 409 SUGGESTION_ALREADY_DECIDED', async () => {
    const second = await byTx(tenant, 'tx_hanbit_2');
    const res = await decide(tenant, second.id, { decision: 'confirm', group: true });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error_code: 'SUGGESTION_ALREADY_DECIDED' });
  });

  it('a later run keeps both lines matched and never matches the entry elsewhere', async () => {
    await seed(tenant, [bankTx('tx_hanbit_3', { amount: '-500000', description: '인터넷뱅킹 한빛상사', bookedDate: '2026-03-10' })], []);
    await runRecon(tenant);
    expect((await byTx(tenant, 'tx_hanbit_3')).status).not.toBe('matched');
    expect(await holds(tenant)).toEqual([{ entry_id: 'e-hanbit', lines: ['tx_hanbit_1', 'tx_hanbit_2'], keys: 1 }]);
  });
});

describe('confirming a split whose other line was meanwhile confirmed elsewhere', () => {
  const tenant = 'split-changed';

  it('answers 409 GROUP_CHANGED, and changes nothing', async () => {
    await seed(tenant, SPLIT.lines, SPLIT.entries);
    await runRecon(tenant);
    const first = await byTx(tenant, 'tx_hanbit_1');
    const second = await byTx(tenant, 'tx_hanbit_2');
    expect(first.candidates[0]).toMatchObject({ tier: 'group', transactionIds: ['bank_sbx|tx_hanbit_2'] });
    expect(second.candidates.map((c) => c.entryId)).toContain('e-supplies');
    expect((await decide(tenant, second.id, { decision: 'confirm', entry_id: 'e-supplies' })).status).toBe(200);

    const res = await decide(tenant, first.id, { decision: 'confirm', group: true });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error_code: 'GROUP_CHANGED', message: expect.stringMatching(/run reconciliation again/) });
    expect(await byTx(tenant, 'tx_hanbit_1')).toEqual(first);
    expect(await byTx(tenant, 'tx_hanbit_2')).toMatchObject({ status: 'matched', decision: 'confirm', entry: { entry_id: 'e-supplies' } });
    expect(await holds(tenant)).toEqual([{ entry_id: 'e-supplies', lines: ['tx_hanbit_2'], keys: 1 }]);
    expect((await auditOf(tenant)).map((e) => e.subject_id)).toEqual(['tx_hanbit_2']);
  });
});

describe('confirming a candidate that carries a bank fee', () => {
  const tenant = 'fee';

  it("records the fee in the recon_decision event, and the stored suggestion keeps the candidate's fee", async () => {
    await seed(tenant, [bankTx('tx_fee', { amount: '-99500', description: 'FB출금 누리유통' })], [entry('e-fee', '-100000', '2026-03-05', '외상매입 - 누리유통', '누리유통')]);
    await runRecon(tenant);
    // The fee rules are a tenant's configuration (RECON_FEE_RULES_JSON); here the stored candidate is given the fee they would accept.
    await schema.db.query(
      `UPDATE recon_suggestions SET status = 'suggested', candidates = jsonb_set(candidates, '{0,fee}', '"500"') WHERE tenant = $1 AND external_id = 'tx_fee'`,
      [tenant],
    );
    const suggestion = await byTx(tenant, 'tx_fee');
    expect(suggestion.candidates[0]).toMatchObject({ entryId: 'e-fee', fee: '500' });
    const res = await decide(tenant, suggestion.id, { decision: 'confirm', entry_id: 'e-fee' });
    expect(res.status).toBe(200);
    expect(res.body.candidates[0]).toMatchObject({ entryId: 'e-fee', fee: '500' });
    expect(await auditOf(tenant)).toEqual([
      { action: 'recon_decision', subject_id: 'tx_fee', details: expect.objectContaining({ decision: 'confirm', entry_id: 'e-fee', fee: '500' }) },
    ]);
  });
});
