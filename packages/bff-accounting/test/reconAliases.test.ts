import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSuggestion, markLedgerTransactionsRemoved, readReconState, withTransaction, type SuggestionView } from '@accounting/data-pg';
import { learnAliasFromConfirmation, ReconEngine, type EngineSession, type ReconAlias, type ReconRules } from '@accounting/service-core-accounting';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { bankTx, entry } from '../../../test/support/reconData.js';
import { reconFixtures } from './support/reconFixtures.js';

const operator = { 'X-Tenant': 'default', 'X-User-Role': 'operator', 'X-User-Id': 'kim.operator' };
const pilot = { 'X-Tenant': 'pilot-a', 'X-User-Role': 'operator' };
const ALIASES = '/v1/accounting/recon/aliases';
let schema: TestSchema;
let t: TestApp;

/** The aliases each run handed the engine thread, in order. */
const handed: ReconAlias[][] = [];

/** The real engine, recording the aliases a run hands it. */
class RecordingEngine extends ReconEngine {
  override session<T>(rules: ReconRules, fn: (session: EngineSession) => Promise<T>): Promise<T> {
    return super.session(rules, (job) =>
      fn({
        ...job,
        aliases: async (aliases) => {
          handed.push([...aliases]);
          await job.aliases(aliases);
        },
      }),
    );
  }
}

const recon = reconFixtures(() => ({ db: schema.db, t }), (tenant) => (tenant === pilot['X-Tenant'] ? pilot : operator));
const runRecon = (tenant = 'default') => recon.runRecon(tenant);
const auditOf = (action: string) => recon.auditEvents('default', action);

/** The stored suggestion of a bank line of `default`. */
async function suggestionOf(externalId: string): Promise<SuggestionView> {
  const { id } = await recon.byTx('default', externalId);
  const suggestion = await findSuggestion(schema.appDb, 'default', id);
  if (!suggestion) throw new Error(`no suggestion for ${externalId}`);
  return suggestion;
}

/** What the decision flow will do on a confirm: learn, in the decision's transaction, as the app's role. */
const learn = (suggestion: SuggestionView, entryId: string) =>
  withTransaction(schema.appDb, (tx) => learnAliasFromConfirmation(tx, { tenant: 'default', role: 'operator', userId: 'kim.operator' }, suggestion, entryId));

async function aliases(headers: Record<string, string> = operator, query = 'limit=200') {
  const res = await request(t.app).get(`${ALIASES}?${query}`).set(headers);
  expect(res.status, res.text).toBe(200);
  return res.body as { tenant: string; items: { id: string; bank_name: string; ledger_name: string }[]; next_cursor: string | null };
}

/** The version the tenant's last full run recorded. */
const stateOf = () => readReconState(schema.appDb, 'default');

/** The lines of `tenant` marked for the next run. */
async function markedLines(tenant = 'default'): Promise<string[]> {
  const { rows } = await schema.db.query<{ external_id: string }>(`SELECT external_id FROM recon_pending_lines WHERE tenant = $1 ORDER BY external_id`, [tenant]);
  return rows.map((row) => row.external_id);
}

/** The stored suggestions of `default` by line: their alias key, rationale and when a run last wrote them. */
async function stored(): Promise<Map<string, { alias_key: string | null; rationale: string; updated_at: string }>> {
  const { rows } = await schema.db.query<{ external_id: string; alias_key: string | null; rationale: string; updated_at: string }>(
    `SELECT external_id, alias_key, rationale, updated_at::text AS updated_at FROM recon_suggestions WHERE tenant = 'default' ORDER BY external_id`,
  );
  return new Map(rows.map(({ external_id, ...row }) => [external_id, row]));
}

/** The lines whose stored rationale says a learned alias named their counterparty. */
async function decidedByAlias(): Promise<string[]> {
  return [...(await stored())].filter(([, row]) => row.rationale.includes('learned alias')).map(([id]) => id);
}

/** The lines whose suggestion a run wrote again since `before`. */
async function rewrittenSince(before: Map<string, { updated_at: string }>): Promise<string[]> {
  return [...(await stored())].filter(([id, row]) => before.get(id)?.updated_at !== row.updated_at).map(([id]) => id);
}

beforeAll(async () => {
  schema = await createTestSchema('vt_recon_aliases');
  t = await buildTestApp(schema.db, {}, { reconEngine: new RecordingEngine() });
  await recon.seed(
    'default',
    [
      bankTx('tx_hanbit', { amount: '-330000', description: 'TRANSFER HANBIT', counterparty: 'HANBIT SANGSA CO LTD' }),
      bankTx('tx_hanbit_2', { amount: '-55000', bookedDate: '2026-11-21', counterparty: 'Hanbit Sangsa' }),
      bankTx('tx_hanbit_gone', { amount: '-77000', counterparty: 'HANBIT SANGSA' }),
      bankTx('tx_rent', { amount: '-1500000', description: 'DAEHAN REALTY' }),
      bankTx('tx_acme', { amount: '-87000', counterparty: 'ACME LOGISTICS' }),
      bankTx('tx_card', { amount: '-4500', description: 'CARD 4821' }),
    ],
    [
      entry('e-hanbit', { amount: '-330000', memo: 'office supplies', counterparty: '(주)한빛상사' }),
      entry('e-hanbit-2', { amount: '-55000', date: '2026-11-21', memo: 'paper', counterparty: '한빛상사' }),
      entry('e-rent', { amount: '-1500000', memo: '대한부동산 임대료' }),
      entry('e-acme', { amount: '-87000', counterparty: 'Acme Logistics Inc' }),
      entry('e-card', { amount: '-4500', memo: 'coffee' }),
    ],
  );
  await recon.seed('pilot-a', [bankTx('tx_pilot', { counterparty: 'PILOT SHOP' }), bankTx('tx_pilot_hanbit', { amount: '-330000', counterparty: 'HANBIT SANGSA' })]);
});
afterAll(async () => {
  await t?.reconRuns.stop();
  await schema?.drop();
});

describe('counterparty aliases learned from confirmations', () => {
  let baseVersion: string;
  let hanbitId: string;
  let rentId: string;

  it("lists none before any is learned; a run stores each line's alias key with its suggestion", async () => {
    expect(await aliases()).toEqual({ tenant: 'default', items: [], next_cursor: null });
    const first = await runRecon();
    expect(first.mode).toBe('full');
    baseVersion = first.summary.rules_version;
    expect(handed.at(-1)).toEqual([]);
    expect([...(await stored())].map(([id, row]) => [id, row.alias_key])).toEqual([
      ['tx_acme', 'acme logistics'],
      ['tx_card', null],
      ['tx_hanbit', 'hanbit sangsa'],
      ['tx_hanbit_2', 'hanbit sangsa'],
      ['tx_hanbit_gone', 'hanbit sangsa'],
      ['tx_rent', 'daehan realty'],
    ]);
    // The bank removes one line of that name; the run after consumes its mark.
    await markLedgerTransactionsRemoved(schema.db, { tenant: 'default', source: 'bank_sbx' }, ['tx_hanbit_gone']);
    expect((await runRecon()).mode).toBe('incremental');
    expect(await markedLines()).toEqual([]);
    expect((await runRecon('pilot-a')).mode).toBe('full');
    expect(await markedLines('pilot-a')).toEqual([]);
  });

  it("learns the line's counterparty with the entry's, as alias keys, once, with a recon_alias_learned audit event", async () => {
    const suggestion = await suggestionOf('tx_hanbit');
    const learned = await learn(suggestion, 'e-hanbit');
    expect(learned).toMatchObject({
      bank_name: 'hanbit sangsa',
      ledger_name: '한빛상사',
      learned_from: { suggestion_id: suggestion.id, source: 'bank_sbx', external_id: 'tx_hanbit', entry_id: 'e-hanbit' },
      created_by: 'kim.operator',
    });
    hanbitId = learned!.id;
    expect((await aliases()).items).toEqual([expect.objectContaining({ id: hanbitId, bank_name: 'hanbit sangsa', ledger_name: '한빛상사' })]);
    expect(await auditOf('recon_alias_learned')).toEqual([
      expect.objectContaining({
        action: 'recon_alias_learned',
        subject_id: hanbitId,
        actor: expect.objectContaining({ id: 'kim.operator' }),
        details: { alias_id: hanbitId, bank_name: 'hanbit sangsa', ledger_name: '한빛상사', suggestion_id: suggestion.id, source: 'bank_sbx', entry_id: 'e-hanbit' },
      }),
    ]);

    expect(await learn(suggestion, 'e-hanbit')).toBeNull();
    expect((await aliases()).items).toHaveLength(1);
    expect(await auditOf('recon_alias_learned')).toHaveLength(1);
  });

  it("marks exactly the live lines stored under the alias' bank name; the next run is incremental, decides them with the alias, under the same rules version", async () => {
    expect(await markedLines()).toEqual(['tx_hanbit', 'tx_hanbit_2']);
    // Another tenant's line of that name is not marked.
    expect(await markedLines('pilot-a')).toEqual([]);
    const before = await stored();
    const run = await runRecon();
    expect([run.mode, run.summary.rules_version, run.summary.transactions]).toEqual(['incremental', baseVersion, 2]);
    expect(handed.at(-1)).toEqual([{ bankName: 'hanbit sangsa', ledgerName: '한빛상사' }]);
    expect(await rewrittenSince(before)).toEqual(['tx_hanbit', 'tx_hanbit_2']);
    expect(await decidedByAlias()).toEqual(['tx_hanbit', 'tx_hanbit_2']);
    expect(await stateOf()).toBe(baseVersion);
    expect(await markedLines()).toEqual([]);
    expect((await runRecon()).summary.transactions).toBe(0);
  });

  it("falls back to the line's description and the entry's memo, reading the entry by id when the suggestion holds another", async () => {
    const suggestion = await suggestionOf('tx_rent');
    const learned = await learn({ ...suggestion, entry: null }, 'e-rent');
    expect(learned).toMatchObject({ bank_name: 'daehan realty', ledger_name: '대한부동산' });
    rentId = learned!.id;
    expect(await markedLines()).toEqual(['tx_rent']);
    const before = await stored();
    const run = await runRecon();
    expect([run.mode, run.summary.rules_version]).toEqual(['incremental', baseVersion]);
    expect(await rewrittenSince(before)).toEqual(['tx_rent']);
    expect(await decidedByAlias()).toEqual(['tx_hanbit', 'tx_hanbit_2', 'tx_rent']);
  });

  it('learns nothing when both names give the same key, when one gives none, or when one is too long to store', async () => {
    expect(await learn(await suggestionOf('tx_acme'), 'e-acme')).toBeNull();
    expect(await learn(await suggestionOf('tx_card'), 'e-card')).toBeNull();
    const long = await suggestionOf('tx_acme');
    expect(await learn({ ...long, transaction: { ...long.transaction, counterparty: 'abcdefgh '.repeat(50) } }, 'e-acme')).toBeNull();
    expect((await aliases()).items.map((alias) => alias.id)).toEqual([rentId, hanbitId]);
    expect(await markedLines()).toEqual([]);
    expect((await runRecon()).summary).toMatchObject({ rules_version: baseVersion, transactions: 0 });
  });

  it('pages newest first with next_cursor', async () => {
    const first = await aliases(operator, 'limit=1');
    expect(first.items.map((alias) => alias.id)).toEqual([rentId]);
    expect(first.next_cursor).toBe(rentId);
    const second = await aliases(operator, `limit=1&cursor=${first.next_cursor}`);
    expect(second).toMatchObject({ items: [expect.objectContaining({ id: hanbitId })], next_cursor: null });
  });

  it("shows another tenant none, and its DELETE of one answers 404 exactly as a missing id does", async () => {
    expect(await aliases(pilot)).toEqual({ tenant: 'pilot-a', items: [], next_cursor: null });
    const missing = await request(t.app).delete(`${ALIASES}/9000000000000000000`).set(pilot);
    const foreign = await request(t.app).delete(`${ALIASES}/${hanbitId}`).set(pilot);
    expect([missing.status, foreign.status]).toEqual([404, 404]);
    expect(foreign.body).toEqual({ ...missing.body, request_id: foreign.body.request_id });
    expect(foreign.body.error_code).toBe('NOT_FOUND');
    expect((await aliases()).items).toHaveLength(2);
    // Its own runs are untouched by the other tenant's aliases.
    expect((await runRecon('pilot-a')).summary.rules_version).toBe(baseVersion);
  });

  it('refuses a role without recon:decide (403) and a malformed id or cursor (400 JSON)', async () => {
    const auditor = await request(t.app).delete(`${ALIASES}/${hanbitId}`).set({ 'X-Tenant': 'default', 'X-User-Role': 'auditor' });
    expect([auditor.status, auditor.body.error_code]).toEqual([403, 'FORBIDDEN']);
    for (const id of ['abc', '0', '-1', '99999999999999999999']) {
      const res = await request(t.app).delete(`${ALIASES}/${id}`).set(operator);
      expect([res.status, res.type, res.body.error_code], id).toEqual([400, 'application/json', 'VALIDATION_FAILED']);
    }
    const badCursor = await request(t.app).get(`${ALIASES}?cursor=x`).set(operator);
    expect([badCursor.status, badCursor.body.error_code]).toEqual([400, 'VALIDATION_FAILED']);
    expect((await aliases()).items).toHaveLength(2);
  });

  it('removes an alias with a recon_alias_removed audit event, marking the lines of its bank name; a second DELETE answers 404; the next run decides them without it', async () => {
    const removed = await request(t.app).delete(`${ALIASES}/${rentId}`).set(operator);
    expect(removed.status, removed.text).toBe(200);
    expect(removed.body).toMatchObject({ id: rentId, bank_name: 'daehan realty', ledger_name: '대한부동산' });
    expect((await aliases()).items.map((alias) => alias.id)).toEqual([hanbitId]);
    expect(await markedLines()).toEqual(['tx_rent']);
    expect(await auditOf('recon_alias_removed')).toEqual([
      expect.objectContaining({
        subject_id: rentId,
        actor: expect.objectContaining({ id: 'kim.operator' }),
        details: { alias_id: rentId, bank_name: 'daehan realty', ledger_name: '대한부동산' },
      }),
    ]);
    const again = await request(t.app).delete(`${ALIASES}/${rentId}`).set(operator);
    expect([again.status, again.body.error_code]).toEqual([404, 'NOT_FOUND']);
    expect(await auditOf('recon_alias_removed')).toHaveLength(1);

    let before = await stored();
    const run = await runRecon();
    expect([run.mode, run.summary.rules_version]).toEqual(['incremental', baseVersion]);
    expect(handed.at(-1)).toEqual([{ bankName: 'hanbit sangsa', ledgerName: '한빛상사' }]);
    expect(await rewrittenSince(before)).toEqual(['tx_rent']);
    expect(await decidedByAlias()).toEqual(['tx_hanbit', 'tx_hanbit_2']);

    expect((await request(t.app).delete(`${ALIASES}/${hanbitId}`).set(operator)).status).toBe(200);
    expect(await markedLines()).toEqual(['tx_hanbit', 'tx_hanbit_2']);
    before = await stored();
    const plain = await runRecon();
    expect([plain.mode, plain.summary.rules_version]).toEqual(['incremental', baseVersion]);
    expect(handed.at(-1)).toEqual([]);
    expect(await rewrittenSince(before)).toEqual(['tx_hanbit', 'tx_hanbit_2']);
    expect(await decidedByAlias()).toEqual([]);
    expect(await stateOf()).toBe(baseVersion);
  });
});
