import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../../../test/support/app.js';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '../../../test/support/postgres.js';
import { TcpProxy } from '../../../test/support/tcpProxy.js';

let schema: TestSchema;
let proxy: TcpProxy;

beforeAll(async () => {
  schema = await createTestSchema('vt_ready');
  const target = new URL(TEST_DATABASE_URL);
  proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  await proxy.start();
});
afterAll(async () => {
  await proxy?.stop();
  await schema?.drop();
});

describe('/ready and the data routes against a database that goes away', () => {
  it('answers 503 (NOT_READY on /ready, DATABASE_UNAVAILABLE with Retry-After on the data routes) while the database is unreachable and 200 again when it returns', async () => {
    const viaProxy = new URL(TEST_DATABASE_URL);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const db = schema.connect({ connectionString: viaProxy.toString(), connectionTimeoutMillis: 500 });
    const { app } = await buildTestApp(db);

    expect((await request(app).get('/ready')).status).toBe(200);

    await proxy.stop();
    const down = await request(app).get('/ready');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ error_code: 'NOT_READY', status: 'not_ready', reason: 'DATABASE_UNAVAILABLE' });
    expect(JSON.stringify(down.body)).not.toContain(String(proxy.port));
    expect((await request(app).get('/health')).status).toBe(200);

    // The data routes say the same, in the one error shape, with when to retry: not a 500.
    const data = await request(app).get('/v1/accounting/audit').set({ 'X-Tenant': 'default', 'X-User-Role': 'operator' });
    expect(data.status).toBe(503);
    expect(data.headers['retry-after']).toMatch(/^\d+$/);
    expect(data.body).toEqual({
      error_code: 'DATABASE_UNAVAILABLE',
      reason: 'unreachable',
      message: expect.stringContaining('retry later'),
      request_id: expect.any(String),
    });

    await proxy.start();
    const back = await request(app).get('/ready');
    expect(back.status).toBe(200);
    expect(back.body.status).toBe('ready');
    const served = await request(app).get('/v1/accounting/audit').set({ 'X-Tenant': 'default', 'X-User-Role': 'operator' });
    expect(served.status).toBe(200);
  });

  it('is not ready (STARTING) and refuses the data routes while its start-up has not run, though the database answers', async () => {
    const { app, lifecycle } = await buildTestApp(schema.db);
    let prepared = false;
    lifecycle.databasePrepared = () => prepared;
    const ready = await request(app).get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ error_code: 'NOT_READY', reason: 'STARTING' });
    const data = await request(app).get('/v1/accounting/audit').set({ 'X-Tenant': 'default', 'X-User-Role': 'operator' });
    expect(data.status).toBe(503);
    expect(data.body).toMatchObject({ error_code: 'DATABASE_UNAVAILABLE', reason: 'starting' });
    expect(data.headers['retry-after']).toMatch(/^\d+$/);

    prepared = true;
    expect((await request(app).get('/ready')).status).toBe(200);
    expect((await request(app).get('/v1/accounting/audit').set({ 'X-Tenant': 'default', 'X-User-Role': 'operator' })).status).toBe(200);
  });

  it('answers 503 MIGRATIONS_PENDING on a database that was not migrated', async () => {
    const empty = await createTestSchema('vt_ready_empty');
    try {
      const { app } = await buildTestApp(empty.db, {}, { migrate: false });
      const res = await request(app).get('/ready');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ reason: 'MIGRATIONS_PENDING', message: expect.stringContaining('001_audit_events.sql') });
    } finally {
      await empty.drop();
    }
  });
});
