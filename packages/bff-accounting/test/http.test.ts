import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@accounting/data-pg';
import { interceptQueries } from '../../../test/support/interceptDb.js';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { contextApp } from './support/contextApp.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

const operator = { 'X-Tenant': 'default', 'X-User-Role': 'operator' };

/** `db` whose queries matching `pattern` fail the way a broken query would, SQL and all. */
function failingDb(db: Db, pattern: RegExp): Db {
  return interceptQueries(db, {
    before: (text) => {
      if (pattern.test(text)) throw new Error(`relation "audit_events_secret" does not exist: ${text}`);
    },
  });
}

let schema: TestSchema;
let t: TestApp;

beforeAll(async () => {
  schema = await createTestSchema('vt_http');
  t = await buildTestApp(schema.db, { REQUEST_BODY_LIMIT: '1kb' });
});
afterAll(async () => {
  await schema?.drop();
});

describe('request ids', () => {
  it('echoes a sane incoming X-Request-Id in the header and in error bodies', async () => {
    const res = await request(t.app).get('/nowhere').set('X-Request-Id', 'req-abc.123');
    expect(res.headers['x-request-id']).toBe('req-abc.123');
    expect(res.body.request_id).toBe('req-abc.123');
  });

  it('generates one when none is sent', async () => {
    const res = await request(t.app).get('/health');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('replaces an insane incoming id instead of echoing it', async () => {
    const res = await request(t.app).get('/nowhere').set('X-Request-Id', 'bad id "with" quotes');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
  });

  it('binds the id to the request log line', async () => {
    await request(t.app).get('/health').set('X-Request-Id', 'log-line-id');
    const line = t.logs.lines.find((l) => l.request_id === 'log-line-id');
    expect(line).toMatchObject({ method: 'GET', url: '/health', status: 200, level: 'info' });
  });
});

describe('error shapes', () => {
  it('answers an unknown route with 404 NOT_FOUND', async () => {
    const res = await request(t.app).get('/no/such/route');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error_code: 'NOT_FOUND', message: expect.any(String), request_id: expect.any(String) });
  });

  it('answers malformed JSON with 400 INVALID_JSON', async () => {
    const res = await request(t.app)
      .post('/v1/accounting/audit/manual-review')
      .set(operator)
      .set('Content-Type', 'application/json')
      .send('{"reason": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'INVALID_JSON', request_id: expect.any(String) });
  });

  it('ignores a body sent with a GET: the route answers as if none was sent, never INVALID_JSON', async () => {
    const res = await request(t.app)
      .get('/v1/accounting/audit?limit=1')
      .set(operator)
      .set('Content-Type', 'application/json')
      .send('{"reason": ');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tenant: 'default', items: expect.any(Array) });
  });

  it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await request(t.app)
      .post('/v1/accounting/audit/manual-review')
      .set(operator)
      .send({ note: 'x'.repeat(2_000) });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ error_code: 'PAYLOAD_TOO_LARGE', request_id: expect.any(String) });
  });

  it('answers a corrupt compressed body with 400, not 500', async () => {
    const res = await request(t.app)
      .post('/v1/accounting/audit/manual-review')
      .set(operator)
      .set({ 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Idempotency-Key': 'gz-1' })
      .send('definitely not gzip');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'INVALID_REQUEST', request_id: expect.any(String) });
  });

  it.each([
    ['a NUL character', 'bad\u0000reason'],
    ['a lone surrogate', 'bad\ud800reason'],
  ])('answers text with %s with 400 VALIDATION_FAILED, not 500', async (_name, reason) => {
    const res = await request(t.app)
      .post('/v1/accounting/audit/manual-review')
      .set({ ...operator, 'Idempotency-Key': `text-${reason.length}-${_name.length}`, 'Content-Type': 'application/json' })
      .send(`{"subject_type":"bank_tx","subject_id":"tx_1","reason":${JSON.stringify(reason)}}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'VALIDATION_FAILED', issues: [{ path: 'reason', message: expect.stringContaining('cannot be stored') }] });
  });

  it('answers input that fails validation with 400 VALIDATION_FAILED and the issues', async () => {
    const res = await request(t.app).get('/v1/accounting/audit?limit=0').set(operator);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error_code: 'VALIDATION_FAILED',
      issues: [{ path: 'limit', message: expect.any(String) }],
      request_id: expect.any(String),
    });
  });

  it('answers unknown query parameters with 400 VALIDATION_FAILED', async () => {
    const res = await request(t.app).get('/v1/accounting/audit?colour=red').set(operator);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('VALIDATION_FAILED');
  });

  it('answers an unexpected failure with 500 INTERNAL, no stack or SQL in the body, and logs it with the request id', async () => {
    const broken = await buildTestApp(failingDb(schema.db, /FROM audit_events WHERE/), {}, { migrate: false });
    const res = await request(broken.app).get('/v1/accounting/audit').set(operator).set('X-Request-Id', 'boom-1');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error_code: 'INTERNAL', message: expect.any(String), request_id: 'boom-1' });
    expect(JSON.stringify(res.body)).not.toMatch(/audit_events|SELECT|at .*\.ts/);
    const logged = broken.logs.lines.find((l) => l.msg === 'unhandled error');
    expect(logged).toMatchObject({ level: 'error', request_id: 'boom-1' });
    expect(JSON.stringify(logged)).toContain('audit_events_secret');
  });
});

describe('/health and /ready', () => {
  it('/health answers without a database call', async () => {
    const res = await request(t.app).get('/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('/ready answers 200 when the database answers and every migration is applied', async () => {
    const res = await request(t.app).get('/ready');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ready', database: 'pg' });
  });

  it('/ready answers 503 while shutting down', async () => {
    t.lifecycle.shuttingDown = true;
    try {
      const res = await request(t.app).get('/ready');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'not_ready', reason: 'SHUTTING_DOWN', error_code: 'NOT_READY' });
      expect(res.headers.connection).toBe('close');
    } finally {
      t.lifecycle.shuttingDown = false;
    }
  });
});

describe('/metrics', () => {
  it('labels requests by route pattern, never the raw URL', async () => {
    await request(t.app).get('/v1/accounting/os/sources/bank_sbx').set(operator);
    await request(t.app).get('/v1/accounting/os/sources/other-source-42').set(operator);
    await request(t.app).get('/totally/unknown/path-9876');
    const res = await request(t.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('http_requests_total{method="GET",route="/v1/accounting/os/sources/:source",code="404"} 2');
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{le="0.3",method="GET",route="\/v1\/accounting\/os\/sources\/:source",code="404"\}/);
    expect(res.text).toContain('route="__unmatched__",code="404"');
    expect(res.text).not.toContain('other-source-42');
    expect(res.text).not.toContain('path-9876');
  });

  it('labels gate denials with the route they were aimed at', async () => {
    await request(t.app).get('/v1/accounting/audit');
    const res = await request(t.app).get('/metrics');
    expect(res.text).toContain('http_requests_total{method="GET",route="/v1/accounting/audit",code="400"}');
  });
});

describe('logs', () => {
  it('never carry credentials sent by the client', async () => {
    await request(t.app)
      .get('/v1/accounting/audit')
      .set(operator)
      .set('Authorization', 'Bearer super-secret-token-value')
      .set('Cookie', 'session=cookie-secret-value');
    const all = t.logs.raw.join('\n');
    expect(all).not.toContain('super-secret-token-value');
    expect(all).not.toContain('cookie-secret-value');
  });
});

describe('request log lines', () => {
  it('write one line per request with exactly the request id, method, url, status and duration', async () => {
    await request(t.app).get('/v1/accounting/os/sources?x=1').set(operator).set('X-Request-Id', 'one-line-id');
    const lines = t.logs.lines.filter((l) => l.request_id === 'one-line-id');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({
      level: 'info',
      time: expect.any(String),
      service: 'bff-accounting',
      request_id: 'one-line-id',
      method: 'GET',
      url: '/v1/accounting/os/sources?x=1',
      status: 200,
      duration_ms: expect.any(Number),
      msg: 'GET /v1/accounting/os/sources?x=1 200',
    });
  });

  it('log a 5xx at error level, with the request id on the handler error line too', async () => {
    const broken = await buildTestApp(failingDb(schema.db, /FROM audit_events/i), {}, { migrate: false });
    await request(broken.app).get('/v1/accounting/audit').set(operator).set('X-Request-Id', 'five-hundred-id');
    const lines = broken.logs.lines.filter((l) => l.request_id === 'five-hundred-id');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['error', 'unhandled error'],
      ['error', 'GET /v1/accounting/audit 500'],
    ]);
  });

  it('log a request the client abandoned at warn, and leave it out of the HTTP metrics', async () => {
    const { app, logs, metrics } = contextApp();
    let arrived!: () => void;
    const handlerReached = new Promise<void>((resolve) => (arrived = resolve));
    app.get('/slow', (req, res) => {
      arrived();
      req.once('close', () => setTimeout(() => res.end('too late'), 10));
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const client = http.get({ host: '127.0.0.1', port, path: '/slow', headers: { 'X-Request-Id': 'abandoned-id' } });
      client.on('error', () => undefined);
      await handlerReached;
      client.destroy();
      await expect.poll(() => logs.lines.find((l) => l.request_id === 'abandoned-id')).toMatchObject({ level: 'warn', aborted: true, url: '/slow' });
      expect(await metrics.registry.getSingleMetricAsString('http_requests_total')).not.toContain('route="/slow"');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('build the request-scoped logger only for requests that log through it', async () => {
    let children = 0;
    const { app, logs } = contextApp(
      (logger) =>
        new Proxy(logger, {
          get: (target, property, receiver) => {
            if (property === 'child') children += 1;
            return Reflect.get(target, property, receiver);
          },
        }),
    );
    app.get('/quiet', (_req, res) => res.json({ ok: true }));
    children = 0; // building the app may make loggers; requests are what is counted
    app.get('/chatty', (req, res) => {
      req.log.warn({ detail: 'x' }, 'something odd');
      res.json({ ok: true });
    });
    await request(app).get('/quiet');
    expect(children).toBe(0);
    await request(app).get('/chatty').set('X-Request-Id', 'chatty-id');
    expect(children).toBe(1);
    expect(logs.lines.find((l) => l.msg === 'something odd')).toMatchObject({ request_id: 'chatty-id', detail: 'x' });
  });
});
