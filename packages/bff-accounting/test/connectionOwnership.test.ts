import type { RunningBankSandbox } from '@accounting/bank-sandbox-sim';
import { loadMigrations, runMigrations } from '@accounting/data-pg';
import { BankSandboxAdapter } from '@accounting/service-core-accounting';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/app.js';
import { runSyncWorker } from '../src/worker/syncWorker.js';
import { buildTestApp, LogCapture, type TestApp } from '../../../test/support/app.js';
import { BANK_TOKEN, startTestBank } from '../../../test/support/bank.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

const adminA = { 'X-Tenant': 'tenant-a', 'X-User-Role': 'admin' };
const adminB = { 'X-Tenant': 'tenant-b', 'X-User-Role': 'admin' };

let schema: TestSchema;
let bank: RunningBankSandbox;
let t: TestApp;

/** One run of the sync worker over every enabled source, against the project's simulator. */
const syncAll = () =>
  runSyncWorker({
    db: schema.db,
    bank: new BankSandboxAdapter({ baseUrl: bank.url, token: BANK_TOKEN, sleep: async () => undefined }),
    config: t.config,
    logger: createLogger('silent', new LogCapture()),
    signal: new AbortController().signal,
  });

const ledgerCount = async (tenant: string) => {
  const { rows } = await schema.db.query<{ n: string }>(`SELECT count(*) AS n FROM external_ledger WHERE tenant = $1`, [tenant]);
  return Number(rows[0]?.n);
};

beforeAll(async () => {
  schema = await createTestSchema('vt_conn_owner');
  bank = await startTestBank([
    { id: 'conn_a', days: 14, perDay: 5 },
    { id: 'conn_a2', days: 14, perDay: 5 },
    { id: 'conn_b', days: 14, perDay: 5 },
    { id: 'conn_b2', days: 14, perDay: 5 },
  ]);
  t = await buildTestApp(schema.db, {
    // Tenant A has two connections (the array form); B has one (the single form).
    BANK_SBX_CONNECTIONS_JSON: '{"tenant-a":["conn_a","conn_a2"],"tenant-b":"conn_b"}',
    SYNC_SINCE_DAYS: '365',
  });
});
afterAll(async () => {
  await t?.reconRuns.stop();
  await bank?.close();
  await schema?.drop();
});

describe('bank connections belong to tenants', () => {
  it('seeds each tenant\'s bank_sbx source on its first (or only) assigned connection', async () => {
    const { rows } = await schema.db.query(`SELECT tenant, source, connection_id FROM external_sources ORDER BY tenant`);
    expect(rows).toEqual([
      { tenant: 'tenant-a', source: 'bank_sbx', connection_id: 'conn_a' },
      { tenant: 'tenant-b', source: 'bank_sbx', connection_id: 'conn_b' },
    ]);
  });

  it('when tenant B puts a source on tenant A\'s connection, it answers 403 CONNECTION_NOT_ASSIGNED and stores no source', async () => {
    const res = await request(t.app).put('/v1/accounting/os/sources/stolen').set(adminB).set('X-User-Id', 'mallory').send({ kind: 'bank_sbx', connection_id: 'conn_a', enabled: true });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error_code: 'CONNECTION_NOT_ASSIGNED', source: 'stolen', connection_id: 'conn_a', request_id: expect.any(String) });
    const { rows } = await schema.db.query(`SELECT 1 FROM external_sources WHERE source = 'stolen'`);
    expect(rows).toEqual([]);
  });

  it('records the refusal as an audit event of tenant B, with the connection and the reason', async () => {
    const res = await request(t.app).get('/v1/accounting/audit?action=source_connection_refused').set(adminB);
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({
        action: 'source_connection_refused',
        actor: { role: 'admin', id: 'mallory' },
        subject_type: 'external_source',
        subject_id: 'stolen',
        details: { kind: 'bank_sbx', connection_id: 'conn_a', reason: 'CONNECTION_NOT_ASSIGNED' },
      }),
    ]);
    const ofA = await request(t.app).get('/v1/accounting/audit?action=source_connection_refused').set(adminA);
    expect(ofA.body.items).toEqual([]);
  });

  it('after the refused theft, a sync brings tenant B only its own connection\'s transactions', async () => {
    const results = await syncAll();
    expect(results.map((r) => [r.tenant, r.source, r.outcome.status])).toEqual([
      ['tenant-a', 'bank_sbx', 'succeeded'],
      ['tenant-b', 'bank_sbx', 'succeeded'],
    ]);
    const { rows } = await schema.db.query(`SELECT DISTINCT source FROM external_ledger WHERE tenant = 'tenant-b'`);
    expect(rows).toEqual([{ source: 'bank_sbx' }]);
    expect(await ledgerCount('tenant-a')).toBeGreaterThan(0);
  });

  it('accepts a source on a connection assigned to the tenant (201), the second of its array', async () => {
    const res = await request(t.app).put('/v1/accounting/os/sources/second').set(adminA).send({ kind: 'bank_sbx', connection_id: 'conn_a2' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ tenant: 'tenant-a', source: 'second', kind: 'bank_sbx', connection_id: 'conn_a2', enabled: true });
  });

  it('lets a tenant put a second source on its own connection', async () => {
    const res = await request(t.app).put('/v1/accounting/os/sources/third').set(adminA).send({ kind: 'bank_sbx', connection_id: 'conn_a2' });
    expect(res.status).toBe(201);
  });

  it('answers 409 CONNECTION_IN_USE for an assigned connection the database still records as another tenant\'s', async () => {
    // As after an operator moved conn_b2 from tenant A to tenant B in the configuration only.
    await schema.db.query(`INSERT INTO external_connection_owners (kind, connection_id, tenant) VALUES ('bank_sbx', 'conn_b2', 'tenant-a')`);
    const moved = await buildTestApp(schema.db, { BANK_SBX_CONNECTIONS_JSON: '{"tenant-a":["conn_a","conn_a2"],"tenant-b":["conn_b","conn_b2"]}' });
    try {
      const res = await request(moved.app).put('/v1/accounting/os/sources/moved').set(adminB).send({ kind: 'bank_sbx', connection_id: 'conn_b2' });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error_code: 'CONNECTION_IN_USE', connection_id: 'conn_b2' });
      const { rows } = await schema.db.query(`SELECT 1 FROM external_sources WHERE source = 'moved'`);
      expect(rows).toEqual([]);
    } finally {
      await moved.reconRuns.stop();
    }
  });

  it('refuses at the SQL level a second tenant\'s source on a connection another tenant owns', async () => {
    await expect(
      schema.db.query(`INSERT INTO external_sources (tenant, source, kind, connection_id) VALUES ('tenant-b', 'sql_stolen', 'bank_sbx', 'conn_a')`),
    ).rejects.toMatchObject({ code: '23503', constraint: 'external_sources_connection_owner_fkey' });
    await expect(
      schema.db.query(`INSERT INTO external_connection_owners (kind, connection_id, tenant) VALUES ('bank_sbx', 'conn_a', 'tenant-b')`),
    ).rejects.toMatchObject({ code: '23505' });
  });

  it('the worker fails, syncing nothing, a source whose connection is not assigned to its tenant (a row written by SQL)', async () => {
    // conn_c is no tenant's: only SQL can put it there, as a row written before assignments existed.
    bank.sandbox.createConnection({ id: 'conn_c', days: 3, perDay: 4 });
    await schema.db.query(`INSERT INTO external_connection_owners (kind, connection_id, tenant) VALUES ('bank_sbx', 'conn_c', 'tenant-b')`);
    await schema.db.query(`INSERT INTO external_sources (tenant, source, kind, connection_id) VALUES ('tenant-b', 'by_sql', 'bank_sbx', 'conn_c')`);
    const before = await ledgerCount('tenant-b');
    const results = await syncAll();
    const bySql = results.find((r) => r.tenant === 'tenant-b' && r.source === 'by_sql');
    expect(bySql?.outcome).toMatchObject({ status: 'failed', errorCode: 'CONNECTION_NOT_ASSIGNED', pages: 0, added: 0 });
    expect(await ledgerCount('tenant-b')).toBe(before);
    const { rows } = await schema.db.query(
      `SELECT outcome, error_code FROM external_sync_runs WHERE tenant = 'tenant-b' AND source = 'by_sql'`,
    );
    expect(rows).toEqual([{ outcome: 'failed', error_code: 'CONNECTION_NOT_ASSIGNED' }]);
    const status = await request(t.app).get('/v1/accounting/os/sources/by_sql').set(adminB);
    expect(status.body.last_error).toMatchObject({ code: 'CONNECTION_NOT_ASSIGNED' });
  });
});

describe('with no BANK_SBX_CONNECTIONS_JSON', () => {
  it('assigns no connection, so a bank_sbx source is refused', async () => {
    const bare = await buildTestApp(schema.db, {});
    try {
      const res = await request(bare.app).put('/v1/accounting/os/sources/any').set(adminB).send({ kind: 'bank_sbx', connection_id: 'conn_b' });
      expect(res.status).toBe(403);
      expect(res.body.error_code).toBe('CONNECTION_NOT_ASSIGNED');
    } finally {
      await bare.reconRuns.stop();
    }
  });
});

describe('migration 010_connection_owner on existing rows', () => {
  it('stops, naming them, when two tenants already share a connection; applies once one keeps it', async () => {
    const old = await createTestSchema('vt_conn_mig');
    try {
      const migrations = await loadMigrations();
      await runMigrations(old.db, migrations.filter((m) => m.version < 10));
      await old.db.query(
        `INSERT INTO external_sources (tenant, source, kind, connection_id) VALUES ('tenant-a', 'bank_sbx', 'bank_sbx', 'conn_a'), ('tenant-b', 'stolen', 'bank_sbx', 'conn_a')`,
      );
      await expect(runMigrations(old.db, migrations)).rejects.toThrow(/bank_sbx\/conn_a \(tenant-a:bank_sbx, tenant-b:stolen\)/);
      const { rows } = await old.db.query(`SELECT 1 FROM schema_migrations WHERE name = '010_connection_owner.sql'`);
      expect(rows).toEqual([]);

      await old.db.query(`DELETE FROM external_sources WHERE tenant = 'tenant-b'`);
      await runMigrations(old.db, migrations);
      await expect(
        old.db.query(`INSERT INTO external_sources (tenant, source, kind, connection_id) VALUES ('tenant-b', 'again', 'bank_sbx', 'conn_a')`),
      ).rejects.toMatchObject({ code: '23503', constraint: 'external_sources_connection_owner_fkey' });
    } finally {
      await old.drop();
    }
  });
});
