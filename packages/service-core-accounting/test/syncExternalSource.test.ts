import type { RunningBankSandbox } from '@accounting/bank-sandbox-sim';
import { readSyncCursor, runMigrations, seedExternalSource, type Db } from '@accounting/data-pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BankSandboxAdapter,
  startDateFor,
  syncExternalSource,
  type BankSyncClient,
  type SyncOptions,
} from '@accounting/service-core-accounting';
import { BANK_NOW, BANK_TOKEN, bankRows, startTestBank, storedRows } from '../../../test/support/bank.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

const START = startDateFor(BANK_NOW, 7);
const OPTIONS: SyncOptions = { now: () => BANK_NOW, sinceDays: 7, pageSize: 25 };

let schema: TestSchema;
let db: Db;
let bank: RunningBankSandbox;
let sourceNo = 0;
let source: string;
let waits: number[];

function adapter(overrides: Partial<ConstructorParameters<typeof BankSandboxAdapter>[0]> = {}): BankSandboxAdapter {
  return new BankSandboxAdapter({
    baseUrl: `${bank.url}/`,
    token: BANK_TOKEN,
    timeoutMs: 2_000,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...overrides,
  });
}

const target = () => ({ tenant: 'default', source, connectionId: 'conn_default' });
const sync = (client: BankSyncClient = adapter(), options: SyncOptions = OPTIONS) => syncExternalSource(db, client, target(), options);
const stored = () => storedRows(db, 'default', source, START);
const expected = () => bankRows(bank, 'conn_default', START);

async function runRow(runId: string) {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT outcome, error_code, attempts, full_resync FROM external_sync_runs WHERE tenant = 'default' AND source = $1 AND id = $2`,
    [source, runId],
  );
  return rows[0];
}

beforeAll(async () => {
  schema = await createTestSchema('vt_sync');
  db = schema.db;
  await runMigrations(db);
});
afterAll(async () => {
  await schema?.drop();
});
beforeEach(async () => {
  bank = await startTestBank();
  waits = [];
  sourceNo += 1;
  source = `bank_sbx_${sourceNo}`;
  await seedExternalSource(db, 'default', { source, kind: 'bank_sbx', connectionId: 'conn_default', enabled: true });
});
afterEach(async () => {
  await bank.close();
});

describe('syncing a bank source', () => {
  it('stores exactly the bank state on the first sync, with the cursor, across many pages', async () => {
    const outcome = await sync();
    expect(outcome.status).toBe('succeeded');
    expect(expected().length).toBeGreaterThan(50);
    expect(await stored()).toEqual(expected());
    expect(await readSyncCursor(db, 'default', source)).toEqual(expect.any(String));
    if (outcome.status === 'succeeded') {
      expect(outcome.pages).toBeGreaterThan(2);
      expect(outcome.added).toBe(expected().length);
    }
  });

  it('answers the seeds verification queries after a sync', async () => {
    await sync();
    const recent = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM external_ledger WHERE tenant='default' AND source = $1 AND ts >= now() - interval '10 minute'`,
      [source],
    );
    expect(recent.rows[0]?.n).toBe(expected().length);
    const offset = await db.query<{ source: string; cursor: string }>(
      `SELECT * FROM external_ledger_offset WHERE tenant='default' ORDER BY updated_at DESC LIMIT 1`,
    );
    expect(offset.rows[0]).toMatchObject({ source, cursor: expect.any(String) });
  });

  it('applies added, modified, removed and posted transactions incrementally', async () => {
    await sync();
    const state = bank.sandbox.getState('conn_default', { startDate: START }).transactions;
    const pending = state.find((tx) => tx.status === 'pending');
    const posted = state.filter((tx) => tx.status === 'posted');
    bank.sandbox.addTransaction('conn_default', { amount: '-4500', description: 'CARD 1111 GS25', booked_date: '2026-11-21' });
    bank.sandbox.modifyTransaction('conn_default', posted[0]!.transaction_id, { amount: '-99000' });
    bank.sandbox.removeTransaction('conn_default', posted[1]!.transaction_id);
    expect(pending).toBeDefined();
    bank.sandbox.postTransaction('conn_default', pending!.transaction_id);

    const outcome = await sync();
    expect(outcome).toMatchObject({ status: 'succeeded', added: 2, modified: 1, removed: 2 });
    expect(await stored()).toEqual(expected());
    const tombstones = await db.query<{ external_id: string }>(
      `SELECT external_id FROM external_ledger WHERE source = $1 AND removed_at IS NOT NULL ORDER BY external_id`,
      [source],
    );
    expect(tombstones.rows.map((r) => r.external_id).sort()).toEqual([posted[1]!.transaction_id, pending!.transaction_id].sort());
  });

  it('links pending to posted when the two arrive on different pages', async () => {
    await sync();
    const pendings = bank.sandbox.getState('conn_default', { startDate: START }).transactions.filter((tx) => tx.status === 'pending');
    for (const tx of pendings) bank.sandbox.postTransaction('conn_default', tx.transaction_id);
    expect(pendings.length).toBeGreaterThan(0);
    const outcome = await sync(adapter(), { ...OPTIONS, pageSize: 1 });
    expect(outcome.status).toBe('succeeded');
    expect(await stored()).toEqual(expected());
    const links = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM external_ledger WHERE source = $1 AND pending_external_id IS NOT NULL AND removed_at IS NULL`,
      [source],
    );
    expect(links.rows[0]?.n).toBe(pendings.length);
  });

  it('waits as long as Retry-After says on 429, then succeeds', async () => {
    bank.sandbox.faults.inject({ type: 'rate_limit', retry_after_seconds: 3 });
    const outcome = await sync();
    expect(outcome.status).toBe('succeeded');
    expect(waits).toEqual([3_000]);
    expect(await stored()).toEqual(expected());
  });

  it('fails fast, without waiting, when Retry-After is longer than allowed', async () => {
    bank.sandbox.faults.inject({ type: 'rate_limit', retry_after_seconds: 3_600 });
    const outcome = await sync();
    expect(outcome).toMatchObject({ status: 'failed', errorCode: 'RATE_LIMITED' });
    expect(waits).toEqual([]);
  });

  it('retries 5xx answers with growing, jittered backoff, then succeeds', async () => {
    bank.sandbox.faults.inject({ type: 'server_error', status: 503, times: 3 });
    const outcome = await sync(adapter({ random: () => 0.5 }));
    expect(outcome).toMatchObject({ status: 'succeeded' });
    expect(waits).toEqual([125, 250, 500]);
    expect(await stored()).toEqual(expected());
    if (outcome.status === 'succeeded') expect(outcome.attempts).toBe(outcome.pages + 3);
  });

  it('gives up after the bounded number of attempts on a bank that keeps failing', async () => {
    bank.sandbox.faults.inject({ type: 'server_error', times: 50 });
    const outcome = await sync(adapter({ maxAttempts: 4 }));
    expect(outcome).toMatchObject({ status: 'failed', errorCode: 'UPSTREAM_UNAVAILABLE', attempts: 4 });
    expect((await runRow(outcome.status === 'failed' ? outcome.runId : '0'))?.attempts).toBe(4);
  });

  it('retries a request that timed out', async () => {
    bank.sandbox.faults.inject({ type: 'latency', delay_ms: 1_500 });
    const outcome = await sync(adapter({ timeoutMs: 300 }));
    expect(outcome.status).toBe('succeeded');
    expect(await stored()).toEqual(expected());
  });

  it('retries a connection reset', async () => {
    bank.sandbox.faults.inject({ type: 'reset' });
    expect((await sync()).status).toBe('succeeded');
    expect(await stored()).toEqual(expected());
  });

  it('restarts from the run starting cursor when the data changes during pagination', async () => {
    await sync();
    const startCursor = await readSyncCursor(db, 'default', source);
    for (let i = 0; i < 60; i += 1) bank.sandbox.addTransaction('conn_default', { amount: `-${1000 + i}`, booked_date: '2026-11-21' });
    const inner = adapter();
    const cursors: (string | null)[] = [];
    const mutating: BankSyncClient = {
      async syncTransactions(request) {
        cursors.push(request.cursor);
        if (cursors.length === 2) bank.sandbox.addTransaction('conn_default', { amount: '-777', booked_date: '2026-11-21' });
        return inner.syncTransactions(request);
      },
    };
    const outcome = await sync(mutating);
    expect(outcome).toMatchObject({ status: 'succeeded', fullResync: false });
    // Page 2 met the mutation; the loop went back to the cursor the run started with.
    expect(cursors[0]).toBe(startCursor);
    expect(cursors[2]).toBe(startCursor);
    expect(await stored()).toEqual(expected());
  });

  it('tombstones a transaction removed while a full sync was paging, after the restart', async () => {
    const inner = adapter();
    let calls = 0;
    let firstPageId: string | undefined;
    const removing: BankSyncClient = {
      async syncTransactions(request) {
        calls += 1;
        if (calls === 2 && firstPageId) bank.sandbox.removeTransaction('conn_default', firstPageId);
        const page = await inner.syncTransactions(request);
        if (calls === 1) firstPageId = page.value.added[0]?.transaction_id;
        return page;
      },
    };
    const outcome = await sync(removing);
    expect(outcome.status).toBe('succeeded');
    expect(firstPageId).toBeDefined();
    expect((await stored()).map((row) => row[0])).not.toContain(firstPageId);
    expect(await stored()).toEqual(expected());
  });

  it('stops a bank that answers has_more with the same cursor forever', async () => {
    const looping: BankSyncClient = {
      async syncTransactions() {
        return { value: { added: [], modified: [], removed: [], next_cursor: 'same', has_more: true }, attempts: 1 };
      },
    };
    await syncExternalSource(db, adapter(), target(), OPTIONS);
    const outcome = await sync(looping);
    expect(outcome).toMatchObject({ status: 'failed', errorCode: 'MALFORMED_RESPONSE' });
  });

  it('fails a page whose text PostgreSQL cannot store, clearly and without storing it', async () => {
    bank.sandbox.addTransaction('conn_default', { amount: '-100', description: 'BAD\u0000BYTE', booked_date: '2026-11-21' });
    const outcome = await sync();
    expect(outcome).toMatchObject({ status: 'failed', errorCode: 'MALFORMED_RESPONSE' });
    if (outcome.status === 'failed') expect(outcome.message).toMatch(/cannot be stored/);
  });

  it('restarts a full sync whose snapshot changed while paging', async () => {
    let calls = 0;
    const inner = adapter();
    const mutating: BankSyncClient = {
      async syncTransactions(request) {
        calls += 1;
        if (calls === 2) bank.sandbox.addTransaction('conn_default', { amount: '-777', booked_date: '2026-11-21' });
        return inner.syncTransactions(request);
      },
    };
    const outcome = await sync(mutating);
    expect(outcome.status).toBe('succeeded');
    expect(await stored()).toEqual(expected());
  });

  it('resyncs from the start date on an invalid cursor and tombstones what the bank no longer has', async () => {
    await sync();
    const [first] = bank.sandbox.getState('conn_default', { startDate: START }).transactions.filter((tx) => tx.status === 'posted');
    bank.sandbox.expireCursors();
    bank.sandbox.removeTransaction('conn_default', first!.transaction_id);
    bank.sandbox.addTransaction('conn_default', { amount: '-1234', booked_date: '2026-11-21' });

    const outcome = await sync();
    expect(outcome).toMatchObject({ status: 'succeeded', fullResync: true });
    expect(await stored()).toEqual(expected());
    expect((await runRow(outcome.status === 'succeeded' ? outcome.runId : '0'))?.full_resync).toBe(true);
  });

  it('stores nothing of a malformed page and fails the run with a clear error, audited and counted', async () => {
    bank.sandbox.faults.inject({ type: 'malformed', variant: 'amount_number' });
    const outcome = await sync();
    expect(outcome).toMatchObject({ status: 'failed', errorCode: 'MALFORMED_RESPONSE' });
    if (outcome.status === 'failed') expect(outcome.message).toMatch(/breaks the contract \(added\.\d+\.amount/);
    expect(await stored()).toEqual([]);
    expect(await readSyncCursor(db, 'default', source)).toBeNull();
    const audit = await db.query<{ action: string; subject_id: string; details: { error_code: string } }>(
      `SELECT action, subject_id, details FROM audit_events WHERE tenant = 'default' AND subject_id = $1`,
      [source],
    );
    expect(audit.rows).toEqual([{ action: 'external_sync_failed', subject_id: source, details: expect.objectContaining({ error_code: 'MALFORMED_RESPONSE' }) }]);
    const state = await db.query<{ errors_total: string; runs_total: string; last_error_code: string }>(
      `SELECT errors_total, runs_total, last_error_code FROM external_sync_state WHERE tenant = 'default' AND source = $1`,
      [source],
    );
    expect(state.rows[0]).toEqual({ errors_total: '1', runs_total: '1', last_error_code: 'MALFORMED_RESPONSE' });
    const feedback = await db.query(`SELECT action FROM feedback_outbox WHERE tenant = 'default' AND subject_id = $1`, [source]);
    expect(feedback.rows).toEqual([{ action: 'external_sync_failed' }]);
  });

  it('does not retry a wrong token, and the token is nowhere in what was recorded', async () => {
    const outcome = await sync(adapter({ token: 'wrong-token-value-123' }));
    expect(outcome).toMatchObject({ status: 'failed', errorCode: 'INVALID_TOKEN', attempts: 1 });
    expect(bank.sandbox.requestLog.entries().filter((entry) => entry.route === 'sync')).toHaveLength(1);
    const recorded = await db.query(`SELECT * FROM external_sync_runs WHERE source = $1`, [source]);
    const audit = await db.query(`SELECT * FROM audit_events WHERE subject_id = $1`, [source]);
    const everything = JSON.stringify([recorded.rows, audit.rows, outcome]);
    expect(everything).not.toContain('wrong-token-value-123');
    expect(everything).not.toContain(BANK_TOKEN);
  });

  it('fails a source whose connection the bank does not know', async () => {
    const outcome = await syncExternalSource(db, adapter(), { ...target(), connectionId: 'conn_missing' }, OPTIONS);
    expect(outcome).toMatchObject({ status: 'failed', errorCode: 'CONNECTION_NOT_FOUND', attempts: 1 });
  });

  it('skips a source whose lock another worker holds', async () => {
    const other = schema.connect();
    await other.withSession(async (session) => {
      await session.query(`SELECT pg_advisory_lock(hashtext('external_sync'), hashtext(current_schema() || ':' || $1 || '/' || $2))`, ['default', source]);
      expect(await sync()).toEqual({ status: 'skipped', reason: 'LOCKED' });
      await session.query(`SELECT pg_advisory_unlock_all()`);
    });
    expect((await sync()).status).toBe('succeeded');
  });

  it('stops between pages when aborted, without storing a cursor ahead of the data', async () => {
    const stop = new AbortController();
    const inner = adapter();
    const aborting: BankSyncClient = {
      async syncTransactions(request) {
        stop.abort();
        return inner.syncTransactions(request);
      },
    };
    const outcome = await sync(aborting, { ...OPTIONS, signal: stop.signal });
    expect(outcome).toMatchObject({ status: 'failed', errorCode: 'DEADLINE_EXCEEDED', pages: 1 });
    expect(await readSyncCursor(db, 'default', source)).toBeNull();
    expect((await sync()).status).toBe('succeeded');
    expect(await stored()).toEqual(expected());
  });
});
