import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { bankTx, entry } from '../../../test/support/reconData.js';
import { reconFixtures, type Suggestion } from './support/reconFixtures.js';

// What a person's confirmation teaches the next runs (docs/RECON.md "Aliases"), and a tenant's
// fee rule (docs/RECON.md "Per-tenant rules"), through the API as a user sees them. Each describe
// works in a tenant of its own.

const FEE_TENANT = 'fee-rule';
const NO_FEE_TENANT = 'no-fee-rule';

let schema: TestSchema;
let t: TestApp;

const as = (tenant: string) => ({ 'X-Tenant': tenant, 'X-User-Role': 'operator', 'X-User-Id': 'kim.operator' });

const { seed, runRecon, byTx, decide, auditEvents: auditOf } = reconFixtures(() => ({ db: schema.db, t }), as);

/** What a person sees of a line: its outcome, and which entry each candidate names. */
const outcome = (s: Suggestion) => ({ status: s.status, rule: s.rule, entry: s.entry?.entry_id ?? null, decision: s.decision });
const show = (s: Suggestion) => JSON.stringify({ ...outcome(s), rationale: s.rationale, candidates: s.candidates });

beforeAll(async () => {
  schema = await createTestSchema('vt_recon_alias_learning');
  t = await buildTestApp(schema.db, { RECON_FEE_RULES_JSON: JSON.stringify({ [FEE_TENANT]: { KRW: { min: '500', max: '2000' } } }) });
});
afterAll(async () => {
  await t?.reconRuns.stop();
  await schema?.drop();
});

describe('an alias learned from a confirmation', () => {
  const tenant = 'alias-learning';
  let aliasId: string;

  beforeAll(async () => {
    await seed(
      tenant,
      [bankTx('tx_kal_03', { amount: '-803900', bookedDate: '2026-03-10', description: 'KOREAN AIR', counterparty: null })],
      [
        entry('e-kal-03', { amount: '-803900', date: '2026-03-10', memo: '여비교통비 대한항공' }),
        entry('e-daiso-03', { amount: '-803900', date: '2026-03-10', memo: '소모품비 다이소' }),
      ],
    );
  });

  it('when a person confirms a pair whose names share nothing, the next run matches the same counterparty by the learned alias', async () => {
    await runRecon(tenant);
    const march = await byTx(tenant, 'tx_kal_03');
    // A tie: both entries have the amount and the date, neither a name in common with the line.
    expect(march.status, show(march)).toBe('suggested');
    expect(march.candidates.map((c) => c.entryId).sort(), show(march)).toEqual(['e-daiso-03', 'e-kal-03']);
    expect(new Set(march.candidates.map((c) => c.confidence)).size, show(march)).toBe(1);

    const confirmed = await decide(tenant, march.id, { decision: 'confirm', entry_id: 'e-kal-03' });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(outcome(await byTx(tenant, 'tx_kal_03'))).toMatchObject({ status: 'matched', entry: 'e-kal-03', decision: 'confirm' });

    // The keys are aliasNameKey of the line's description (it has no counterparty) and of the entry's memo.
    const aliases = await request(t.app).get('/v1/accounting/recon/aliases').set(as(tenant));
    expect(aliases.status, aliases.text).toBe(200);
    expect(aliases.body.items).toEqual([expect.objectContaining({ bank_name: 'korean air', ledger_name: '대한항공' })]);
    aliasId = aliases.body.items[0].id;
    expect(await auditOf(tenant, 'recon_alias_learned')).toEqual([
      expect.objectContaining({
        subject_id: aliasId,
        details: expect.objectContaining({ bank_name: 'korean air', ledger_name: '대한항공', suggestion_id: march.id, entry_id: 'e-kal-03' }),
      }),
    ]);

    // A new month: the same counterparty, the same decoy.
    await seed(
      tenant,
      [bankTx('tx_kal_04', { amount: '-242200', bookedDate: '2026-04-07', description: 'KOREAN AIR', counterparty: null })],
      [
        entry('e-kal-04', { amount: '-242200', date: '2026-04-07', memo: '여비교통비 대한항공' }),
        entry('e-daiso-04', { amount: '-242200', date: '2026-04-07', memo: '소모품비 다이소' }),
      ],
      '2',
    );
    const withAlias = await runRecon(tenant);
    // A learned alias marks the lines of its name: the run stays incremental under the same rules.
    expect([withAlias.mode, withAlias.summary.rules_version]).toEqual(['incremental', 'recon-rules/2']);
    const april = await byTx(tenant, 'tx_kal_04');
    expect(outcome(april), show(april)).toMatchObject({ status: 'matched', entry: 'e-kal-04', decision: null });
    const text = april.candidates.find((c) => c.entryId === 'e-kal-04')?.criteria.find((c) => c.name === 'text');
    expect(text?.detail, show(april)).toContain('alias');
    // The person's decision stands.
    expect(outcome(await byTx(tenant, 'tx_kal_03'))).toMatchObject({ status: 'matched', entry: 'e-kal-03', decision: 'confirm' });
  });

  it('once the alias is removed, the next run decides the line of its name again: no longer matched by the alias', async () => {
    const removed = await request(t.app).delete(`/v1/accounting/recon/aliases/${aliasId}`).set(as(tenant));
    expect(removed.status, removed.text).toBe(200);
    expect((await request(t.app).get('/v1/accounting/recon/aliases').set(as(tenant))).body.items).toEqual([]);

    // No range: only the removal's marks bring the April line (decided, stored under "korean air") into the run.
    const run = await runRecon(tenant);
    expect([run.mode, run.summary.rules_version, run.summary.transactions]).toEqual(['incremental', 'recon-rules/2', 1]);
    const april = await byTx(tenant, 'tx_kal_04');
    expect(outcome(april), show(april)).toMatchObject({ status: 'suggested', decision: null });
    // A tie again, as before the alias: both entries scored alike.
    expect(april.candidates.map((c) => c.entryId).sort(), show(april)).toEqual(['e-daiso-04', 'e-kal-04']);
    expect(new Set(april.candidates.map((c) => c.confidence)).size, show(april)).toBe(1);
    for (const candidate of april.candidates) expect(candidate.criteria.find((c) => c.name === 'text')?.detail ?? '', show(april)).not.toContain('alias');
    expect(outcome(await byTx(tenant, 'tx_kal_03'))).toMatchObject({ status: 'matched', entry: 'e-kal-03', decision: 'confirm' });
  });
});

describe("a tenant's fee rule", () => {
  // An invoice of 1,000,000 paid 2 business days later, 1,000 short: the payer's bank kept its fee.
  const txs = [bankTx('tx_nuri', { amount: '999000', bookedDate: '2026-06-11', description: 'FB입금 누리유통', counterparty: null })];
  const entries = [entry('e-nuri', { amount: '1000000', date: '2026-06-09', memo: '용역매출 - 누리유통' })];

  beforeAll(async () => {
    for (const tenant of [FEE_TENANT, NO_FEE_TENANT]) {
      await seed(tenant, txs, entries);
    }
  });

  it('when the shortfall is within the rule, auto-matches the incoming payment and records the difference as the fee', async () => {
    const run = await runRecon(FEE_TENANT);
    expect(run.summary.rules_version).toMatch(/^recon-rules\/\d+\+tenant:[0-9a-f]{8}$/);
    const line = await byTx(FEE_TENANT, 'tx_nuri');
    expect(outcome(line), show(line)).toMatchObject({ status: 'matched', entry: 'e-nuri' });
    expect(line.candidates.find((c) => c.entryId === 'e-nuri')?.fee, show(line)).toBe('1000');
  });

  it('without a rule (another tenant), the same data is only suggested, as an amount that differs', async () => {
    const run = await runRecon(NO_FEE_TENANT);
    expect(run.summary.rules_version).not.toContain('+tenant');
    const line = await byTx(NO_FEE_TENANT, 'tx_nuri');
    expect(outcome(line), show(line)).toMatchObject({ status: 'suggested', rule: 'amount_differs' });
    expect(line.candidates.find((c) => c.entryId === 'e-nuri'), show(line)).not.toHaveProperty('fee');
  });
});
