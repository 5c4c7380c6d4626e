import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { contractAccountsSchema, contractErrorSchema, contractSyncPageSchema } from './support/contractSchema.js';
import { AUTH, buildSandbox, TOKEN } from './support/fixtures.js';

const { app } = buildSandbox();
const validSync = { connection_id: 'conn_default', cursor: null, count: 10, start_date: '2026-11-15' };

describe('authentication', () => {
  const calls = [
    ['GET accounts', () => request(app).get('/v1/connections/conn_default/accounts')],
    ['POST sync', () => request(app).post('/v1/transactions/sync').send(validSync)],
  ] as const;

  it.each(calls)('%s without an Authorization header answers 401 INVALID_TOKEN', async (_name, call) => {
    const res = await call();
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toEqual({ error_code: 'INVALID_TOKEN', error_message: expect.any(String) });
  });

  it.each(calls)('%s with a wrong token answers 401 INVALID_TOKEN', async (_name, call) => {
    const res = await call().set('Authorization', 'Bearer not-the-token');
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('INVALID_TOKEN');
  });

  it.each(calls)('%s with the token under another scheme answers 401 INVALID_TOKEN', async (_name, call) => {
    const res = await call().set('Authorization', `Basic ${TOKEN}`);
    expect(res.status).toBe(401);
  });

  it('checks the token before anything else, even for an unknown connection', async () => {
    const res = await request(app).get('/v1/connections/conn_nope/accounts').set('Authorization', 'Bearer wrong');
    expect(res.status).toBe(401);
  });

  it('never echoes the token, right or wrong', async () => {
    const wrong = await request(app).get('/v1/connections/conn_nope/accounts').set('Authorization', `Bearer ${TOKEN}x`);
    const right = await request(app).get('/v1/connections/conn_nope/accounts').set(AUTH);
    expect(wrong.text).not.toContain(TOKEN);
    expect(right.text).not.toContain(TOKEN);
  });
});

describe('GET /v1/connections/{connection_id}/accounts', () => {
  it('answers the accounts of the connection in the contract shape', async () => {
    const res = await request(app).get('/v1/connections/conn_default/accounts').set(AUTH);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = contractAccountsSchema.parse(res.body);
    expect(body.accounts.map((a) => [a.account_id, a.name, a.currency])).toEqual([
      ['acc_1', 'Operating', 'KRW'],
      ['acc_2', 'USD Settlement', 'USD'],
    ]);
    expect(body.accounts[0]?.mask).toMatch(/^\d{4}$/);
  });

  it('answers 404 CONNECTION_NOT_FOUND for an unknown connection', async () => {
    const res = await request(app).get('/v1/connections/conn_nope/accounts').set(AUTH);
    expect(res.status).toBe(404);
    expect(contractErrorSchema.parse(res.body).error_code).toBe('CONNECTION_NOT_FOUND');
  });

  it('answers 400 INVALID_REQUEST for a connection id outside [A-Za-z0-9_.-]{1,128}', async () => {
    const res = await request(app).get(`/v1/connections/${'x'.repeat(129)}/accounts`).set(AUTH);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_REQUEST');
  });
});

describe('POST /v1/transactions/sync validation', () => {
  const post = (body: unknown) => request(app).post('/v1/transactions/sync').set(AUTH).send(body as object);

  it.each([
    ['count 0', { ...validSync, count: 0 }],
    ['count 501', { ...validSync, count: 501 }],
    ['a fractional count', { ...validSync, count: 1.5 }],
    ['count as a string', { ...validSync, count: '100' }],
    ['a start_date that is not a calendar date', { ...validSync, start_date: '2026-02-30' }],
    ['a start_date without dashes', { ...validSync, start_date: '20261115' }],
    ['no connection_id', { cursor: null, count: 10 }],
    ['a connection_id with a slash', { ...validSync, connection_id: 'conn/default' }],
    ['a cursor that is a number', { ...validSync, cursor: 12 }],
    ['an unknown field', { ...validSync, days_requested: 30 }],
    ['an array body', [validSync]],
  ])('answers 400 INVALID_REQUEST for %s', async (_name, body) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(contractErrorSchema.parse(res.body).error_code).toBe('INVALID_REQUEST');
  });

  it('answers 400 INVALID_REQUEST for a body that is not JSON', async () => {
    const res = await request(app).post('/v1/transactions/sync').set(AUTH).set('Content-Type', 'application/json').send('{"connection_id":');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error_code: 'INVALID_REQUEST', error_message: expect.any(String) });
  });

  it('answers 400 INVALID_REQUEST for a body that is not sent as application/json', async () => {
    const res = await request(app).post('/v1/transactions/sync').set(AUTH).set('Content-Type', 'text/plain').send(JSON.stringify(validSync));
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_REQUEST');
  });

  it('answers 404 CONNECTION_NOT_FOUND for an unknown connection', async () => {
    const res = await post({ ...validSync, connection_id: 'conn_nope' });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('CONNECTION_NOT_FOUND');
  });

  it('accepts an absent cursor as a full sync and pages 100 by default', async () => {
    const res = await post({ connection_id: 'conn_default' });
    expect(res.status).toBe(200);
    const page = contractSyncPageSchema.parse(res.body);
    expect(page.added).toHaveLength(100);
    expect(page.has_more).toBe(true);
  });

  it('answers amounts as decimal strings and provider_refreshed_at from the sandbox clock', async () => {
    const res = await post({ ...validSync, count: 500 });
    const page = contractSyncPageSchema.parse(res.body);
    expect(page.provider_refreshed_at).toBe('2026-11-22T03:10:00Z');
    for (const tx of page.added) expect(typeof tx.amount).toBe('string');
    expect(JSON.stringify(res.body)).not.toMatch(/"amount":-?\d/);
  });

  it('answers an unknown route with 404 NOT_FOUND in the same error shape', async () => {
    const res = await request(app).get('/v1/transactions/sync').set(AUTH);
    expect(res.status).toBe(404);
    expect(contractErrorSchema.parse(res.body).error_code).toBe('NOT_FOUND');
  });
});
