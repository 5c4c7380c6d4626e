import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { bankTxWith, entryWith } from '../../../test/support/reconData.js';
import { reconFixtures, type Run } from './support/reconFixtures.js';

const operator = { 'X-Tenant': 'default', 'X-User-Role': 'operator' };
let schema: TestSchema;
let t: TestApp;

const bankTx = bankTxWith({ description: 'CARD 4821 STARBUCKS GANGNAM', counterparty: 'STARBUCKS' });
const entry = entryWith({ date: '2026-11-21', memo: 'Coffee with client' });

const recon = reconFixtures(() => ({ db: schema.db, t }), (tenant) => ({ 'X-Tenant': tenant, 'X-User-Role': 'operator' }));
const suggestions = (query = '', tenant = 'default') => recon.suggestions(tenant, query);
const byTx = async (externalId: string) => (await suggestions()).find((s) => s.transaction.external_id === externalId);

/** POST recon/run (202), then polls the run until it succeeded or failed, as a client does. */
async function runRecon(headers = operator, body: object = {}): Promise<Run> {
  const accepted = await request(t.app).post('/v1/accounting/recon/run').set(headers).send(body);
  expect(accepted.status).toBe(202);
  expect(accepted.headers.location).toBe(`/v1/accounting/recon/runs/${accepted.body.run_id}`);
  for (;;) {
    const res = await request(t.app).get(accepted.headers.location as string).set(headers);
    expect(res.status).toBe(200);
    if (res.body.status === 'succeeded' || res.body.status === 'failed') return res.body as Run;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  schema = await createTestSchema('vt_recon');
  t = await buildTestApp(schema.db, { RECON_AUTO_MATCH_LIMITS_JSON: '{"default":{"KRW":"1000000"}}' });
  await recon.seed('default', [
    bankTx('tx_ref', { amount: '-55000', reference: 'INV-2026-0042', description: 'TRANSFER ACME', counterparty: 'ACME' }),
    bankTx('tx_date', { amount: '-8700', bookedDate: '2026-11-18', description: 'CARD 4821 GS25 YEOKSAM', counterparty: 'GS25' }),
    bankTx('tx_big', { amount: '-2400000', description: 'EQUIPMENT LEASE', counterparty: 'KOREA LEASING', reference: 'LEASE-11' }),
    bankTx('tx_pending', { amount: '-3300', status: 'pending', description: 'CARD 4821 PARIS BAGUETTE', counterparty: 'PARIS BAGUETTE' }),
    bankTx('tx_tie', { amount: '-20000', description: 'CARD 4821 TAXI', counterparty: null }),
    bankTx('tx_none', { amount: '-777777', description: 'UNKNOWN MERCHANT', counterparty: null }),
  ]);
  await recon.seed('pilot-a', [bankTx('tx_other_tenant', { amount: '-55000', reference: 'INV-2026-0042' })]);
});
afterAll(async () => {
  await t?.reconRuns.stop();
  await schema?.drop();
});

describe('ledger entries', () => {
  it('imports a batch idempotently by entry id: created, then unchanged, then updated', async () => {
    const entries = [
      entry('e-ref', { amount: '-55000', reference: 'INV-2026-0042', memo: 'ACME invoice INV-2026-0042' }),
      entry('e-date', { amount: '-8700', date: '2026-11-19', memo: 'GS25 snacks' }),
      entry('e-big', { amount: '-2400000', reference: 'LEASE-11', memo: 'lease' }),
      entry('e-pending', { amount: '-3300', date: '2026-11-20', memo: 'Paris Baguette' }),
      entry('e-tie-1', { amount: '-20000', date: '2026-11-19', memo: 'taxi' }),
      entry('e-tie-2', { amount: '-20000', date: '2026-11-21', memo: 'taxi' }),
      entry('e-orphan', { amount: '-31000', memo: 'office supplies' }),
    ];
    const first = await request(t.app).post('/v1/accounting/ledger-entries').set(operator).send({ entries });
    expect(first.body).toMatchObject({ received: 7, created: 7, updated: 0, unchanged: 0 });
    const again = await request(t.app).post('/v1/accounting/ledger-entries').set(operator).send({ entries });
    expect(again.body).toMatchObject({ received: 7, created: 0, updated: 0, unchanged: 7 });
    const changed = await request(t.app).post('/v1/accounting/ledger-entries').set(operator).send({ entries: [{ ...entries[6], memo: 'office supplies (paper)' }] });
    expect(changed.body).toMatchObject({ created: 0, updated: 1 });
  });

  it('rejects a bad batch whole with 400, writing nothing', async () => {
    const res = await request(t.app)
      .post('/v1/accounting/ledger-entries')
      .set(operator)
      .send({ entries: [entry('e-ok'), { ...entry('e-bad'), amount: 12.5, currency: 'won', date: '2026-02-30' }] });
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['entries.1.amount', 'entries.1.currency', 'entries.1.date']);
    const list = await request(t.app).get('/v1/accounting/ledger-entries?limit=500').set(operator);
    expect(list.body.items.map((e: { entry_id: string }) => e.entry_id)).not.toContain('e-ok');
  });

  it('lists entries in pages by date, only the caller tenant', async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(t.app).get(`/v1/accounting/ledger-entries?limit=3${cursor ? `&cursor=${cursor}` : ''}`).set(operator);
      ids.push(...res.body.items.map((e: { entry_id: string }) => e.entry_id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(ids).toHaveLength(7);
    expect(new Set(ids).size).toBe(7);
    const other = await request(t.app).get('/v1/accounting/ledger-entries').set({ 'X-Tenant': 'pilot-a', 'X-User-Role': 'auditor' });
    expect(other.body.items).toEqual([]);
  });
});

describe('reconciliation', () => {
  it('runs for the tenant and explains every outcome', async () => {
    const run = await runRecon();
    expect(run).toMatchObject({ status: 'succeeded', mode: 'full', error: null });
    expect(run.summary).toMatchObject({ transactions: 6, rules_version: expect.stringMatching(/^recon-rules\/2\+tenant:[0-9a-f]{8}$/) });
    for (const s of await suggestions()) {
      expect(s.rationale.length).toBeGreaterThan(10);
      expect(Array.isArray(s.criteria)).toBe(true);
    }
    expect(await byTx('tx_ref')).toMatchObject({ status: 'matched', entry: { entry_id: 'e-ref' } });
    expect((await byTx('tx_ref'))?.rationale).toMatch(/INV-2026-0042/);
    expect(await byTx('tx_big')).toMatchObject({ status: 'blocked', rule: 'blocked_amount_limit' });
    expect((await byTx('tx_big'))?.rationale).toMatch(/2,400,000 KRW .*1,000,000 KRW/);
    expect(await byTx('tx_pending')).toMatchObject({ status: 'blocked', rule: 'blocked_pending' });
    const tie = await byTx('tx_tie');
    expect(tie).toMatchObject({ status: 'suggested' });
    expect(tie?.candidates.map((c) => c.entryId).sort()).toEqual(['e-tie-1', 'e-tie-2']);
    expect(await byTx('tx_none')).toMatchObject({ status: 'unmatched', entry: null });
  });

  it('is safe to repeat: with no new data a run reads nothing, and the suggestions stay', async () => {
    const before = await suggestions();
    const run = await runRecon();
    expect(run).toMatchObject({ status: 'succeeded', mode: 'incremental', summary: { transactions: 0, entries: 0, written: 0 } });
    const after = await suggestions();
    expect(after.map((s) => [s.id, s.status, s.rationale])).toEqual(before.map((s) => [s.id, s.status, s.rationale]));
  });

  it('filters suggestions by status, e.g. unmatched items for the feedback loop', async () => {
    const unmatched = await suggestions('&status=unmatched');
    expect(unmatched.map((s) => s.transaction.external_id)).toEqual(['tx_none']);
  });

  it('confirms a suggestion once (idempotent), audits it, and never re-suggests the pair', async () => {
    const tie = (await byTx('tx_tie'))!;
    const decide = (key: string, body: object) =>
      request(t.app).post(`/v1/accounting/recon/suggestions/${tie.id}/decision`).set({ ...operator, 'Idempotency-Key': key }).send(body);
    const res = await decide('d-1', { decision: 'confirm', entry_id: 'e-tie-2' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'matched', decision: 'confirm', entry: { entry_id: 'e-tie-2' } });
    const replay = await decide('d-1', { decision: 'confirm', entry_id: 'e-tie-2' });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect((await decide('d-2', { decision: 'decline' })).body.error_code).toBe('SUGGESTION_ALREADY_DECIDED');

    await runRecon();
    expect(await byTx('tx_tie')).toMatchObject({ id: tie.id, decision: 'confirm', entry: { entry_id: 'e-tie-2' } });
    const { rows } = await schema.db.query(`SELECT action, details->>'decision' AS decision FROM audit_events WHERE action = 'recon_decision'`);
    expect(rows).toEqual([{ action: 'recon_decision', decision: 'confirm' }]);
  });

  it('declines a pair: never suggested again, reported to the feedback loop', async () => {
    const date = (await byTx('tx_date'))!;
    expect(date.entry?.entry_id).toBe('e-date');
    const res = await request(t.app)
      .post(`/v1/accounting/recon/suggestions/${date.id}/decision`)
      .set({ ...operator, 'Idempotency-Key': 'd-3' })
      .send({ decision: 'decline', note: 'different purchase' });
    expect(res.status).toBe(200);
    await runRecon();
    const after = (await byTx('tx_date'))!;
    expect(after.entry?.entry_id ?? null).not.toBe('e-date');
    expect(after.candidates.map((c) => c.entryId)).not.toContain('e-date');
    const { rows } = await schema.db.query(`SELECT action FROM feedback_outbox WHERE subject_id = 'tx_date'`);
    expect(rows).toEqual([{ action: 'recon_decision' }]);
  });

  it('refuses decisions that make no sense', async () => {
    const ref = (await byTx('tx_ref'))!;
    const pending = (await byTx('tx_pending'))!;
    const post = (id: string, key: string, body: object, headers = operator) =>
      request(t.app).post(`/v1/accounting/recon/suggestions/${id}/decision`).set({ ...headers, 'Idempotency-Key': key }).send(body);
    expect((await post(ref.id, 'x-1', { decision: 'confirm', entry_id: 'e-orphan' })).body.error_code).toBe('ENTRY_NOT_A_CANDIDATE');
    expect((await post(pending.id, 'x-2', { decision: 'confirm' })).body.error_code).toBe('TRANSACTION_PENDING');
    expect((await post('999999', 'x-3', { decision: 'confirm' })).status).toBe(404);
    expect((await post(ref.id, 'x-4', { decision: 'maybe' })).status).toBe(400);
    expect((await post(ref.id, 'x-5', { decision: 'confirm' }, { 'X-Tenant': 'pilot-a', 'X-User-Role': 'operator' })).status).toBe(404);
    expect((await post(ref.id, 'x-6', { decision: 'confirm' }, { 'X-Tenant': 'default', 'X-User-Role': 'auditor' })).status).toBe(403);
  });

  it('never shows a tenant another tenant suggestions', async () => {
    await runRecon({ 'X-Tenant': 'pilot-a', 'X-User-Role': 'operator' });
    const mine = await suggestions();
    expect(mine.map((s) => s.transaction.external_id)).not.toContain('tx_other_tenant');
    const theirs = await suggestions('', 'pilot-a');
    expect(theirs.map((s) => s.transaction.external_id)).toEqual(['tx_other_tenant']);
  });

  it('decides again only the lines near new data, and answers an explicit range', async () => {
    await recon.seed('default', [bankTx('tx_late', { amount: '-64000', bookedDate: '2027-06-01', description: 'CARD 4821 LOTTE MART', counterparty: 'LOTTE MART' })]);
    const run = await runRecon();
    expect(run).toMatchObject({ mode: 'incremental', summary: { transactions: 1, entries: 0, by_status: { unmatched: 1 } } });
    const ranged = await runRecon(operator, { from: '2026-11-20', to: '2026-11-20' });
    expect(ranged.mode).toBe('range');
    expect(ranged.summary?.transactions).toBeGreaterThanOrEqual(4);
  });
});

describe('reconciliation runs', () => {
  const pilot = { 'X-Tenant': 'pilot-a', 'X-User-Role': 'operator' };

  it('answers 202 at once with the run, which any holder of recon:read polls to its summary', async () => {
    const accepted = await request(t.app).post('/v1/accounting/recon/run').set(operator).send({});
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ tenant: 'default', run_id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'queued' });
    const done = await t.reconRuns.waitFor('default', accepted.body.run_id);
    const polled = await request(t.app).get(accepted.headers.location as string).set({ 'X-Tenant': 'default', 'X-User-Role': 'auditor' });
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({
      tenant: 'default',
      run_id: accepted.body.run_id,
      status: 'succeeded',
      started_at: expect.any(String),
      finished_at: expect.any(String),
      summary: { rules_version: expect.any(String), transactions: expect.any(Number), entries: expect.any(Number), written: expect.any(Number) },
      error: null,
    });
    expect(done.status).toBe('succeeded');
    const viewer = await request(t.app).get(accepted.headers.location as string).set({ 'X-Tenant': 'default', 'X-User-Role': 'viewer' });
    expect(viewer.status).toBe(403);
  });

  it("answers 404 NOT_FOUND for another tenant's run id, as for an unknown one, and 400 for what is no run id", async () => {
    const run = await runRecon();
    const theirs = await request(t.app).get(`/v1/accounting/recon/runs/${run.run_id}`).set(pilot);
    expect(theirs.status).toBe(404);
    expect(theirs.body.error_code).toBe('NOT_FOUND');
    const unknown = await request(t.app).get('/v1/accounting/recon/runs/00000000-0000-4000-8000-000000000000').set(operator);
    expect(unknown.status).toBe(404);
    expect((await request(t.app).get('/v1/accounting/recon/runs/12').set(operator)).status).toBe(400);
  });

  it('fails a run whose replica stopped heartbeating as ABANDONED, and the tenant runs again', async () => {
    // What a replica that died mid-run leaves behind: a running run nobody refreshes.
    const { rows } = await schema.db.query<{ id: string }>(
      `INSERT INTO recon_runs (tenant, status, requested_by, owner, started_at, heartbeat_at)
       VALUES ('pilot-a', 'running', 'operator', 'dead-replica:1:0', now() - interval '10 minutes', now() - interval '9 minutes')
       RETURNING id::text AS id`,
    );
    const abandoned = await request(t.app).get(`/v1/accounting/recon/runs/${rows[0]?.id}`).set(pilot);
    expect(abandoned.body).toMatchObject({ status: 'failed', summary: null, error: { code: 'ABANDONED', message: expect.stringMatching(/heartbeat/) } });
    expect(JSON.stringify(abandoned.body)).not.toMatch(/\bat \S+:\d+/);
    expect(await runRecon(pilot)).toMatchObject({ status: 'succeeded' });
  });

  it('takes a run abandoned while queued: a queued run nobody took waits for the next runner', async () => {
    const { rows } = await schema.db.query<{ id: string }>(
      `INSERT INTO recon_runs (tenant, requested_by) VALUES ('pilot-a', 'operator') RETURNING id::text AS id`,
    );
    t.reconRuns.start();
    const run = await t.reconRuns.waitFor('pilot-a', rows[0]?.id as string);
    expect(run.status).toBe('succeeded');
  });
});
