import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBankSandbox, type RunningBankSandbox } from '../src/startBankSandbox.js';
import { AUTH, buildSandbox, NOW, TOKEN } from './support/fixtures.js';

const sync = { connection_id: 'conn_default', cursor: null, count: 5 };
const postSync = (app: Parameters<typeof request>[0]) => request(app).post('/v1/transactions/sync').set(AUTH).send(sync);

describe('faults over supertest', () => {
  it('rate_limit answers 429 with Retry-After in seconds, then the next request succeeds', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'rate_limit', retry_after_seconds: 3 });
    const limited = await postSync(app);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('3');
    expect(limited.body).toEqual({ error_code: 'RATE_LIMIT_EXCEEDED', error_message: expect.any(String) });
    expect((await postSync(app)).status).toBe(200);
  });

  it('a fault with times: 3 applies to the next three matching requests only', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'server_error', times: 3 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await postSync(app)).status);
    expect(statuses).toEqual([500, 500, 500, 200]);
  });

  it('server_error answers the configured 5xx status', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'server_error', status: 503 });
    const res = await postSync(app);
    expect(res.status).toBe(503);
    expect(res.body.error_code).toBe('INTERNAL_SERVER_ERROR');
  });

  it('queued faults apply in order', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject([{ type: 'rate_limit' }, { type: 'server_error', status: 502 }]);
    expect([(await postSync(app)).status, (await postSync(app)).status, (await postSync(app)).status]).toEqual([429, 502, 200]);
  });

  it('mutation_during_pagination answers 400 MUTATION_DURING_PAGINATION', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'mutation_during_pagination' });
    const res = await postSync(app);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('MUTATION_DURING_PAGINATION');
  });

  it('invalid_cursor answers 400 INVALID_CURSOR', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'invalid_cursor' });
    const res = await postSync(app);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_CURSOR');
  });

  it('malformed amount_number answers 200 with an amount as a JSON number', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'malformed', variant: 'amount_number' });
    const res = await postSync(app);
    expect(res.status).toBe(200);
    expect(typeof res.body.added[0].amount).toBe('number');
  });

  it('malformed amount_number on a page without transactions makes one up with a numeric amount', async () => {
    const { app, sandbox } = buildSandbox({ connections: [{ id: 'conn_default', days: 0, perDay: 0 }] });
    sandbox.faults.inject({ type: 'malformed' });
    const res = await postSync(app);
    expect(res.status).toBe(200);
    expect(res.body.added).toHaveLength(1);
    expect(typeof res.body.added[0].amount).toBe('number');
  });

  it('malformed missing_next_cursor answers 200 without next_cursor', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'malformed', variant: 'missing_next_cursor' });
    const res = await postSync(app);
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('next_cursor');
    expect(res.body.added).toHaveLength(5);
  });

  it('malformed has_more_string answers 200 with has_more as a string', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'malformed', variant: 'has_more_string' });
    const res = await postSync(app);
    expect(res.body.has_more).toBe('true');
  });

  it('malformed truncated_json answers 200 application/json with a body that does not parse', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'malformed', variant: 'truncated_json' });
    const res = await request(app).post('/v1/transactions/sync').set(AUTH).send(sync).buffer(true).parse((r, done) => {
      let text = '';
      r.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      r.on('end', () => done(null, text));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(() => JSON.parse(res.body as string)).toThrow();
  });

  it('malformed does not touch error answers: a 404 stays a proper 404', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'malformed' });
    const res = await request(app).post('/v1/transactions/sync').set(AUTH).send({ ...sync, connection_id: 'conn_nope' });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('CONNECTION_NOT_FOUND');
  });

  it('a fault for accounts applies to accounts requests and leaves sync alone', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'malformed', target: 'accounts' });
    expect((await postSync(app)).status).toBe(200);
    const res = await request(app).get('/v1/connections/conn_default/accounts').set(AUTH);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accounts: 'unavailable' });
  });

  it("a fault with target 'any' applies to whichever contract request comes next", async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'server_error', target: 'any', times: 2 });
    expect((await request(app).get('/v1/connections/conn_default/accounts').set(AUTH)).status).toBe(500);
    expect((await postSync(app)).status).toBe(500);
    expect((await postSync(app)).status).toBe(200);
  });

  it('requests with a bad token answer 401 and do not use up faults', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'rate_limit' });
    expect((await request(app).post('/v1/transactions/sync').set('Authorization', 'Bearer wrong').send(sync)).status).toBe(401);
    expect((await postSync(app)).status).toBe(429);
  });

  it('rejects an invalid fault and queues none of a list that holds one', () => {
    const { sandbox } = buildSandbox();
    expect(() => sandbox.faults.inject([{ type: 'rate_limit' }, { type: 'server_error', status: 404 }])).toThrow(/status/);
    expect(sandbox.faults.list()).toEqual([]);
  });

  it('the request log counts attempts with their status and fault, and keeps no token', async () => {
    const { app, sandbox } = buildSandbox();
    sandbox.faults.inject({ type: 'server_error', times: 2 });
    for (let i = 0; i < 3; i++) await postSync(app);
    await request(app).get('/v1/connections/conn_default/accounts');
    expect(sandbox.requestLog.entries()).toEqual([
      { at: '2026-11-22T03:10:00Z', method: 'POST', path: '/v1/transactions/sync', route: 'sync', connection_id: 'conn_default', cursor: null, authorization: true, done: true, status: 500, fault: 'server_error' },
      { at: '2026-11-22T03:10:00Z', method: 'POST', path: '/v1/transactions/sync', route: 'sync', connection_id: 'conn_default', cursor: null, authorization: true, done: true, status: 500, fault: 'server_error' },
      { at: '2026-11-22T03:10:00Z', method: 'POST', path: '/v1/transactions/sync', route: 'sync', connection_id: 'conn_default', cursor: null, authorization: true, done: true, status: 200, fault: null },
      { at: '2026-11-22T03:10:00Z', method: 'GET', path: '/v1/connections/conn_default/accounts', route: 'accounts', connection_id: 'conn_default', cursor: null, authorization: false, done: true, status: 401, fault: null },
    ]);
    expect(JSON.stringify(sandbox.requestLog.entries())).not.toContain(TOKEN);
  });
});

describe('faults over a real socket', () => {
  let running: RunningBankSandbox;
  beforeAll(async () => {
    running = await startBankSandbox({ token: TOKEN, seed: 7, now: NOW, connections: [{ id: 'conn_default', days: 3, perDay: 5 }] });
  });
  afterAll(async () => {
    await running?.close();
  });

  const fetchSync = (signal?: AbortSignal) =>
    fetch(`${running.url}/v1/transactions/sync`, {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify(sync),
      ...(signal ? { signal } : {}),
    });

  /** The request log once every entry is done (a dropped socket is noticed a moment later). */
  async function settledLog() {
    for (let i = 0; i < 100 && running.sandbox.requestLog.entries().some((e) => !e.done); i++) await new Promise((r) => setTimeout(r, 20));
    return running.sandbox.requestLog.entries();
  }

  it('reset drops the connection without an answer, and the log shows no status', async () => {
    running.sandbox.requestLog.clear();
    running.sandbox.faults.inject({ type: 'reset' });
    await expect(fetchSync()).rejects.toThrow(/fetch failed/);
    expect((await fetchSync()).status).toBe(200);
    const log = await settledLog();
    expect(log.map((e) => [e.status, e.fault])).toEqual([
      [null, 'reset'],
      [200, null],
    ]);
  });

  it('latency longer than the client timeout makes the client time out', async () => {
    running.sandbox.requestLog.clear();
    running.sandbox.faults.inject({ type: 'latency', delay_ms: 2_000 });
    await expect(fetchSync(AbortSignal.timeout(100))).rejects.toThrow(/timeout|aborted/i);
    const log = await settledLog();
    expect(log).toEqual([expect.objectContaining({ done: true, status: null, fault: 'latency' })]);
  });

  it('latency shorter than the client timeout delays a normal answer', async () => {
    running.sandbox.faults.inject({ type: 'latency', delay_ms: 50 });
    const res = await fetchSync(AbortSignal.timeout(5_000));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { added: unknown[] }).added).toHaveLength(5);
  });
});
