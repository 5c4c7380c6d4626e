import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAuditEvent, inTenant, listAuditEvents, readAuditExportBatches, type Queryable } from '@accounting/data-pg';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { explain, monthSearchStatement, statementsSent } from '../../../test/support/statements.js';

const operator = { 'X-Tenant': 'default', 'X-User-Role': 'operator' };
let schema: TestSchema;
let t: TestApp;

async function seed(tenant: string, n: number, make: (i: number) => Parameters<typeof appendAuditEvent>[2]) {
  for (let i = 0; i < n; i += 1) await appendAuditEvent(schema.db, tenant, make(i));
}

async function all(query: string, headers: Record<string, string> = operator): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: request.Response = await request(t.app).get(`/v1/accounting/audit?${query}${cursor ? `&cursor=${cursor}` : ''}`).set(headers);
    expect(res.status).toBe(200);
    ids.push(...res.body.items.map((item: { id: string }) => item.id));
    cursor = res.body.next_cursor;
    pages += 1;
  } while (cursor);
  return { ids, pages };
}

beforeAll(async () => {
  schema = await createTestSchema('vt_audit');
  t = await buildTestApp(schema.db);
  await seed('default', 30, (i) => ({
    actorRole: i % 3 === 0 ? 'operator' : 'system',
    actorId: i % 3 === 0 ? 'kim.operator' : null,
    action: i % 2 === 0 ? 'manual_review_request' : 'external_sync_failed',
    subjectType: 'bank_tx',
    subjectId: `tx_${i}`,
    summary: i === 7 ? 'Amount looks WRONG for Starbucks' : `event ${i}`,
  }));
  await seed('pilot-a', 5, (i) => ({ actorRole: 'operator', action: 'manual_review_request', subjectId: `other_${i}`, summary: 'Starbucks' }));
});
afterAll(async () => {
  await schema?.drop();
});

describe('GET /v1/accounting/audit', () => {
  it('pages newest first with opaque cursors until next_cursor is null, every row exactly once', async () => {
    const { ids, pages } = await all('limit=7');
    expect(pages).toBe(5);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    expect(ids).toEqual([...ids].sort((a, b) => Number(b) - Number(a)));
  });

  it('filters by one or several actions', async () => {
    const one = await request(t.app).get('/v1/accounting/audit?action=manual_review_request&limit=200').set(operator);
    expect(one.body.items).toHaveLength(15);
    expect(new Set(one.body.items.map((i: { action: string }) => i.action))).toEqual(new Set(['manual_review_request']));
    const both = await request(t.app).get('/v1/accounting/audit?action=manual_review_request&action=external_sync_failed&limit=200').set(operator);
    expect(both.body.items).toHaveLength(30);
    const comma = await request(t.app).get('/v1/accounting/audit?action=manual_review_request,external_sync_failed&limit=200').set(operator);
    expect(comma.body.items).toHaveLength(30);
  });

  it('filters by subject_id (the deep link of the feedback loop) and by actor id or role', async () => {
    const subject = await request(t.app).get('/v1/accounting/audit?subject_id=tx_7').set(operator);
    expect(subject.body.items.map((i: { subject_id: string }) => i.subject_id)).toEqual(['tx_7']);
    const actor = await request(t.app).get('/v1/accounting/audit?actor=kim.operator&limit=200').set(operator);
    expect(actor.body.items).toHaveLength(10);
    const role = await request(t.app).get('/v1/accounting/audit?actor=system&limit=200').set(operator);
    expect(role.body.items).toHaveLength(20);
  });

  it('searches subject and summary case-insensitively with q, treating % and _ literally', async () => {
    const res = await request(t.app).get('/v1/accounting/audit?q=starbucks').set(operator);
    expect(res.body.items.map((i: { subject_id: string }) => i.subject_id)).toEqual(['tx_7']);
    expect((await request(t.app).get('/v1/accounting/audit?q=tx_2').set(operator)).body.items.map((i: { subject_id: string }) => i.subject_id)).toEqual(['tx_29', 'tx_28', 'tx_27', 'tx_26', 'tx_25', 'tx_24', 'tx_23', 'tx_22', 'tx_21', 'tx_20', 'tx_2']);
    expect((await request(t.app).get('/v1/accounting/audit?q=%25').set(operator)).body.items).toEqual([]);
  });

  it('filters by time range, from inclusive and to exclusive', async () => {
    const { body } = await request(t.app).get('/v1/accounting/audit?limit=200').set(operator);
    const tenth = body.items[10].ts as string;
    const fifth = body.items[5].ts as string;
    const res = await request(t.app).get(`/v1/accounting/audit?from=${encodeURIComponent(tenth)}&to=${encodeURIComponent(fifth)}&limit=200`).set(operator);
    expect(res.body.items.map((i: { id: string }) => i.id)).toEqual(body.items.slice(6, 11).map((i: { id: string }) => i.id));
  });

  it('never shows another tenant its rows, whatever the filter', async () => {
    const res = await request(t.app).get('/v1/accounting/audit?q=starbucks&limit=200').set(operator);
    expect(JSON.stringify(res.body)).not.toContain('other_');
    const theirs = await request(t.app).get('/v1/accounting/audit?subject_id=other_1').set(operator);
    expect(theirs.body.items).toEqual([]);
  });

  it.each([
    ['an unknown action', 'action=deleted_everything'],
    ['a cursor it did not issue', 'cursor=bm90LWEtY3Vyc29y'],
    ['a cursor with SQL in it', `cursor=${Buffer.from(JSON.stringify({ t: "1'; DROP TABLE x; --", i: '1' })).toString('base64url')}`],
    ['a limit over 200', 'limit=201'],
    ['a limit that is not a number', 'limit=ten'],
    ['limit given twice', 'limit=1&limit=2'],
    ['a bad from', 'from=yesterday'],
    ['from after to', 'from=2026-11-22T00:00:00Z&to=2026-11-21T00:00:00Z'],
    ['an unknown filter', 'colour=red'],
  ])('answers %s with 400 VALIDATION_FAILED', async (_name, query) => {
    const res = await request(t.app).get(`/v1/accounting/audit?${query}`).set(operator);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'VALIDATION_FAILED', issues: expect.any(Array), request_id: expect.any(String) });
  });

  it('skips and repeats nothing while new rows arrive between pages', async () => {
    const before = await all('limit=200');
    const seen: string[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const res: request.Response = await request(t.app).get(`/v1/accounting/audit?limit=4${cursor ? `&cursor=${cursor}` : ''}`).set(operator);
      seen.push(...res.body.items.map((item: { id: string }) => item.id));
      cursor = res.body.next_cursor;
      await Promise.all(
        [0, 1, 2].map((i) => appendAuditEvent(schema.db, 'default', { actorRole: 'operator', action: 'manual_review_request', subjectId: `late_${round}_${i}` })),
      );
      round += 1;
    } while (cursor);
    expect(seen).toEqual(before.ids);
  });
});

/** The plan of the `nth` statement (from 0) `run` sends, EXPLAINed with the same parameters. */
async function planOf(run: (db: Queryable) => Promise<unknown>, db: Queryable = schema.db, nth = 0): Promise<string> {
  const statements = await statementsSent(db, run);
  const sent = statements[nth];
  if (!sent) throw new Error(`statement ${nth} was not sent (${statements.length} were)`);
  return explain(db, sent);
}

describe('the audit list queries', () => {
  // A table large enough that PostgreSQL plans as it would in production.
  beforeAll(async () => {
    await schema.db.exec(`
      INSERT INTO audit_events (tenant, actor_role, action, subject_id, summary, ts)
      SELECT CASE WHEN g % 10 = 0 THEN 'bulk-' || (g % 7) ELSE 'default' END, 'system',
             CASE WHEN g % 5 = 0 THEN 'manual_review_request' ELSE 'external_sync_failed' END,
             'bulk_' || g, 'bulk event ' || g, now() - g * interval '1 second'
      FROM generate_series(1, 60000) AS g;
      INSERT INTO audit_events (tenant, actor_role, action, subject_id, summary, ts)
      VALUES ('default', 'operator', 'manual_review_request', 'inv_quokka_77', 'quokka ledger check', now() - interval '3 days');
      ANALYZE audit_events;`);
  });

  it('use the tenant indexes on a large table (EXPLAIN)', async () => {
    const plan = async (where: string) => {
      const { rows } = await schema.db.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT id FROM audit_events WHERE tenant = 'default' ${where} ORDER BY ts DESC, id DESC LIMIT 51`,
      );
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    expect(await plan('')).toMatch(/Index (Only )?Scan using audit_events_tenant_ts_idx/);
    expect(await plan(`AND (ts, id) < (now() - interval '1 hour', 10::bigint)`)).toMatch(/Index Cond: .*ROW\(ts, id\) < ROW/);
    expect(await plan(`AND subject_id = 'bulk_10'`)).toMatch(/audit_events_tenant_subject_ts_idx/);
  });

  it('are read in index order as the repository writes them: no sort of the tenant rows', async () => {
    // A page from the middle of the table, as a cursor would give it.
    const { rows } = await schema.db.query<{ ts_micros: string; id: string }>(
      `SELECT (extract(epoch FROM ts) * 1000000)::bigint AS ts_micros, id FROM audit_events WHERE tenant = 'default' ORDER BY ts DESC, id DESC OFFSET 20000 LIMIT 1`,
    );
    const after = { tsMicros: rows[0]!.ts_micros, id: rows[0]!.id };
    const first = await planOf((db) => listAuditEvents(db, 'default', { limit: 50 }));
    expect(first).toMatch(/Index Scan using audit_events_tenant_ts_idx/);
    expect(first).not.toMatch(/Sort/);
    const deep = await planOf((db) => listAuditEvents(db, 'default', { limit: 50, after }));
    expect(deep).toMatch(/Index Scan using audit_events_tenant_ts_idx/);
    expect(deep).not.toMatch(/Sort/);
    const pinned = await planOf((db) => listAuditEvents(db, 'default', { limit: 50, filter: { actions: ['manual_review_request'] } }));
    expect(pinned).toMatch(/Index Scan using audit_events_tenant_action_ts_idx/);
    expect(pinned).not.toMatch(/Sort/);
    const exported = await planOf(async (db) => {
      for await (const _batch of readAuditExportBatches(db, 'default', { asOf: new Date().toISOString() }, { batchSize: 100 })) break;
    });
    expect(exported).toMatch(/Index Scan (Backward )?using audit_events_tenant_ts_idx/);
    expect(exported).not.toMatch(/Sort/);
    // A search whose term is not among the newest rows reads older months through the month
    // index (the second statement, after the walk through the newest rows). The term's keys
    // occur in no other row, so the index is cheap whatever ANALYZE sampled; with plain index
    // walks off, only the month index can serve that statement.
    // (That statement calls audit_search_months, migration 012, whose own query reads the index.)
    const searched = await inTenant(schema.db, 'default', async (tx) => {
      await tx.query('SET LOCAL enable_indexscan = off');
      const [, months] = await statementsSent(tx, (db) => listAuditEvents(db, 'default', { limit: 50, filter: { q: 'quokka' } }));
      return explain(tx, await monthSearchStatement(tx, months!));
    });
    expect(searched).toMatch(/Bitmap Index Scan on audit_events_search_month_idx/);
  });
});
