import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ValidationError } from '@accounting/service-core-accounting';
import { parseInput } from '../src/middleware/errors.js';
import { nestsDeeperThan } from '../src/middleware/jsonBody.js';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

// One request for each cause of a 5xx the API fuzzing found (issue 18): each is now a 400 at the edge.

const admin = { 'X-Tenant': 'default', 'X-User-Role': 'admin' };
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

let schema: TestSchema;
let t: TestApp;

beforeAll(async () => {
  schema = await createTestSchema('vt_badinput');
  t = await buildTestApp(schema.db, {
    OS_TENANT_ALLOWLIST_JSON: '["default"]',
    EXPORT_SIGN_SECRET: 'a-signing-secret-of-at-least-32-bytes!!',
  });
});
afterAll(async () => {
  await t?.reconRuns.stop();
  await schema?.drop();
});

/** Asserts a 400 VALIDATION_FAILED naming `path` among its issues. */
function expectRefused(res: request.Response, path: string): void {
  expect(res.status).toBe(400);
  expect(res.body).toMatchObject({ error_code: 'VALIDATION_FAILED', request_id: expect.any(String) });
  expect(res.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path, message: expect.any(String) })]));
}

describe('deep JSON nesting', () => {
  it('when a body nests 3,000 arrays in 6 KB, it answers 400 JSON_TOO_DEEP', async () => {
    const res = await request(t.app)
      .post('/v1/accounting/ledger-entries')
      .set({ ...admin, 'Content-Type': 'application/json' })
      .send('['.repeat(3_000) + ']'.repeat(3_000));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'JSON_TOO_DEEP', message: expect.stringContaining('64'), request_id: expect.any(String) });
  });

  it('when a body nests 64 levels, it is read and validated as usual', async () => {
    const res = await request(t.app)
      .post('/v1/accounting/ledger-entries')
      .set({ ...admin, 'Content-Type': 'application/json' })
      .send(`{"entries":${'['.repeat(63)}${']'.repeat(63)}}`);
    expectRefused(res, 'entries.0');
  });

  it('counts only the brackets outside strings, escaped quotes included', () => {
    const depth3 = Buffer.from('{"a":[{"b":"[[[[\\"[[[{{{"}]}');
    expect(nestsDeeperThan(depth3, 3)).toBe(false);
    expect(nestsDeeperThan(depth3, 2)).toBe(true);
    expect(nestsDeeperThan(Buffer.from('["\\\\",[[1]]]'), 2)).toBe(true);
  });

  it('walks an input value nested 100,000 deep without overflowing the stack, naming where text cannot be stored', () => {
    let deep: unknown = 'bad\u0000text';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => parseInput(z.unknown(), deep)).toThrow(ValidationError);
    try {
      parseInput(z.unknown(), { a: ['ok', 'x\u0000'], 'k\u0000': { b: '\ud800' }, c: 'fine' }, 'body');
    } catch (err) {
      expect((err as ValidationError).details).toEqual({
        issues: [
          { path: 'a.1', message: expect.stringContaining('cannot be stored') },
          { path: '(key)', message: expect.stringContaining('cannot be stored') },
          { path: 'k\u0000.b', message: expect.stringContaining('cannot be stored') },
        ],
      });
    }
    expect.assertions(2);
  });

  it('when a body in another charset than UTF-8 is sent, it answers 415 UNSUPPORTED_ENCODING', async () => {
    const res = await request(t.app)
      .post('/v1/accounting/recon/run')
      .set({ ...admin, 'Content-Type': 'application/json; charset=utf-16le' })
      .send(Buffer.from('{}', 'utf16le'));
    expect(res.status).toBe(415);
    expect(res.body.error_code).toBe('UNSUPPORTED_ENCODING');
  });
});

describe('dates outside the range the API accepts (1900-01-01 to 9998-12-31)', () => {
  it('when the audit list is asked from year 0000, it answers 400 VALIDATION_FAILED', async () => {
    expectRefused(await request(t.app).get('/v1/accounting/audit?from=0000-01-01T00:00:00Z').set(admin), 'from');
  });

  it('when an export is asked up to year 0000, it answers 400 VALIDATION_FAILED', async () => {
    expectRefused(await request(t.app).get('/v1/accounting/exports/audit?to=0000-01-01T00:00:00Z').set(admin), 'to');
  });

  it('when ledger entries are listed from year 0000, it answers 400 VALIDATION_FAILED', async () => {
    expectRefused(await request(t.app).get('/v1/accounting/ledger-entries?from=0000-01-01').set(admin), 'from');
  });

  it('when a ledger import holds an entry dated year 0000, it answers 400 VALIDATION_FAILED', async () => {
    const entry = { entry_id: 'e-0', amount: '-1', currency: 'KRW', date: '0000-01-01' };
    expectRefused(await request(t.app).post('/v1/accounting/ledger-entries').set(admin).send({ entries: [entry] }), 'entries.0.date');
  });

  it('when reconciliation runs from 0001-01-01, it answers 400 VALIDATION_FAILED', async () => {
    expectRefused(await request(t.app).post('/v1/accounting/recon/run').set(admin).send({ from: '0001-01-01' }), 'from');
  });

  it('when reconciliation runs up to 9999-12-31, it answers 400 VALIDATION_FAILED', async () => {
    expectRefused(await request(t.app).post('/v1/accounting/recon/run').set(admin).send({ to: '9999-12-31' }), 'to');
  });

  it('when reconciliation runs over the whole accepted range, the run succeeds', async () => {
    const accepted = await request(t.app).post('/v1/accounting/recon/run').set(admin).send({ from: '1900-01-01', to: '9998-12-31' });
    expect(accepted.status).toBe(202);
    const run = await t.reconRuns.waitFor('default', accepted.body.run_id);
    expect(run).toMatchObject({ status: 'succeeded', summary: { transactions: 0 } });
  });

  it('when a date that no calendar has (2026-02-30) is given, it answers 400 VALIDATION_FAILED', async () => {
    expectRefused(await request(t.app).get('/v1/accounting/ledger-entries?to=2026-02-30').set(admin), 'to');
  });
});

describe('cursors', () => {
  it.each([
    ['a month 13', ['2026-13-45', 'e-1']],
    ['February 30', ['2026-02-30', 'e-1']],
    ['a NUL byte', ['2026-02-01', 'e\u00001']],
  ])('when a ledger cursor holds %s, it answers 400 VALIDATION_FAILED', async (_what, content) => {
    expectRefused(await request(t.app).get(`/v1/accounting/ledger-entries?cursor=${cursorOf(content)}`).set(admin), 'cursor');
  });

  it.each([
    ['an id past bigint', { t: '1767225600000000', i: '9999999999999999999' }],
    ['a timestamp past bigint', { t: '-9999999999999999999', i: '1' }],
    ['a timestamp past the year 9998', { t: '9223372036854775807', i: '1' }],
    ['id 0', { t: '1767225600000000', i: '0' }],
  ])('when an audit cursor holds %s, it answers 400 VALIDATION_FAILED', async (_what, content) => {
    expectRefused(await request(t.app).get(`/v1/accounting/audit?cursor=${cursorOf(content)}`).set(admin), 'cursor');
  });

  it('when a suggestions cursor is past bigint (9223372036854775808), it answers 400 VALIDATION_FAILED', async () => {
    expectRefused(await request(t.app).get('/v1/accounting/recon/suggestions?cursor=9223372036854775808').set(admin), 'cursor');
  });

  it('when a suggestions cursor is the largest bigint, it answers a page', async () => {
    const res = await request(t.app).get('/v1/accounting/recon/suggestions?cursor=9223372036854775807').set(admin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tenant: 'default', items: [] });
  });
});

describe('numeric ids', () => {
  it('when a suggestion id is past bigint, deciding it answers 400 VALIDATION_FAILED', async () => {
    const res = await request(t.app)
      .post('/v1/accounting/recon/suggestions/9999999999999999999/decision')
      .set({ ...admin, 'Idempotency-Key': 'past-bigint' })
      .send({ decision: 'decline' });
    expectRefused(res, 'id');
  });
});
