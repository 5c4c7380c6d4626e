import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  importLedgerEntries,
  markLedgerTransactionsRemoved,
  runMigrations,
  seedExternalSource,
  upsertLedgerTransactions,
  type LedgerEntry,
  type LedgerTransaction,
} from '@accounting/data-pg';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import {
  DEFAULT_RECON_RULES,
  ReconRunner,
  decideSuggestion,
  generateLabelledDataset,
  type ReconBankTransaction,
  type ReconLedgerEntry,
  type ReconRunView,
} from '../src/index.js';

// Incremental runs against a run from scratch on the same final data (docs/RECON.md "Runs").

const SOURCE = 'bank_sbx';
let schema: TestSchema;
let runner: ReconRunner;

const toLine = (tx: ReconBankTransaction): LedgerTransaction => ({
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
const toEntry = (entry: ReconLedgerEntry): LedgerEntry => ({
  entry_id: entry.id,
  amount: entry.amount,
  currency: entry.currency,
  date: entry.date,
  memo: entry.memo,
  reference: entry.reference,
  counterparty: entry.counterparty,
});

async function load(tenant: string, lines: readonly LedgerTransaction[], entries: readonly LedgerEntry[]): Promise<void> {
  if (lines.length > 0) await upsertLedgerTransactions(schema.db, { tenant, source: SOURCE, seenMarker: '1' }, lines);
  if (entries.length > 0) await importLedgerEntries(schema.db, tenant, entries);
}

async function run(tenant: string): Promise<ReconRunView> {
  const queued = await runner.submit({ tenant, requestedBy: 'test' });
  const done = await runner.waitFor(tenant, queued.run_id, 20);
  expect(done.error).toBeNull();
  return done;
}

/** Every live line's stored suggestion, as a run left it. */
async function storedSuggestions(tenant: string) {
  const { rows } = await schema.db.query(
    `SELECT s.source, s.external_id, s.status, s.entry_id, s.confidence::text AS confidence, s.rule, s.rationale, s.criteria,
            s.candidates, s.rules_version, s.scored_entry_ids, s.claimable_entry_ids, s.decision
     FROM recon_suggestions s
     JOIN external_ledger l ON l.tenant = s.tenant AND l.source = s.source AND l.external_id = s.external_id
     WHERE s.tenant = $1 AND l.removed_at IS NULL
     ORDER BY s.source, s.external_id`,
    [tenant],
  );
  return rows;
}

async function liveLines(tenant: string): Promise<number> {
  const { rows } = await schema.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM external_ledger WHERE tenant = $1 AND removed_at IS NULL`, [tenant]);
  return rows[0]?.n ?? 0;
}

let scratches = 0;

/**
 * Copies the tenant's data as it stands (bank lines, entries, confirmed pairs, declined pairs)
 * to a new tenant and reconciles it from scratch: one full run.
 */
async function fromScratch(tenant: string): Promise<{ tenant: string; run: ReconRunView }> {
  const copy = `scratch_${++scratches}`;
  await seedExternalSource(schema.db, copy, { source: SOURCE, kind: 'bank_sbx', connectionId: 'conn', enabled: true });
  await schema.db.query(
    `INSERT INTO external_ledger (tenant, source, external_id, account_id, amount, currency, booked_date, status, description, counterparty, reference, removed_at)
     SELECT $2, source, external_id, account_id, amount, currency, booked_date, status, description, counterparty, reference, removed_at
     FROM external_ledger WHERE tenant = $1`,
    [tenant, copy],
  );
  await schema.db.query(
    `INSERT INTO ledger_entries (tenant, entry_id, amount, currency, entry_date, memo, reference, counterparty)
     SELECT $2, entry_id, amount, currency, entry_date, memo, reference, counterparty FROM ledger_entries WHERE tenant = $1`,
    [tenant, copy],
  );
  await schema.db.query(
    `INSERT INTO recon_suggestions (tenant, source, external_id, status, entry_id, confidence, rule, rationale, criteria, candidates,
                                    rules_version, scored_entry_ids, claimable_entry_ids, decision, decided_at, decided_by)
     SELECT $2, source, external_id, status, entry_id, confidence, rule, rationale, criteria, candidates,
            rules_version, scored_entry_ids, claimable_entry_ids, decision, decided_at, decided_by
     FROM recon_suggestions WHERE tenant = $1 AND decision = 'confirm'`,
    [tenant, copy],
  );
  await schema.db.query(
    `INSERT INTO recon_declined_pairs (tenant, source, external_id, entry_id) SELECT $2, source, external_id, entry_id FROM recon_declined_pairs WHERE tenant = $1`,
    [tenant, copy],
  );
  return { tenant: copy, run: await run(copy) };
}

/** After an incremental run: every live line's suggestion is what a run from scratch gives. */
async function expectSameAsFromScratch(tenant: string): Promise<void> {
  const scratch = await fromScratch(tenant);
  expect(scratch.run.mode).toBe('full');
  const incremental = await storedSuggestions(tenant);
  expect(incremental).toHaveLength(await liveLines(tenant));
  expect(incremental).toEqual(await storedSuggestions(scratch.tenant));
}

beforeAll(async () => {
  schema = await createTestSchema('vt_recon_runs');
  await runMigrations(schema.db);
  await seedExternalSource(schema.db, 'inc', { source: SOURCE, kind: 'bank_sbx', connectionId: 'conn', enabled: true });
  runner = new ReconRunner({ db: schema.db, rulesFor: () => DEFAULT_RECON_RULES });
});
afterAll(async () => {
  await runner?.stop();
  await schema?.drop();
});

describe('incremental reconciliation runs', () => {
  it('after each change (decisions, bank corrections, removals, re-dated entries, new months) leave every suggestion as a run from scratch does, reading only what changed', async () => {
    const data = generateLabelledDataset({ seed: 11, transactions: 2_000, startDate: '2026-01-01', days: 365 });
    const lines = data.transactions.map(toLine);
    const entries = data.entries.map(toEntry);
    const until = (date: string) => ({
      lines: lines.filter((line) => line.bookedDate < date),
      entries: entries.filter((entry) => entry.date < date),
    });
    const between = (from: string, to: string) => ({
      lines: lines.filter((line) => line.bookedDate >= from && line.bookedDate < to),
      entries: entries.filter((entry) => entry.date >= from && entry.date < to),
    });

    // Half a year: the first run decides every line.
    const first = until('2026-07-01');
    await load('inc', first.lines, first.entries);
    const runs = [await run('inc')];
    const pick = async (where: string) =>
      (
        await schema.db.query<{ id: string; external_id: string }>(
          `SELECT s.id::text AS id, s.external_id FROM recon_suggestions s
           WHERE s.tenant = 'inc' AND s.decision IS NULL AND ${where} ORDER BY s.external_id LIMIT 8`,
        )
      ).rows;
    // Lines that met another line on an entry: what only the closure of an incremental run reaches.
    const sharing = `EXISTS (SELECT 1 FROM recon_suggestions o WHERE o.tenant = s.tenant AND o.external_id <> s.external_id
                               AND o.scored_entry_ids && s.scored_entry_ids)`;

    // A person confirms and declines.
    const actor = { tenant: 'inc', role: 'operator', userId: 'ops.lee' };
    const confirmed = await pick(`s.status = 'matched' AND ${sharing}`);
    const declined = await pick(`s.rule IN ('contested', 'tie') AND ${sharing}`);
    for (const { id } of confirmed) await schema.db.transaction((tx) => decideSuggestion(tx, actor, id, { decision: 'confirm' }));
    for (const { id } of declined) await schema.db.transaction((tx) => decideSuggestion(tx, actor, id, { decision: 'decline' }));
    runs.push(await run('inc'));
    await expectSameAsFromScratch('inc');

    // The bank corrects some lines (nothing else changes)...
    const byId = new Map(lines.map((line) => [line.externalId, line]));
    const correctedIds = (await pick(`s.rule IN ('contested', 'blocked_entry_taken', 'auto_match') AND ${sharing}`)).map((row) => row.external_id);
    const corrected = correctedIds.map((id, i) => {
      const line = byId.get(id) as LedgerTransaction;
      return i % 2 === 0 ? { ...line, amount: (Number(line.amount) * 2).toFixed(2) } : { ...line, description: 'CARD 9999 SOMETHING ELSE', reference: null };
    });
    // Lines showing a candidate another line matched, which they could never claim: deciding one
    // again needs the line that matched it.
    const besideMatches = (
      await pick(`EXISTS (SELECT 1 FROM recon_suggestions o WHERE o.tenant = s.tenant AND o.external_id <> s.external_id AND o.status = 'matched'
                          AND s.candidates @> jsonb_build_array(jsonb_build_object('entryId', o.entry_id, 'taken', true))
                          AND NOT o.entry_id = ANY(s.claimable_entry_ids))`)
    ).map((row) => row.external_id);
    corrected.push(...besideMatches.map((id) => ({ ...(byId.get(id) as LedgerTransaction), description: `${byId.get(id)?.description} 2` })));
    await load('inc', corrected, []);
    runs.push(await run('inc'));
    await expectSameAsFromScratch('inc');
    // ... and removes others.
    const removed = (await pick(`s.status = 'matched' AND ${sharing}`)).map((row) => row.external_id);
    await markLedgerTransactionsRemoved(schema.db, { tenant: 'inc', source: SOURCE }, removed);
    runs.push(await run('inc'));
    await expectSameAsFromScratch('inc');

    // Some entries of March are re-dated, one is re-worded.
    const march = entries.filter((entry) => entry.date.startsWith('2026-03-'));
    const redated = march.slice(0, 10).map((entry) => ({ ...entry, date: nextDays(entry.date, 2) }));
    const reworded = [{ ...(march[20] as LedgerEntry), memo: 'something else entirely' }];
    await load('inc', [], [...redated, ...reworded]);
    runs.push(await run('inc'));
    await expectSameAsFromScratch('inc');

    // Five more months, then the last one.
    const second = between('2026-07-01', '2026-12-01');
    await load('inc', second.lines, second.entries);
    runs.push(await run('inc'));
    await expectSameAsFromScratch('inc');
    const third = between('2026-12-01', '2027-12-31');
    await load('inc', third.lines, third.entries);
    runs.push(await run('inc'));
    runs.push(await run('inc'));

    expect([confirmed, declined, correctedIds, besideMatches, removed].map((picked) => picked.length)).toEqual([8, 8, 8, 8, 8]);
    expect(runs.map((r) => r.mode)).toEqual(['full', ...Array<string>(runs.length - 1).fill('incremental')]);
    const total = await liveLines('inc');
    // The last month's run decided the new lines and those near them, not the whole ledger.
    const last = runs.at(-2)?.summary?.transactions ?? 0;
    expect(last).toBeLessThan(total * 0.35);
    expect(last).toBeGreaterThanOrEqual(third.lines.length);
    expect(runs.at(-1)?.summary).toMatchObject({ transactions: 0, entries: 0, written: 0 });

    await expectSameAsFromScratch('inc');
    expect((await storedSuggestions('inc')).filter((row) => row.decision === 'confirm')).toHaveLength(confirmed.length);
  });
});

function nextDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
