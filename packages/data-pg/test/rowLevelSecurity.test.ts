import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_ROLE_PRIVILEGES,
  appendAuditEvent,
  createReconRun,
  enqueueFeedback,
  importLedgerEntries,
  inAllTenants,
  inTenant,
  learnReconAlias,
  listAuditEvents,
  listExternalSources,
  loadMigrations,
  recordSuggestionDecision,
  recordSyncSuccess,
  rememberDeclinedPair,
  runMigrations,
  saveIdempotencyRecord,
  startSyncRun,
  storeSyncCursor,
  storeSyncProgress,
  upsertExternalSource,
  upsertLedgerTransactions,
  writeReconState,
  type Db,
} from '@accounting/data-pg';
import { createTestSchema, TEST_APP_ROLE, TEST_OWNER_ROLE, type TestSchema } from '../../../test/support/postgres.js';

const TENANTS = ['tenant-a', 'tenant-b'] as const;

let schema: TestSchema;
/** The app's role: not the owner, granted APP_ROLE_PRIVILEGES, bound by row-level security. */
let app: Db;
/** The tables that hold a tenant column, as the database knows them. */
let tenantTables: string[];

/** One row in every tenant table for `tenant`, written as the app role through the repositories. */
async function seed(tenant: string) {
  const source = { source: 'bank', kind: 'bank_sbx' as const, connectionId: `conn_${tenant}`, enabled: true };
  await upsertExternalSource(app, tenant, source);
  const runId = await startSyncRun(app, tenant, 'bank');
  await upsertLedgerTransactions(app, { tenant, source: 'bank', seenMarker: runId }, [
    {
      externalId: `tx_${tenant}`,
      accountId: 'acc_1',
      amount: '-12000.00',
      currency: 'KRW',
      bookedDate: '2026-11-20',
      status: 'posted',
      pendingExternalId: null,
      description: `CARD ${tenant}`,
      counterparty: null,
      reference: null,
      providerUpdatedAt: '2026-11-20T09:12:44Z',
    },
  ]);
  await recordSyncSuccess(app, tenant, 'bank', runId, {
    pages: 1, attempts: 1, added: 1, modified: 0, removed: 0, removedUnknown: 0, fullResync: true, providerRefreshedAt: null,
  });
  await storeSyncCursor(app, tenant, 'bank', 'cursor_1');
  await storeSyncProgress(app, tenant, 'bank', { baseCursor: 'cursor_1', pageCursor: 'cursor_2', startDate: '2026-11-01', seenMarker: runId });
  const event = await appendAuditEvent(app, tenant, { actorRole: 'operator', action: 'manual_review_request', summary: `by ${tenant}` });
  await enqueueFeedback(app, tenant, { auditEventId: event.id, action: event.action, subjectId: null, summary: 'x' });
  await saveIdempotencyRecord(app, tenant, 'key-1', { scope: 's', requestHash: 'h', responseStatus: 201, responseBody: {}, retentionDays: 1 });
  await importLedgerEntries(app, tenant, [
    { entry_id: `e_${tenant}`, amount: '-12000.00', currency: 'KRW', date: '2026-11-20', memo: 'coffee', reference: null, counterparty: null },
  ]);
  await createReconRun(app, tenant, { from: null, to: null, requestedBy: 'test', requestId: null });
  await writeReconState(app, tenant, 'v1');
  await rememberDeclinedPair(app, tenant, { source: 'bank', externalId: `tx_${tenant}`, entryId: `e_${tenant}` });
  await learnReconAlias(app, tenant, {
    bankName: `card ${tenant}`,
    ledgerName: 'coffee',
    learnedFrom: { suggestionId: null, source: 'bank', externalId: `tx_${tenant}`, entryId: `e_${tenant}` },
    createdBy: 'test',
  });
  // A run writes these two in one statement with the run's fence; the owner writes them here.
  await schema.db.query(
    `INSERT INTO recon_suggestions (tenant, source, external_id, status, rule, rationale, rules_version)
     VALUES ($1, 'bank', $2, 'unmatched', 'none', 'no candidate', 'v1')`,
    [tenant, `tx_${tenant}`],
  );
  await schema.db.query(`INSERT INTO recon_scored_entries (tenant, entry_id, source, external_id, claimable) VALUES ($1, $2, 'bank', $3, false)`, [
    tenant,
    `e_${tenant}`,
    `tx_${tenant}`,
  ]);
  // A confirm holds its entry (recon_entry_holds) for its line (recon_matched_entries).
  const { rows } = await schema.db.query<{ id: string }>(`SELECT id::text AS id FROM recon_suggestions WHERE tenant = $1`, [tenant]);
  const outcome = { status: 'matched' as const, entryId: `e_${tenant}`, confidence: 1, rule: 'exact', rationale: 'test', criteria: [], candidates: [] };
  const confirmed = await app.transaction((tx) => recordSuggestionDecision(tx, tenant, rows[0]?.id as string, { decision: 'confirm', decidedBy: 'test', outcome }));
  expect(confirmed).toBe(true);
}

/** The error code PostgreSQL answers `sql` with, as the app role in `tenant`'s scope; undefined when it succeeds. */
async function refusal(tenant: string, sql: string): Promise<string | undefined> {
  try {
    await inTenant(app, tenant, (tx) => tx.query(sql));
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

beforeAll(async () => {
  schema = await createTestSchema('vt_rls');
  // As in production: the migrations run as the schema's owner (not a superuser), the app as another role.
  await runMigrations(schema.ownerDb, await loadMigrations(), { appRole: TEST_APP_ROLE });
  app = schema.appDb;
  for (const tenant of TENANTS) await seed(tenant);
  const { rows } = await schema.db.query<{ table: string }>(
    `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant' AND NOT a.attisdropped
     WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname`,
    [schema.schema],
  );
  tenantTables = rows.map((row) => row.table);
});
afterAll(async () => {
  await schema?.drop();
});

describe('row-level security', () => {
  it('is enabled and forced on every table that holds a tenant column', async () => {
    const { rows } = await schema.db.query<{ table: string; enabled: boolean; forced: boolean }>(
      `SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [schema.schema],
    );
    const byTable = new Map(rows.map((row) => [row.table, row]));
    expect(tenantTables.length).toBeGreaterThanOrEqual(22);
    for (const table of tenantTables) expect(byTable.get(table), table).toMatchObject({ enabled: true, forced: true });
  });

  it('a query without the tenant setting returns 0 rows on every tenant table, though every one holds rows', async () => {
    for (const table of tenantTables) {
      const owner = await schema.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      expect(owner.rows[0]?.n, `${table} seeded for both tenants`).toBeGreaterThanOrEqual(2);
      const plain = await app.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      expect(plain.rows[0]?.n, `${table} without a tenant`).toBe(0);
      const inTransaction = await app.transaction((tx) => tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`));
      expect(inTransaction.rows[0]?.n, `${table} in a transaction without a tenant`).toBe(0);
    }
  });

  it("in a tenant's scope, a query with no tenant filter sees that tenant's rows only", async () => {
    for (const table of tenantTables) {
      const { rows } = await inTenant(app, 'tenant-a', (tx) => tx.query<{ tenant: string }>(`SELECT DISTINCT tenant FROM ${table}`));
      expect(rows, table).toEqual([{ tenant: 'tenant-a' }]);
    }
  });

  it('refuses to write a row of another tenant than the scope', async () => {
    expect(await refusal('tenant-a', `INSERT INTO recon_declined_pairs (tenant, source, external_id, entry_id) VALUES ('tenant-b', 'bank', 'tx_tenant-b', 'e_x')`)).toBe('42501');
    expect(await refusal('tenant-a', `UPDATE external_sources SET enabled = false WHERE tenant = 'tenant-b'`)).toBeUndefined();
    const { rows } = await schema.db.query<{ enabled: boolean }>(`SELECT enabled FROM external_sources WHERE tenant = 'tenant-b'`);
    expect(rows).toEqual([{ enabled: true }]);
  });

  it('the background jobs that span tenants see every tenant only when they ask for it', async () => {
    const { rows } = await inAllTenants(app, (tx) => tx.query<{ tenant: string }>(`SELECT DISTINCT tenant FROM recon_runs ORDER BY tenant`));
    expect(rows.map((row) => row.tenant)).toEqual([...TENANTS]);
  });

  it('repositories read their own tenant through the app role', async () => {
    expect((await listExternalSources(app, 'tenant-b')).map((s) => s.connectionId)).toEqual(['conn_tenant-b']);
    const page = await listAuditEvents(app, 'tenant-a', { limit: 10 });
    expect(page.items.map((item) => item.summary)).toEqual(['by tenant-a']);
  });
});

describe('the app role on audit_events', () => {
  it.each([
    ['UPDATE', `UPDATE audit_events SET summary = 'changed'`],
    ['DELETE', `DELETE FROM audit_events`],
    ['TRUNCATE', `TRUNCATE audit_events`],
    ['ALTER', `ALTER TABLE audit_events ADD COLUMN note text`],
    ['DISABLE TRIGGER', `ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`],
    ['DROP TRIGGER', `DROP TRIGGER audit_events_no_update_delete ON audit_events`],
    ['DISABLE ROW LEVEL SECURITY', `ALTER TABLE audit_events DISABLE ROW LEVEL SECURITY`],
    ['DROP POLICY', `DROP POLICY tenant_rows ON audit_events`],
  ])('%s is refused (insufficient privilege), and the rows stay as written', async (_name, sql) => {
    expect(await refusal('tenant-a', sql)).toBe('42501');
    const { rows } = await schema.db.query<{ summary: string }>(`SELECT summary FROM audit_events ORDER BY tenant`);
    expect(rows.map((row) => row.summary)).toEqual(['by tenant-a', 'by tenant-b']);
  });

  it('INSERT and SELECT are all it holds there', async () => {
    const { rows } = await schema.db.query<{ privilege: string }>(
      `SELECT privilege_type AS privilege FROM information_schema.role_table_grants
       WHERE grantee = $1 AND table_schema = $2 AND table_name = 'audit_events' ORDER BY 1`,
      [TEST_APP_ROLE, schema.schema],
    );
    expect(rows.map((row) => row.privilege)).toEqual(['INSERT', 'SELECT']);
  });

  it('owns nothing in the schema (the migrations\' role does)', async () => {
    const { rows } = await schema.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND pg_get_userbyid(c.relowner) = $2`,
      [schema.schema, TEST_APP_ROLE],
    );
    expect(rows[0]?.n).toBe(0);
  });
});

describe('the audit search under row-level security', () => {
  /** The search's month step for `q` in this month, as the repository calls it. */
  const monthRows = (tx: { query: Db['query'] }, q: string) =>
    tx.query<{ tenant: string; summary: string }>(
      `SELECT tenant, summary FROM audit_search_months(ARRAY[date_trunc('month', now())], $1, $2, NULL, NULL, NULL, NULL, NULL, 'infinity', 0, 50)`,
      [q, `%${q}%`],
    );

  it('gives the app role, through audit_search_months, the scoped tenant\'s matches only, and none without a scope', async () => {
    expect((await inTenant(app, 'tenant-a', (tx) => monthRows(tx, 'by tenant'))).rows).toEqual([{ tenant: 'tenant-a', summary: 'by tenant-a' }]);
    expect((await inTenant(app, 'tenant-b', (tx) => monthRows(tx, 'by tenant'))).rows).toEqual([{ tenant: 'tenant-b', summary: 'by tenant-b' }]);
    expect((await monthRows(app, 'by tenant')).rows).toEqual([]);
    expect((await inAllTenants(app, (tx) => monthRows(tx, 'by tenant'))).rows).toEqual([]);
  });

  it('lets that function, as the owner, read the month index: the app role itself could not (its policy runs before the index\'s operator)', async () => {
    const query = `EXPLAIN SELECT * FROM audit_events WHERE audit_search_keys(tenant, ts, action, coalesce(subject_id, '') || ' ' || summary) @> audit_search_query_keys('tenant-a', now(), 'quokka', NULL)`;
    const plan = async (db: Db) =>
      (await inTenant(db, 'tenant-a', async (tx) => {
        // The table is tiny: without these a sequential scan wins for everyone.
        await tx.exec('SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off');
        return tx.query<{ 'QUERY PLAN': string }>(query);
      })).rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(await plan(schema.ownerDb)).toMatch(/Bitmap Index Scan on audit_events_search_month_idx/);
    expect(await plan(app)).not.toMatch(/audit_events_search_month_idx/);
  });
});

describe('the tables\' owner', () => {
  it('keeps every row for this release, so pods of the release before (one role, no tenant setting) still serve', async () => {
    const { rows } = await schema.ownerDb.query<{ n: number }>(`SELECT count(DISTINCT tenant)::int AS n FROM external_sources`);
    expect(rows[0]?.n).toBe(2);
  });

  it('is whom the owner policies name after every run, even when they were left naming another role (REASSIGN OWNED)', async () => {
    await schema.db.exec(`ALTER POLICY owner_reads ON audit_events TO ${TEST_APP_ROLE}`);
    expect((await app.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events`)).rows[0]?.n).toBe(2);
    await runMigrations(schema.ownerDb, await loadMigrations(), { appRole: TEST_APP_ROLE });
    expect((await app.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events`)).rows[0]?.n).toBe(0);
    const { rows } = await schema.db.query<{ roles: string }>(
      `SELECT array_to_string(roles, ',') AS roles FROM pg_policies WHERE schemaname = $1 AND tablename = 'audit_events' AND policyname = 'owner_reads'`,
      [schema.schema],
    );
    expect(rows).toEqual([{ roles: TEST_OWNER_ROLE }]);
  });
});

describe('the grants', () => {
  it('name every table the migrations create, so a new table cannot ship without deciding what the app may do on it', async () => {
    const { rows } = await schema.db.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1`,
      [schema.schema],
    );
    expect(rows.map((row) => row.table)).toEqual(Object.keys(APP_ROLE_PRIVILEGES).sort());
  });

  it('are re-applied on every run: a privilege granted by hand is revoked by the next migration run', async () => {
    await schema.ownerDb.exec(`GRANT DELETE ON audit_events TO ${TEST_APP_ROLE}`);
    expect(await refusal('tenant-a', `DELETE FROM audit_events WHERE false`)).toBeUndefined();
    const result = await runMigrations(schema.ownerDb, await loadMigrations(), { appRole: TEST_APP_ROLE });
    expect(result).toMatchObject({ applied: [], grantedRole: TEST_APP_ROLE });
    expect(await refusal('tenant-a', `DELETE FROM audit_events WHERE false`)).toBe('42501');
  });
});
