import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteExpiredIdempotencyKeys, IDEMPOTENCY_LOCK_KEY } from '@accounting/data-pg';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

const PATH = '/v1/accounting/audit/manual-review';
const operator = { 'X-Tenant': 'default', 'X-User-Role': 'operator' };
const review = { subject_type: 'bank_tx', subject_id: 'tx_42', reason: 'amount looks wrong', client_ts: '2026-11-18T08:00:00+09:00' };

let schema: TestSchema;
let t: TestApp;

const post = (key: string | undefined, body: object = review, headers: Record<string, string> = operator) => {
  const req = request(t.app).post(PATH).set(headers);
  if (key !== undefined) req.set('Idempotency-Key', key);
  return req.send(body);
};

async function eventsFor(subjectId: string, tenant = 'default'): Promise<number> {
  const { rows } = await schema.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_events WHERE tenant = $1 AND action = 'manual_review_request' AND subject_id = $2`,
    [tenant, subjectId],
  );
  return rows[0]?.n ?? 0;
}

beforeAll(async () => {
  schema = await createTestSchema('vt_review');
  t = await buildTestApp(schema.db);
});
afterAll(async () => {
  await schema?.drop();
});

describe('POST /v1/accounting/audit/manual-review', () => {
  it('records one manual_review_request audit event and answers 201 with it', async () => {
    const res = await post('k-first', { ...review, subject_id: 'tx_first', note: 'see receipt' });
    expect(res.status).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    expect(res.body).toMatchObject({
      action: 'manual_review_request',
      subject_type: 'bank_tx',
      subject_id: 'tx_first',
      summary: 'amount looks wrong',
      actor: { role: 'operator', id: null },
      details: { reason: 'amount looks wrong', note: 'see receipt', client_ts: '2026-11-18T08:00:00+09:00' },
      request_id: res.headers['x-request-id'],
    });
    expect(await eventsFor('tx_first')).toBe(1);
    const listed = await request(t.app).get('/v1/accounting/audit?action=manual_review_request&subject_id=tx_first').set(operator);
    expect(listed.body.items.map((i: { id: string }) => i.id)).toEqual([res.body.id]);
  });

  it('replays the stored answer to a retry with the same key and body, without a second event', async () => {
    const first = await post('k-replay', { ...review, subject_id: 'tx_replay' });
    const retry = await post('k-replay', { reason: 'amount looks wrong', subject_id: 'tx_replay', subject_type: 'bank_tx', client_ts: review.client_ts });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await eventsFor('tx_replay')).toBe(1);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED to the same key with another body', async () => {
    await post('k-reuse', { ...review, subject_id: 'tx_reuse' });
    const res = await post('k-reuse', { ...review, subject_id: 'tx_reuse', reason: 'something else' });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error_code: 'IDEMPOTENCY_KEY_REUSED', request_id: expect.any(String) });
    expect(await eventsFor('tx_reuse')).toBe(1);
  });

  it('scopes keys by tenant', async () => {
    await post('k-tenant', { ...review, subject_id: 'tx_tenant' });
    const other = await post('k-tenant', { ...review, subject_id: 'tx_tenant' }, { 'X-Tenant': 'pilot-a', 'X-User-Role': 'operator' });
    expect(other.status).toBe(201);
    expect(other.headers['idempotent-replayed']).toBeUndefined();
    expect(await eventsFor('tx_tenant', 'pilot-a')).toBe(1);
  });

  it.each([
    ['missing', undefined, 'IDEMPOTENCY_KEY_REQUIRED'],
    ['empty', '', 'IDEMPOTENCY_KEY_REQUIRED'],
    ['longer than 255 characters', 'k'.repeat(256), 'INVALID_IDEMPOTENCY_KEY'],
    ['not printable ASCII', 'key-é', 'INVALID_IDEMPOTENCY_KEY'],
  ])('answers 400 when the key is %s, and writes nothing', async (_name, key, code) => {
    const res = await post(key, { ...review, subject_id: `tx_badkey_${code}` });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe(code);
    expect(await eventsFor(`tx_badkey_${code}`)).toBe(0);
  });

  it('does not store a validation failure: the same key works once the body is fixed', async () => {
    const bad = await post('k-fix', { subject_type: 'bank_tx', subject_id: 'tx_fix' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([expect.objectContaining({ path: 'reason' })]);
    expect((await post('k-fix', { ...review, subject_id: 'tx_fix' })).status).toBe(201);
  });

  it('answers 409 IDEMPOTENCY_IN_PROGRESS while a request with the same key is running', async () => {
    const other = schema.connect();
    await other.withSession(async (session) => {
      await session.query(`SELECT pg_advisory_lock(${IDEMPOTENCY_LOCK_KEY})`, ['default', 'k-busy']);
      const res = await post('k-busy', { ...review, subject_id: 'tx_busy' });
      expect(res.status).toBe(409);
      expect(res.body.error_code).toBe('IDEMPOTENCY_IN_PROGRESS');
      await session.query('SELECT pg_advisory_unlock_all()');
    });
    expect((await post('k-busy', { ...review, subject_id: 'tx_busy' })).status).toBe(201);
    expect(await eventsFor('tx_busy')).toBe(1);
  });

  it('is not blocked by the same tenant and key running in another schema (another deployment)', async () => {
    const elsewhere = await createTestSchema('vt_review_other');
    try {
      await elsewhere.connect().withSession(async (session) => {
        await session.query(`SELECT pg_advisory_lock(${IDEMPOTENCY_LOCK_KEY})`, ['default', 'k-elsewhere']);
        const res = await post('k-elsewhere', { ...review, subject_id: 'tx_elsewhere' });
        await session.query('SELECT pg_advisory_unlock_all()');
        expect(res.status).toBe(201);
      });
    } finally {
      await elsewhere.drop();
    }
  });

  it('turns 20 parallel identical requests into exactly one audit event', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => post('k-parallel', { ...review, subject_id: 'tx_parallel' })));
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    const created = results.filter((r) => r.status === 201);
    expect(created.filter((r) => r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect(await eventsFor('tx_parallel')).toBe(1);
  });

  it('keeps keys for 30 days, then treats them as new and purges them', async () => {
    await post('k-old', { ...review, subject_id: 'tx_old' });
    const { rows } = await schema.db.query<{ days: number }>(
      `SELECT round(extract(epoch FROM expires_at - created_at) / 86400)::int AS days FROM idempotency_keys WHERE key = 'k-old'`,
    );
    expect(rows[0]?.days).toBe(30);
    await schema.db.query(`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'k-old'`);
    expect(await deleteExpiredIdempotencyKeys(schema.db)).toBe(1);
    const again = await post('k-old', { ...review, subject_id: 'tx_old' });
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(await eventsFor('tx_old')).toBe(2);
  });
});
