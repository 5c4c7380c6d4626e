import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dispatchFeedbackOnce } from '@accounting/service-core-accounting';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { RecordingServer } from '../../../test/support/recordingServer.js';

const operator = { 'X-Tenant': 'default', 'X-User-Role': 'operator' };
const BACKOFFICE = 'https://backoffice.example.test/backoffice/';

let schema: TestSchema;
let t: TestApp;
let receiver: RecordingServer;
let n = 0;

const outbox = async (subjectId: string) =>
  (await schema.db.query<{ attempts: number; delivered: boolean; last_error: string | null; next_in_future: boolean }>(
    `SELECT attempts, delivered_at IS NOT NULL AS delivered, last_error, next_attempt_at > now() AS next_in_future
     FROM feedback_outbox WHERE subject_id = $1`,
    [subjectId],
  )).rows;

const review = (subjectId: string) =>
  request(t.app).post('/v1/accounting/audit/manual-review').set({ ...operator, 'Idempotency-Key': `fb-${subjectId}` }).send({ subject_type: 'bank_tx', subject_id: subjectId, reason: 'check this' });

beforeAll(async () => {
  schema = await createTestSchema('vt_feedback');
  t = await buildTestApp(schema.db, { BANK_SBX_CONNECTIONS_JSON: '{"default":"c1"}' });
  receiver = await new RecordingServer().start();
});
afterAll(async () => {
  await receiver?.close();
  await schema?.drop();
});
beforeEach(async () => {
  n += 1;
  // Leave earlier tests' items out of this one's round.
  await schema.db.query(`UPDATE feedback_outbox SET delivered_at = coalesce(delivered_at, now())`);
});

describe('the feedback loop', () => {
  it('sends a manual review to the webhook with a Backoffice link filtered by its subject_id', async () => {
    const subject = `tx_fb_${n}`;
    expect((await review(subject)).status).toBe(201);
    const round = await dispatchFeedbackOnce(schema.db, { webhookUrl: `${receiver.base}/hook`, backofficeBaseUrl: BACKOFFICE });
    expect(round).toEqual({ delivered: 1, failed: 0 });
    const body = receiver.bodies.at(-1)!;
    const link = `${BACKOFFICE}audit?tenant=default&subject_id=${subject}`;
    expect(body).toMatchObject({ tenant: 'default', action: 'manual_review_request', subject_id: subject, link });
    expect(body.text).toContain(`<${link}|open in Backoffice>`);
    expect(await outbox(subject)).toEqual([expect.objectContaining({ attempts: 1, delivered: true, last_error: null })]);
  });

  it('never blocks or fails the request when the webhook is down, and retries later with backoff', async () => {
    const subject = `tx_fb_${n}`;
    receiver.statuses = [503];
    expect((await review(subject)).status).toBe(201);
    expect(await dispatchFeedbackOnce(schema.db, { webhookUrl: `${receiver.base}/hook`, backofficeBaseUrl: BACKOFFICE })).toEqual({ delivered: 0, failed: 1 });
    expect(await outbox(subject)).toEqual([{ attempts: 1, delivered: false, last_error: 'webhook answered 503', next_in_future: true }]);

    await schema.db.query(`UPDATE feedback_outbox SET next_attempt_at = now() WHERE subject_id = $1`, [subject]);
    expect(await dispatchFeedbackOnce(schema.db, { webhookUrl: `${receiver.base}/hook`, backofficeBaseUrl: BACKOFFICE })).toEqual({ delivered: 1, failed: 0 });
    expect((await outbox(subject))[0]).toMatchObject({ attempts: 2, delivered: true });
  });

  it('gives up after the last attempt but keeps the item and its error', async () => {
    const subject = `tx_fb_${n}`;
    await review(subject);
    expect(await dispatchFeedbackOnce(schema.db, { webhookUrl: 'http://127.0.0.1:9/unreachable', backofficeBaseUrl: BACKOFFICE, maxAttempts: 1 })).toEqual({ delivered: 0, failed: 1 });
    const [row] = await outbox(subject);
    expect(row).toMatchObject({ attempts: 1, delivered: false, last_error: 'webhook unreachable' });
    const { rows } = await schema.db.query<{ never: boolean }>(`SELECT next_attempt_at = 'infinity' AS never FROM feedback_outbox WHERE subject_id = $1`, [subject]);
    expect(rows[0]?.never).toBe(true);
  });

  it('does not report events that are not failure cases', async () => {
    const res = await request(t.app).put('/v1/accounting/os/sources/fb_source').set({ 'X-Tenant': 'default', 'X-User-Role': 'admin' }).send({ kind: 'bank_sbx', connection_id: 'c1' });
    expect(res.status).toBe(201);
    expect(await outbox('fb_source')).toEqual([]);
  });
});
