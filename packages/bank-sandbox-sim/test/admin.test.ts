import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { contractErrorSchema } from './support/contractSchema.js';
import { AUTH, buildSandbox, byId } from './support/fixtures.js';
import { ClientStore, syncToEnd } from './support/syncClient.js';

describe('admin endpoints under /__sandbox (no token)', () => {
  it('creates a connection with generated data, which the contract then serves', async () => {
    const { app } = buildSandbox();
    const res = await request(app).post('/__sandbox/connections').send({ connection_id: 'conn_pilot_a', days: 3, per_day: 4 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ connection_id: 'conn_pilot_a', transaction_count: 12, change_seq: 0 });
    const accounts = await request(app).get('/v1/connections/conn_pilot_a/accounts').set(AUTH);
    expect(accounts.status).toBe(200);
  });

  it('answers 409 CONFLICT for a connection that exists, and 400 for a bad spec', async () => {
    const { app } = buildSandbox();
    const again = await request(app).post('/__sandbox/connections').send({ connection_id: 'conn_default', days: 1, per_day: 1 });
    expect(again.status).toBe(409);
    expect(contractErrorSchema.parse(again.body).error_code).toBe('CONFLICT');
    const bad = await request(app).post('/__sandbox/connections').send({ connection_id: 'conn x', days: 1, per_day: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_REQUEST');
  });

  it('lists connections', async () => {
    const { app } = buildSandbox();
    const res = await request(app).get('/__sandbox/connections');
    expect(res.body.connections.map((c: { connection_id: string }) => c.connection_id)).toEqual(['conn_default']);
  });

  it('adds, modifies, posts and removes transactions, and a synced client ends with the state the admin API reports', async () => {
    const { app } = buildSandbox();
    const client = new ClientStore();
    const run = await syncToEnd(app, client, {});
    const base = '/__sandbox/connections/conn_default/transactions';

    const added = await request(app).post(base).send({ amount: '-12000', status: 'pending', description: 'CARD 4821 STARBUCKS GANGNAM', counterparty: 'STARBUCKS' });
    expect(added.status).toBe(201);
    const pendingId = added.body.transaction.transaction_id as string;
    const modified = await request(app).patch(`${base}/${pendingId}`).send({ amount: '-13500' });
    expect(modified.body.transaction).toMatchObject({ transaction_id: pendingId, amount: '-13500', status: 'pending' });
    const posted = await request(app).post(`${base}/${pendingId}/post`).send({});
    expect(posted.body.transaction).toMatchObject({ status: 'posted', pending_transaction_id: pendingId, amount: '-13500' });
    const removed = await request(app).delete(`${base}/tx_1`);
    expect(removed.status).toBe(204);

    await syncToEnd(app, client, { cursor: run.cursor });
    const state = await request(app).get('/__sandbox/connections/conn_default/state');
    expect(state.status).toBe(200);
    expect(client.sorted()).toEqual([...state.body.transactions].sort(byId));
    expect(client.rows.has('tx_1')).toBe(false);
  });

  it('posts a pending transaction with a body-less POST', async () => {
    const { app, sandbox } = buildSandbox();
    const pending = sandbox.getState('conn_default').transactions.find((tx) => tx.status === 'pending');
    const res = await request(app).post(`/__sandbox/connections/conn_default/transactions/${pending?.transaction_id}/post`);
    expect(res.status).toBe(200);
  });

  it('answers 409 CONFLICT when posting a transaction that is not pending, 404 TRANSACTION_NOT_FOUND for an unknown one', async () => {
    const { app, sandbox } = buildSandbox();
    const posted = sandbox.getState('conn_default').transactions.find((tx) => tx.status === 'posted');
    const conflict = await request(app).post(`/__sandbox/connections/conn_default/transactions/${posted?.transaction_id}/post`).send({});
    expect(conflict.status).toBe(409);
    const missing = await request(app).delete('/__sandbox/connections/conn_default/transactions/tx_999999');
    expect(missing.status).toBe(404);
    expect(missing.body.error_code).toBe('TRANSACTION_NOT_FOUND');
    const noConnection = await request(app).get('/__sandbox/connections/conn_nope/state');
    expect(noConnection.status).toBe(404);
    expect(noConnection.body.error_code).toBe('CONNECTION_NOT_FOUND');
  });

  it.each([
    ['an amount with too many decimals for KRW', { amount: '-12000.5' }],
    ['an amount as a number', { amount: -12000 }],
    ['an unknown account', { amount: '-1000', account_id: 'acc_9' }],
    ['a date that does not exist', { amount: '-1000', booked_date: '2026-13-01' }],
  ])('refuses to add a transaction with %s', async (_name, body) => {
    const { app } = buildSandbox();
    const res = await request(app).post('/__sandbox/connections/conn_default/transactions').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_REQUEST');
  });

  it('reports state restricted to a start_date', async () => {
    const { app, sandbox } = buildSandbox();
    const res = await request(app).get('/__sandbox/connections/conn_default/state?start_date=2026-11-20');
    expect(res.body.transactions).toEqual(sandbox.getState('conn_default', { startDate: '2026-11-20' }).transactions);
    expect(res.body.transactions.every((tx: { booked_date: string }) => tx.booked_date >= '2026-11-20')).toBe(true);
  });

  it('expires cursors', async () => {
    const { app } = buildSandbox();
    const run = await syncToEnd(app, new ClientStore(), {});
    expect((await request(app).post('/__sandbox/cursors/expire')).status).toBe(204);
    const res = await request(app).post('/v1/transactions/sync').set(AUTH).send({ connection_id: 'conn_default', cursor: run.cursor });
    expect(res.body.error_code).toBe('INVALID_CURSOR');
  });

  it('reset brings back the seeded data, drops created connections, faults and the request log', async () => {
    const { app, sandbox } = buildSandbox();
    const initial = sandbox.getState('conn_default');
    sandbox.removeTransaction('conn_default', 'tx_3');
    sandbox.createConnection({ id: 'conn_extra', days: 1, perDay: 1 });
    sandbox.faults.inject({ type: 'rate_limit' });
    await request(app).get('/v1/connections/conn_default/accounts').set(AUTH);

    expect((await request(app).post('/__sandbox/reset')).status).toBe(204);
    expect(sandbox.getState('conn_default')).toEqual(initial);
    expect(sandbox.listConnections().map((c) => c.connection_id)).toEqual(['conn_default']);
    expect(sandbox.faults.list()).toEqual([]);
    expect(sandbox.requestLog.entries()).toEqual([]);
  });

  it('never reuses a transaction id in a connection, even after a removal or a reset', () => {
    const { sandbox } = buildSandbox();
    const a = sandbox.addTransaction('conn_default', { amount: '-1000' });
    sandbox.removeTransaction('conn_default', a.transaction_id);
    const b = sandbox.addTransaction('conn_default', { amount: '-1000' });
    sandbox.reset();
    const c = sandbox.addTransaction('conn_default', { amount: '-1000' });
    expect(new Set([a.transaction_id, b.transaction_id, c.transaction_id]).size).toBe(3);
  });

  it('reset regenerates the seeded data as of the start, even when the clock has moved on', () => {
    let now = Date.parse('2026-11-22T03:10:00Z');
    const { sandbox } = buildSandbox({ now: () => new Date(now) });
    const initial = sandbox.getState('conn_default');
    now += 3 * 86_400_000;
    sandbox.reset();
    expect(sandbox.getState('conn_default')).toEqual(initial);
  });

  it('a connection created again after a reset gets ids it never had before', () => {
    const { sandbox } = buildSandbox();
    sandbox.createConnection({ id: 'conn_extra', days: 1, perDay: 3 });
    const before = sandbox.getState('conn_extra').transactions.map((tx) => tx.transaction_id);
    sandbox.reset();
    sandbox.createConnection({ id: 'conn_extra', days: 2, perDay: 3 });
    const after = sandbox.getState('conn_extra').transactions.map((tx) => tx.transaction_id);
    expect(before).toEqual(['tx_1', 'tx_2', 'tx_3']);
    expect(after).toEqual(['tx_4', 'tx_5', 'tx_6', 'tx_7', 'tx_8', 'tx_9']);
  });

  it('queues, lists and clears faults', async () => {
    const { app } = buildSandbox();
    const queued = await request(app).post('/__sandbox/faults').send([{ type: 'rate_limit', retry_after_seconds: 2, times: 2 }, { type: 'latency', delay_ms: 10, target: 'accounts' }]);
    expect(queued.status).toBe(201);
    const listed = await request(app).get('/__sandbox/faults');
    expect(listed.body.faults).toEqual([
      { fault: { type: 'rate_limit', retry_after_seconds: 2 }, target: 'sync', remaining: 2 },
      { fault: { type: 'latency', delay_ms: 10 }, target: 'accounts', remaining: 1 },
    ]);
    expect((await request(app).delete('/__sandbox/faults')).status).toBe(204);
    expect((await request(app).get('/__sandbox/faults')).body.faults).toEqual([]);
  });

  it('answers 400 INVALID_REQUEST for an unknown fault type', async () => {
    const { app } = buildSandbox();
    const res = await request(app).post('/__sandbox/faults').send({ type: 'meteor' });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_REQUEST');
  });

  it('shows and clears the request log, which holds contract requests only', async () => {
    const { app } = buildSandbox();
    await request(app).get('/v1/connections/conn_default/accounts').set(AUTH);
    await request(app).get('/__sandbox/faults');
    const log = await request(app).get('/__sandbox/requests');
    expect(log.body.requests).toEqual([expect.objectContaining({ route: 'accounts', status: 200 })]);
    await request(app).delete('/__sandbox/requests');
    expect((await request(app).get('/__sandbox/requests')).body.requests).toEqual([]);
  });

  it('answers an unknown admin path with 404 NOT_FOUND', async () => {
    const { app } = buildSandbox();
    const res = await request(app).post('/__sandbox/nothing');
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('NOT_FOUND');
  });
});
