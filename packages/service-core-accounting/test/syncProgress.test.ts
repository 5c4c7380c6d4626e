import type { RunningBankSandbox } from '@accounting/bank-sandbox-sim';
import { readSyncCursor, readSyncProgress, runMigrations, seedExternalSource, type Db } from '@accounting/data-pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BankSandboxAdapter,
  getSourceStatuses,
  startDateFor,
  syncExternalSource,
  type BankSyncClient,
  type SyncOptions,
  type SyncOutcome,
} from '@accounting/service-core-accounting';
import { BANK_NOW, BANK_TOKEN, bankRows, startTestBank, storedRows } from '../../../test/support/bank.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

// Long syncs make progress: each page commits with the cursor after it, so a run stopped by its
// deadline resumes where it stopped instead of starting over from page 1.

const SINCE_DAYS = 40;
const START = startDateFor(BANK_NOW, SINCE_DAYS);

let schema: TestSchema;
let db: Db;
let bank: RunningBankSandbox | undefined;
let sourceNo = 0;
let source: string;

async function newSource(): Promise<void> {
  sourceNo += 1;
  source = `bank_sbx_${sourceNo}`;
  await seedExternalSource(db, 'default', { source, kind: 'bank_sbx', connectionId: 'conn_default', enabled: true });
}

async function useBank(connection: { days: number; perDay: number }): Promise<RunningBankSandbox> {
  bank = await startTestBank([{ id: 'conn_default', ...connection }]);
  await newSource();
  return bank;
}

const target = () => ({ tenant: 'default', source, connectionId: 'conn_default' });
const stored = () => storedRows(db, 'default', source, START);
const expected = () => bankRows(bank as RunningBankSandbox, 'conn_default', START);

interface Run {
  outcome: SyncOutcome;
  /** The cursor of each page request the run made, in order. */
  cursors: (string | null)[];
}

/**
 * One run whose deadline strikes once the bank has answered `pages` pages (never, when
 * undefined): it stores that page and stops at the next page boundary, as the worker does.
 */
async function runStoppedAfter(pages: number | undefined, pageSize: number, sinceDays = SINCE_DAYS): Promise<Run> {
  const stop = new AbortController();
  const cursors: (string | null)[] = [];
  const inner = new BankSandboxAdapter({ baseUrl: (bank as RunningBankSandbox).url, token: BANK_TOKEN, timeoutMs: 5_000 });
  let answered = 0;
  const client: BankSyncClient = {
    async syncTransactions(request, signal) {
      cursors.push(request.cursor);
      const page = await inner.syncTransactions(request, signal);
      answered += 1;
      if (answered === pages) stop.abort();
      return page;
    },
  };
  const options: SyncOptions = { now: () => BANK_NOW, sinceDays, pageSize, signal: stop.signal };
  return { outcome: await syncExternalSource(db, client, target(), options), cursors };
}

/** Runs stopped after `pages` pages each until one succeeds (at most `limit` runs). */
async function runUntilDone(pages: number, pageSize: number, limit = 20): Promise<Run[]> {
  const runs: Run[] = [];
  while (runs.length < limit) {
    const run = await runStoppedAfter(pages, pageSize);
    runs.push(run);
    if (run.outcome.status !== 'failed' || run.outcome.errorCode !== 'DEADLINE_EXCEEDED') break;
  }
  return runs;
}

const pagesOf = (run: Run) => (run.outcome.status === 'skipped' ? 0 : run.outcome.pages);
const addedBy = (run: Run) => (run.outcome.status === 'skipped' ? 0 : run.outcome.added);

async function ledgerCounts(): Promise<{ rows: number; ids: number }> {
  const { rows } = await db.query<{ rows: number; ids: number }>(
    `SELECT count(*)::int AS rows, count(DISTINCT external_id)::int AS ids FROM external_ledger WHERE tenant = 'default' AND source = $1`,
    [source],
  );
  return rows[0] as { rows: number; ids: number };
}

async function isLive(externalId: string): Promise<boolean> {
  const { rows } = await db.query<{ live: boolean }>(
    `SELECT removed_at IS NULL AS live FROM external_ledger WHERE tenant = 'default' AND source = $1 AND external_id = $2`,
    [source, externalId],
  );
  return rows[0]?.live === true;
}

beforeAll(async () => {
  schema = await createTestSchema('vt_syncprog');
  db = schema.db;
  await runMigrations(db);
});
afterAll(async () => {
  await schema?.drop();
});
afterEach(async () => {
  await bank?.close();
  bank = undefined;
});

describe('a sync longer than one run', () => {
  it('completes 12,000 transactions over several deadline-stopped runs, each resuming where the last stopped, exactly', async () => {
    await useBank({ days: 30, perDay: 400 });
    expect(expected()).toHaveLength(12_000);

    const first = await runStoppedAfter(5, 500);
    expect(first.outcome).toMatchObject({ status: 'failed', errorCode: 'DEADLINE_EXCEEDED', pages: 5, added: 2_500 });
    expect(await readSyncCursor(db, 'default', source)).toBeNull();
    const progress = await readSyncProgress(db, 'default', source);
    expect(progress).toMatchObject({ baseCursor: null, pageCursor: expect.any(String), startDate: START, pages: 5 });
    const [status] = await getSourceStatuses(db, 'default', { now: BANK_NOW, staleAfterSeconds: 300, only: source });
    expect(status).toMatchObject({
      cursor_present: false,
      pass_in_progress: { full_sync: true, pages: 5 },
      rows: { total: 2_500, active: 2_500, removed: 0 },
      last_error: { code: 'DEADLINE_EXCEEDED' },
      recent_runs: [expect.objectContaining({ outcome: 'failed', error_code: 'DEADLINE_EXCEEDED', pages: 5, rows_added: 2_500 })],
    });

    const rest = await runUntilDone(5, 500);
    const runs = [first, ...rest];
    expect(runs.map((run) => run.outcome.status)).toEqual(['failed', 'failed', 'failed', 'failed', 'succeeded']);
    // Each run resumed at the cursor the previous one stored and fetched only new pages.
    for (const run of rest) expect(run.cursors[0]).toEqual(expect.any(String));
    expect(rest[0]?.cursors[0]).toBe(progress?.pageCursor);
    expect(runs.map(pagesOf)).toEqual([5, 5, 5, 5, 4]);
    expect(runs.map(addedBy)).toEqual([2_500, 2_500, 2_500, 2_500, 2_000]);

    expect(await stored()).toEqual(expected());
    expect(await ledgerCounts()).toEqual({ rows: 12_000, ids: 12_000 });
    expect(await readSyncCursor(db, 'default', source)).toEqual(expect.any(String));
    expect(await readSyncProgress(db, 'default', source)).toBeNull();
    const [done] = await getSourceStatuses(db, 'default', { now: BANK_NOW, staleAfterSeconds: 300, only: source });
    expect(done).toMatchObject({ cursor_present: true, pass_in_progress: null, stale: false, runs_total: 5, errors_total: 4 });
    const state = await db.query(`SELECT rows_synced_total FROM external_sync_state WHERE tenant = 'default' AND source = $1`, [source]);
    expect(state.rows).toEqual([{ rows_synced_total: '12000' }]);

    // A full resync spanning runs tombstones, at its end only, what the bank removed before it began.
    const [gone, kept] = bank!.sandbox.getState('conn_default', { startDate: START }).transactions.filter((tx) => tx.status === 'posted');
    bank!.sandbox.removeTransaction('conn_default', gone!.transaction_id);
    bank!.sandbox.expireCursors();
    const resync = await runUntilDone(8, 500);
    expect(resync.map((run) => run.outcome.status)).toEqual(['failed', 'failed', 'succeeded']);
    expect(resync[0]?.outcome).toMatchObject({ errorCode: 'DEADLINE_EXCEEDED', fullResync: true });
    expect(resync.at(-1)?.outcome).toMatchObject({ removed: 1 });
    expect(await isLive(gone!.transaction_id)).toBe(false);
    expect(await isLive(kept!.transaction_id)).toBe(true);
    expect(await stored()).toEqual(expected());
    expect(await ledgerCounts()).toEqual({ rows: 12_000, ids: 12_000 });
  });

  it('keeps a row the bank removed before the pass live until the pass ends', async () => {
    await useBank({ days: 14, perDay: 20 });
    await runUntilDone(100, 25);
    const [gone] = bank!.sandbox.getState('conn_default', { startDate: START }).transactions.filter((tx) => tx.status === 'posted');
    bank!.sandbox.removeTransaction('conn_default', gone!.transaction_id);
    bank!.sandbox.expireCursors();

    for (let run = 0; run < 3; run += 1) {
      expect((await runStoppedAfter(2, 25)).outcome).toMatchObject({ status: 'failed', errorCode: 'DEADLINE_EXCEEDED' });
      expect(await isLive(gone!.transaction_id)).toBe(true);
    }
    expect((await runUntilDone(100, 25)).map((run) => run.outcome.status)).toEqual(['succeeded']);
    expect(await isLive(gone!.transaction_id)).toBe(false);
    expect(await stored()).toEqual(expected());
  });
});

describe('a partial pass the bank invalidates between runs', () => {
  it('restarts a full pass from the start (not the stored middle cursor) after a mutation, and tombstones what went', async () => {
    await useBank({ days: 14, perDay: 20 });
    const first = await runStoppedAfter(2, 25);
    expect(first.outcome).toMatchObject({ status: 'failed', errorCode: 'DEADLINE_EXCEEDED', pages: 2 });
    const middle = (await readSyncProgress(db, 'default', source))?.pageCursor;
    const seen = (await stored())[0]?.[0] as string;
    bank!.sandbox.removeTransaction('conn_default', seen);
    bank!.sandbox.addTransaction('conn_default', { amount: '-4500', description: 'CARD 1111 GS25', booked_date: '2026-11-21' });

    const second = await runStoppedAfter(undefined, 25);
    expect(second.outcome).toMatchObject({ status: 'succeeded', fullResync: false });
    // The stored middle cursor met MUTATION_DURING_PAGINATION; the pass went back to its base, null.
    expect(second.cursors.slice(0, 2)).toEqual([middle, null]);
    expect(await stored()).toEqual(expected());
    expect(await isLive(seen)).toBe(false);
    expect(await readSyncProgress(db, 'default', source)).toBeNull();
  });

  it('restarts an incremental pass from its loop base after a mutation, then syncs on incrementally', async () => {
    await useBank({ days: 14, perDay: 20 });
    await runUntilDone(100, 25);
    const base = await readSyncCursor(db, 'default', source);
    for (let i = 0; i < 60; i += 1) bank!.sandbox.addTransaction('conn_default', { amount: `-${1000 + i}`, booked_date: '2026-11-21' });

    const first = await runStoppedAfter(1, 25);
    expect(first.outcome).toMatchObject({ status: 'failed', errorCode: 'DEADLINE_EXCEEDED', pages: 1, added: 25 });
    expect(first.cursors).toEqual([base]);
    const progress = await readSyncProgress(db, 'default', source);
    expect(progress).toMatchObject({ baseCursor: base, pages: 1 });
    const [status] = await getSourceStatuses(db, 'default', { now: BANK_NOW, staleAfterSeconds: 300, only: source });
    expect(status).toMatchObject({ cursor_present: true, pass_in_progress: { full_sync: false, pages: 1 } });

    const [posted] = bank!.sandbox.getState('conn_default', { startDate: START }).transactions.filter((tx) => tx.status === 'posted');
    bank!.sandbox.modifyTransaction('conn_default', posted!.transaction_id, { amount: '-99000' });
    const second = await runStoppedAfter(undefined, 25);
    expect(second.outcome).toMatchObject({ status: 'succeeded', fullResync: false });
    expect(second.cursors.slice(0, 2)).toEqual([progress?.pageCursor, base]);
    expect(await stored()).toEqual(expected());

    // The next run pages only what changed since.
    bank!.sandbox.addTransaction('conn_default', { amount: '-777', booked_date: '2026-11-21' });
    expect((await runStoppedAfter(undefined, 25)).outcome).toMatchObject({ status: 'succeeded', pages: 1, added: 1 });
    expect(await stored()).toEqual(expected());
  });

  it('restarts a full pass from the start when its stored middle cursor has expired, and tombstones what went', async () => {
    await useBank({ days: 14, perDay: 20 });
    await runStoppedAfter(3, 25);
    const middle = (await readSyncProgress(db, 'default', source))?.pageCursor;
    const seen = (await stored())[0]?.[0] as string;
    bank!.sandbox.removeTransaction('conn_default', seen);
    bank!.sandbox.expireCursors();

    const second = await runStoppedAfter(undefined, 25);
    // The pass's loop base is null already: restarting it is a full sync, not a forced resync.
    expect(second.outcome).toMatchObject({ status: 'succeeded', fullResync: false });
    expect(second.cursors.slice(0, 2)).toEqual([middle, null]);
    expect(await stored()).toEqual(expected());
    expect(await isLive(seen)).toBe(false);
  });

  /** A completed pass, then an incremental one stopped after its first page: its loop base and middle cursor. */
  async function incrementalPassStopped(): Promise<{ base: string | null; middle: string | undefined }> {
    await useBank({ days: 14, perDay: 20 });
    await runUntilDone(100, 25);
    const base = await readSyncCursor(db, 'default', source);
    for (let i = 0; i < 60; i += 1) bank!.sandbox.addTransaction('conn_default', { amount: `-${1000 + i}`, booked_date: '2026-11-21' });
    expect((await runStoppedAfter(1, 25)).outcome).toMatchObject({ status: 'failed', errorCode: 'DEADLINE_EXCEEDED', pages: 1 });
    const middle = (await readSyncProgress(db, 'default', source))?.pageCursor;
    expect(middle).toEqual(expect.any(String));
    return { base, middle };
  }

  it('restarts an incremental pass from its loop base when its stored middle cursor has expired, keeping changes to rows booked before sinceDays', async () => {
    const { base, middle } = await incrementalPassStopped();
    // Booked ten days before the bank's today: outside a full resync with sinceDays 1.
    const old = bank!.sandbox
      .getState('conn_default', { startDate: START })
      .transactions.find((tx) => tx.status === 'posted' && tx.booked_date < startDateFor(BANK_NOW, 9));
    bank!.sandbox.modifyTransaction('conn_default', old!.transaction_id, { amount: '-99000' });
    bank!.sandbox.faults.inject({ type: 'invalid_cursor' });

    const second = await runStoppedAfter(undefined, 25, 1);
    expect(second.outcome).toMatchObject({ status: 'succeeded', fullResync: false });
    expect(second.cursors.slice(0, 2)).toEqual([middle, base]);
    expect(await stored()).toEqual(expected());
    expect((await stored()).find((row) => row[0] === old!.transaction_id)?.[2]).toBe('-99000');
    expect(await readSyncProgress(db, 'default', source)).toBeNull();
  });

  it('resyncs in full from today\'s start date only when the loop base has expired too', async () => {
    const { base, middle } = await incrementalPassStopped();
    const [gone] = bank!.sandbox.getState('conn_default', { startDate: START }).transactions.filter((tx) => tx.status === 'posted');
    bank!.sandbox.removeTransaction('conn_default', gone!.transaction_id);
    bank!.sandbox.expireCursors();

    const second = await runStoppedAfter(undefined, 25);
    expect(second.outcome).toMatchObject({ status: 'succeeded', fullResync: true });
    expect(second.cursors.slice(0, 3)).toEqual([middle, base, null]);
    expect(await stored()).toEqual(expected());
    expect(await isLive(gone!.transaction_id)).toBe(false);
  });

  it('fails the run saying so when the bank changes faster than the pass can page, and the next run goes on', async () => {
    const { base, middle } = await incrementalPassStopped();
    bank!.sandbox.faults.inject({ type: 'mutation_during_pagination', times: 4 });

    const second = await runStoppedAfter(undefined, 25);
    expect(second.outcome).toMatchObject({ status: 'failed', errorCode: 'MUTATION_DURING_PAGINATION', pages: 0 });
    expect(second.cursors).toEqual([middle, base, base, base]);
    if (second.outcome.status === 'failed') expect(second.outcome.message).toMatch(/changed during the pass 4 times in this run .* may never complete/);
    const [status] = await getSourceStatuses(db, 'default', { now: BANK_NOW, staleAfterSeconds: 300, only: source });
    expect(status).toMatchObject({ last_error: { code: 'MUTATION_DURING_PAGINATION' }, pass_in_progress: { full_sync: false, pages: 1 } });

    expect((await runStoppedAfter(undefined, 25)).outcome).toMatchObject({ status: 'succeeded' });
    expect(await stored()).toEqual(expected());
  });

  it('shows another tenant nothing of the pass', async () => {
    await useBank({ days: 14, perDay: 20 });
    await runStoppedAfter(1, 25);
    expect(await readSyncProgress(db, 'pilot-a', source)).toBeNull();
    expect(await getSourceStatuses(db, 'pilot-a', { now: BANK_NOW, staleAfterSeconds: 300 })).toEqual([]);
  });
});
