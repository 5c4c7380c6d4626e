import type { RunningBankSandbox } from '@accounting/bank-sandbox-sim';
import { BankSandboxAdapter, syncExternalSource } from '@accounting/service-core-accounting';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSyncMetrics } from '@accounting/data-pg';
import { createLogger, createMetrics } from '../src/app.js';
import { buildTestApp, LogCapture, type TestApp } from '../../../test/support/app.js';
import { BANK_NOW, BANK_TOKEN, startTestBank } from '../../../test/support/bank.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

const admin = { 'X-Tenant': 'default', 'X-User-Role': 'admin' };
const viewer = { 'X-Tenant': 'default', 'X-User-Role': 'viewer' };

let schema: TestSchema;
let bank: RunningBankSandbox;
let t: TestApp;

const syncDefault = (token = BANK_TOKEN) =>
  syncExternalSource(
    schema.db,
    new BankSandboxAdapter({ baseUrl: bank.url, token, sleep: async () => undefined }),
    { tenant: 'default', source: 'bank_sbx', connectionId: 'conn_default' },
    { now: () => BANK_NOW },
  );

function metric(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : undefined;
}

beforeAll(async () => {
  schema = await createTestSchema('vt_sources');
  bank = await startTestBank();
  t = await buildTestApp(schema.db, { BANK_SBX_CONNECTIONS_JSON: '{"default":["conn_default","conn_second","conn_other"],"pilot-a":"conn_pilot_a"}' });
});
afterAll(async () => {
  await bank?.close();
  await schema?.drop();
});

describe('GET /v1/accounting/os/sources', () => {
  it('shows the source seeded from BANK_SBX_CONNECTIONS_JSON as stale before its first sync', async () => {
    const res = await request(t.app).get('/v1/accounting/os/sources').set(viewer);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tenant: 'default', stale_threshold_seconds: 300 });
    expect(res.body.sources).toEqual([
      expect.objectContaining({
        source: 'bank_sbx',
        kind: 'bank_sbx',
        connection_id: 'conn_default',
        enabled: true,
        last_success_at: null,
        lag_seconds: null,
        stale: true,
        cursor_present: false,
        pass_in_progress: null,
        rows: { total: 0, active: 0, removed: 0 },
      }),
    ]);
  });

  it('shows lag, row counts, cursor and the run after a sync, and only the caller tenant', async () => {
    const outcome = await syncDefault();
    expect(outcome.status).toBe('succeeded');
    const res = await request(t.app).get('/v1/accounting/os/sources').set(admin);
    const [source] = res.body.sources;
    expect(source).toMatchObject({ stale: false, cursor_present: true, last_error: null, runs_total: 1, errors_total: 0 });
    expect(source.lag_seconds).toBeLessThan(60);
    expect(source.rows.active).toBe(bank.sandbox.getState('conn_default', { startDate: '2026-11-15' }).transactions.length);
    expect(source.provider_refreshed_at).toBe(BANK_NOW.toISOString());
    expect(source.recent_runs).toEqual([expect.objectContaining({ outcome: 'succeeded', rows_added: source.rows.active })]);

    const other = await request(t.app).get('/v1/accounting/os/sources').set({ 'X-Tenant': 'pilot-a', 'X-User-Role': 'admin' });
    expect(other.body.sources).toEqual([expect.objectContaining({ connection_id: 'conn_pilot_a', rows: { total: 0, active: 0, removed: 0 } })]);
  });

  it('shows the last error with its code, time and attempts after a failed run', async () => {
    expect((await syncDefault('wrong-token')).status).toBe('failed');
    const res = await request(t.app).get('/v1/accounting/os/sources/bank_sbx').set(viewer);
    expect(res.status).toBe(200);
    expect(res.body.last_error).toEqual({ code: 'INVALID_TOKEN', at: expect.any(String), attempts: 1 });
    expect(res.body.recent_runs[0]).toMatchObject({ outcome: 'failed', error_code: 'INVALID_TOKEN' });
  });

  it('turns stale once the last success is older than the threshold', async () => {
    await schema.db.query(`UPDATE external_sync_state SET last_success_at = now() - interval '6 minutes' WHERE tenant = 'default'`);
    const res = await request(t.app).get('/v1/accounting/os/sources/bank_sbx').set(viewer);
    expect(res.body.stale).toBe(true);
    expect(res.body.lag_seconds).toBeGreaterThanOrEqual(360);
  });

  it('answers 404 for a source the tenant does not have, and 400 for a malformed id', async () => {
    expect((await request(t.app).get('/v1/accounting/os/sources/nope').set(viewer)).status).toBe(404);
    expect((await request(t.app).get('/v1/accounting/os/sources/NOT%20OK').set(viewer)).body.error_code).toBe('VALIDATION_FAILED');
  });
});

describe('PUT /v1/accounting/os/sources/{source}', () => {
  it('creates a source (201), updates it (200), and audits both', async () => {
    const body = { kind: 'bank_sbx', connection_id: 'conn_second', enabled: true };
    const created = await request(t.app).put('/v1/accounting/os/sources/second').set(admin).send(body);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ tenant: 'default', source: 'second', kind: 'bank_sbx', connection_id: 'conn_second', enabled: true });
    const updated = await request(t.app).put('/v1/accounting/os/sources/second').set(admin).send({ ...body, enabled: false });
    expect(updated.status).toBe(200);
    expect(updated.body.enabled).toBe(false);
    const { rows } = await schema.db.query<{ summary: string }>(
      `SELECT summary FROM audit_events WHERE tenant = 'default' AND action = 'external_source_configured' ORDER BY id`,
    );
    expect(rows.map((r) => r.summary)).toEqual([
      'created bank_sbx source second (enabled)',
      'updated bank_sbx source second (disabled)',
    ]);
  });

  it('rejects a bad body with 400 and writes nothing', async () => {
    const res = await request(t.app).put('/v1/accounting/os/sources/third').set(admin).send({ kind: 'swift', connection_id: 'x y' });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('VALIDATION_FAILED');
    expect(res.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['connection_id', 'kind']);
    const { rows } = await schema.db.query(`SELECT 1 FROM external_sources WHERE source = 'third'`);
    expect(rows).toEqual([]);
  });

  it('refuses to move a source that holds synced data to another connection (409), and writes nothing', async () => {
    const res = await request(t.app).put('/v1/accounting/os/sources/bank_sbx').set(admin).send({ kind: 'bank_sbx', connection_id: 'conn_other' });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error_code: 'SOURCE_CONNECTION_LOCKED', source: 'bank_sbx' });
    const { rows } = await schema.db.query(`SELECT connection_id FROM external_sources WHERE tenant = 'default' AND source = 'bank_sbx'`);
    expect(rows).toEqual([{ connection_id: 'conn_default' }]);
    const same = await request(t.app).put('/v1/accounting/os/sources/bank_sbx').set(admin).send({ kind: 'bank_sbx', connection_id: 'conn_default', enabled: true });
    expect(same.status).toBe(200);
  });

  it('is for admins only', async () => {
    const res = await request(t.app).put('/v1/accounting/os/sources/x').set(viewer).send({ kind: 'bank_sbx', connection_id: 'c' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error_code: 'FORBIDDEN', permission: 'sources:write' });
  });
});

describe('external_sync_* metrics', () => {
  it('appear per tenant and source and move with each run', async () => {
    const before = (await request(t.app).get('/metrics')).text;
    const labels = 'tenant="default",source="bank_sbx"';
    const runsBefore = metric(before, 'external_sync_runs_total', labels) ?? 0;
    const errorsBefore = metric(before, 'external_sync_errors_total', labels) ?? 0;

    expect((await syncDefault()).status).toBe('succeeded');
    const afterSuccess = (await request(t.app).get('/metrics')).text;
    expect(metric(afterSuccess, 'external_sync_runs_total', labels)).toBe(runsBefore + 1);
    const lastTs = metric(afterSuccess, 'external_sync_last_ts_seconds', labels);
    expect(Math.abs(Date.now() / 1000 - (lastTs ?? 0))).toBeLessThan(60);
    expect(afterSuccess).toMatch(/# TYPE external_sync_errors_total counter/);

    expect((await syncDefault('wrong-token')).status).toBe('failed');
    const afterFailure = (await request(t.app).get('/metrics')).text;
    expect(metric(afterFailure, 'external_sync_errors_total', labels)).toBe(errorsBefore + 1);
    expect(metric(afterFailure, 'external_sync_last_ts_seconds', labels)).toBe(lastTs);
    expect(afterFailure).not.toContain(BANK_TOKEN);
  });

  it('leave out a disabled source, so its frozen last success raises no stale alert', async () => {
    await schema.db.query(`UPDATE external_sources SET enabled = false WHERE tenant = 'default' AND source = 'bank_sbx'`);
    try {
      const text = (await request(t.app).get('/metrics')).text;
      expect(text).not.toContain('external_sync_last_ts_seconds{tenant="default",source="bank_sbx"}');
    } finally {
      await schema.db.query(`UPDATE external_sources SET enabled = true WHERE tenant = 'default' AND source = 'bank_sbx'`);
    }
  });
});

describe('external_sync_* metrics refreshed in the background (SYNC_METRICS_REFRESH_MS)', () => {
  it('render the last read without querying the database at scrape time', async () => {
    let reads = 0;
    const read = () => {
      reads += 1;
      return readSyncMetrics(schema.db);
    };
    const metrics = createMetrics({ defaultMetrics: false, syncMetrics: { read, logger: createLogger('info', new LogCapture()), refreshIntervalMs: 3_600_000 } });
    try {
      const labels = 'tenant="default",source="bank_sbx"';
      const first = await metrics.registry.metrics();
      const runs = metric(first, 'external_sync_runs_total', labels);
      expect(runs).toBeGreaterThan(0);
      const readsAfterFirst = reads;

      expect((await syncDefault()).status).toBe('succeeded');
      const second = await metrics.registry.metrics();
      expect(reads).toBe(readsAfterFirst);
      expect(metric(second, 'external_sync_runs_total', labels)).toBe(runs);
    } finally {
      metrics.stop();
    }
  });
});
