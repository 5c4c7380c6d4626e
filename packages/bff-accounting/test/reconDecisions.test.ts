import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSuggestionDecision } from '@accounting/data-pg';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { bankTxWith, entryWith } from '../../../test/support/reconData.js';
import { reconFixtures, type Suggestion } from './support/reconFixtures.js';

// One ledger entry, one bank line: confirms of an entry another line holds, replacements, parallel
// confirms, and what a decline answers. Each describe works in a tenant of its own.

let schema: TestSchema;
let t: TestApp;

const as = (tenant: string) => ({ 'X-Tenant': tenant, 'X-User-Role': 'operator' });

const bankTx = bankTxWith({ amount: '-7000', description: 'CARD 4821 TAXI' });
const entry = entryWith({ amount: '-7000', memo: 'taxi' });
const { seed, runRecon, suggestions, byTx, decide, storedAudit: auditOf } = reconFixtures(() => ({ db: schema.db, t }), as);

/** The tenant's rows matched to `entryId` and their decisions, as stored. */
async function matchedTo(tenant: string, entryId: string) {
  const { rows } = await schema.db.query<{ external_id: string; decision: string | null }>(
    `SELECT external_id, decision FROM recon_suggestions WHERE tenant = $1 AND entry_id = $2 AND status = 'matched' ORDER BY external_id`,
    [tenant, entryId],
  );
  return rows;
}

beforeAll(async () => {
  schema = await createTestSchema('vt_recon_decisions');
  t = await buildTestApp(schema.db);
});
afterAll(async () => {
  await t?.reconRuns.stop();
  await schema?.drop();
});

describe('confirming an entry another line holds', () => {
  const tenant = 'one-entry';

  beforeAll(async () => {
    await seed(
      tenant,
      [
        bankTx('tx_invoice', { amount: '-55000', reference: 'INV-2026-0042', description: 'TRANSFER ACME', counterparty: 'ACME' }),
        bankTx('tx_transfer', { amount: '-55000', description: 'TRANSFER', counterparty: null }),
      ],
      [entry('e-invoice', { amount: '-55000', reference: 'INV-2026-0042', memo: 'ACME invoice INV-2026-0042' })],
    );
    await runRecon(tenant);
    expect(await byTx(tenant, 'tx_invoice')).toMatchObject({ status: 'matched', decision: null, entry: { entry_id: 'e-invoice' } });
    expect((await byTx(tenant, 'tx_transfer')).candidates.map((c) => c.entryId)).toContain('e-invoice');
  });

  it('when a run auto-matched it to another line, answers 409 ENTRY_ALREADY_MATCHED naming that line, and changes nothing', async () => {
    const before = await suggestions(tenant);
    const invoice = await byTx(tenant, 'tx_invoice');
    const transfer = await byTx(tenant, 'tx_transfer');
    const res = await decide(tenant, transfer.id, { decision: 'confirm', entry_id: 'e-invoice' });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      error_code: 'ENTRY_ALREADY_MATCHED',
      entry_id: 'e-invoice',
      matched_suggestion_id: invoice.id,
      matched_external_id: 'tx_invoice',
      matched_by: 'auto_match',
      request_id: expect.any(String),
    });
    expect(await suggestions(tenant)).toEqual(before);
    expect(await matchedTo(tenant, 'e-invoice')).toEqual([{ external_id: 'tx_invoice', decision: null }]);
    expect(await auditOf(tenant)).toEqual([]);
  });

  it('when a person confirmed it for another line, answers 409 ENTRY_ALREADY_MATCHED', async () => {
    const invoice = await byTx(tenant, 'tx_invoice');
    expect((await decide(tenant, invoice.id, { decision: 'confirm' })).status).toBe(200);
    const transfer = await byTx(tenant, 'tx_transfer');
    const res = await decide(tenant, transfer.id, { decision: 'confirm', entry_id: 'e-invoice' });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error_code: 'ENTRY_ALREADY_MATCHED', entry_id: 'e-invoice', matched_external_id: 'tx_invoice', matched_by: 'person' });
    expect(await matchedTo(tenant, 'e-invoice')).toEqual([{ external_id: 'tx_invoice', decision: 'confirm' }]);
    expect((await auditOf(tenant)).map((e) => e.action)).toEqual(['recon_decision']);
  });

  it('refuses replace with a decline as a validation error', async () => {
    const transfer = await byTx(tenant, 'tx_transfer');
    const res = await decide(tenant, transfer.id, { decision: 'decline', entry_id: 'e-invoice', replace: true });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'VALIDATION_FAILED', issues: [{ path: 'replace' }] });
  });

  it('with replace: true, takes the entry in one transaction: the other line is unmatched, both are audited, and the next run keeps it so', async () => {
    const invoice = await byTx(tenant, 'tx_invoice');
    const transfer = await byTx(tenant, 'tx_transfer');
    const res = await decide(tenant, transfer.id, { decision: 'confirm', entry_id: 'e-invoice', replace: true, note: 'the invoice was paid by this transfer' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: transfer.id, status: 'matched', decision: 'confirm', entry: { entry_id: 'e-invoice' } });

    const undone = await byTx(tenant, 'tx_invoice');
    expect(undone).toMatchObject({ status: 'unmatched', rule: 'match_replaced', decision: null, entry: null });
    expect(undone.rationale).toMatch(/e-invoice was reassigned to transaction tx_transfer by a person/);
    expect(undone.candidates.find((c) => c.entryId === 'e-invoice')?.taken).toBe(true);
    expect(await matchedTo(tenant, 'e-invoice')).toEqual([{ external_id: 'tx_transfer', decision: 'confirm' }]);

    const events = (await auditOf(tenant)).slice(1);
    expect(events).toEqual([
      {
        action: 'recon_match_replaced',
        subject_id: 'tx_invoice',
        details: expect.objectContaining({
          suggestion_id: invoice.id,
          entry_id: 'e-invoice',
          matched_by: 'person',
          replaced_by: { suggestion_id: transfer.id, external_id: 'tx_transfer' },
        }),
      },
      {
        action: 'recon_decision',
        subject_id: 'tx_transfer',
        details: expect.objectContaining({ decision: 'confirm', entry_id: 'e-invoice', replaced: { suggestion_id: invoice.id, external_id: 'tx_invoice' } }),
      },
    ]);

    const run = await runRecon(tenant);
    expect(run.summary.transactions).toBeGreaterThanOrEqual(1);
    const after = await byTx(tenant, 'tx_invoice');
    expect(after.rule).not.toBe('match_replaced');
    expect(after.status).not.toBe('matched');
    expect(await matchedTo(tenant, 'e-invoice')).toEqual([{ external_id: 'tx_transfer', decision: 'confirm' }]);
  });
});

describe('parallel confirms of one entry from 20 lines', () => {
  const lines = (prefix: string) => Array.from({ length: 20 }, (_, i) => bankTx(`${prefix}_${String(i).padStart(2, '0')}`));

  /** The 20 lines' suggestions once a run suggested the one entry to each. */
  async function contested(tenant: string, entryId: string): Promise<Suggestion[]> {
    await seed(tenant, lines('tx_taxi'), [entry(entryId)]);
    await runRecon(tenant);
    const all = await suggestions(tenant);
    expect(all).toHaveLength(20);
    for (const s of all) expect(s.candidates.map((c) => c.entryId)).toEqual([entryId]);
    expect(await matchedTo(tenant, entryId)).toEqual([]);
    return all;
  }

  it('let exactly one win (200); the 19 others answer 409 ENTRY_ALREADY_MATCHED, never a 5xx', async () => {
    const tenant = 'crowd';
    const all = await contested(tenant, 'e-taxi');
    const answers = await Promise.all(all.map((s) => decide(tenant, s.id, { decision: 'confirm', entry_id: 'e-taxi' })));
    const statuses = answers.map((res) => res.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(answers.filter((res) => res.status === 409 && res.body.error_code === 'ENTRY_ALREADY_MATCHED')).toHaveLength(19);
    const winner = answers.find((res) => res.status === 200)!.body.transaction.external_id as string;
    expect(await matchedTo(tenant, 'e-taxi')).toEqual([{ external_id: winner, decision: 'confirm' }]);
    for (const res of answers.filter((r) => r.status === 409)) expect(res.body.matched_external_id).toBe(winner);
    expect((await auditOf(tenant)).map((e) => e.action)).toEqual(['recon_decision']);

    // Past the lock, the unique index is the last guard: its violation is a refusal, not a crash.
    const loser = all.find((s) => s.transaction.external_id !== winner)!;
    const outcome = { status: 'matched' as const, entryId: 'e-taxi', confidence: 1, rule: 'contested', rationale: 'test', criteria: [], candidates: [] };
    const recorded = await schema.appDb.transaction((tx) => recordSuggestionDecision(tx, tenant, loser.id, { decision: 'confirm', decidedBy: 'test', outcome }));
    expect(recorded).toBe(false);
    expect(await matchedTo(tenant, 'e-taxi')).toEqual([{ external_id: winner, decision: 'confirm' }]);
  });

  it('with replace: true, each takes the entry in turn: no 5xx, one line holds it at the end, and every replacement is audited', async () => {
    const tenant = 'crowd-replace';
    const all = await contested(tenant, 'e-taxi');
    const answers = await Promise.all(all.map((s) => decide(tenant, s.id, { decision: 'confirm', entry_id: 'e-taxi', replace: true })));
    expect(answers.map((res) => res.status)).toEqual(all.map(() => 200));
    const matched = await matchedTo(tenant, 'e-taxi');
    expect(matched).toHaveLength(1);
    expect(matched[0]?.decision).toBe('confirm');

    const events = await auditOf(tenant);
    const decisions = events.filter((e) => e.action === 'recon_decision');
    const replacements = events.filter((e) => e.action === 'recon_match_replaced');
    expect(decisions).toHaveLength(20);
    expect(replacements).toHaveLength(19);
    expect(decisions.filter((e) => e.details.replaced)).toHaveLength(19);
    // Every line but the last winner was replaced once, by the confirm that followed it.
    expect(new Set(replacements.map((e) => e.subject_id)).size).toBe(19);
    expect(replacements.map((e) => e.subject_id)).not.toContain(matched[0]?.external_id);
    const replacedBy = new Set(replacements.map((e) => (e.details.replaced_by as { external_id: string }).external_id));
    expect(replacedBy.size).toBe(19);
  });
});

describe('a decline', () => {
  const tenant = 'declines';

  beforeAll(async () => {
    await seed(
      tenant,
      [bankTx('tx_tie', { amount: '-20000' }), bankTx('tx_gs25', { amount: '-8700', description: 'CARD 4821 GS25 YEOKSAM', counterparty: 'GS25' })],
      [
        entry('e-tie-1', { amount: '-20000', date: '2026-11-19' }),
        entry('e-tie-2', { amount: '-20000', date: '2026-11-21' }),
        entry('e-gs25', { amount: '-8700', date: '2026-11-21', memo: 'GS25 snacks' }),
      ],
    );
    await runRecon(tenant);
  });

  it('answers the line on its next candidate (suggested) when another is left', async () => {
    const tie = await byTx(tenant, 'tx_tie');
    expect(tie.candidates.map((c) => c.entryId).sort()).toEqual(['e-tie-1', 'e-tie-2']);
    const declined = tie.entry!.entry_id;
    const next = declined === 'e-tie-1' ? 'e-tie-2' : 'e-tie-1';
    const res = await decide(tenant, tie.id, { decision: 'decline' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'suggested', rule: 'declined', decision: 'decline', entry: { entry_id: next } });
    expect(res.body.candidates.map((c: { entryId: string }) => c.entryId)).toEqual([next]);
    expect(res.body.rationale).toMatch(new RegExp(`${declined} was declined by a person; next candidate ${next}`));
    expect(await byTx(tenant, 'tx_tie')).toEqual(res.body);
  });

  it('answers unmatched when no candidate is left', async () => {
    const gs25 = await byTx(tenant, 'tx_gs25');
    expect(gs25.candidates.map((c) => c.entryId)).toEqual(['e-gs25']);
    const res = await decide(tenant, gs25.id, { decision: 'decline', entry_id: 'e-gs25' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'unmatched', rule: 'declined', decision: 'decline', entry: null, candidates: [], confidence: null });
    expect(res.body.rationale).toMatch(/all candidates were declined/);
    expect(await byTx(tenant, 'tx_gs25')).toEqual(res.body);
  });
});
