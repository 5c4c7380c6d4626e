import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getMigrationStatus, loadMigrations } from '@accounting/data-pg';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestSchema, TEST_APP_ROLE, TEST_DATABASE_URL, TEST_OWNER_ROLE, urlAsRole, urlWithSchema, type TestSchema } from '../../../test/support/postgres.js';
import { spawnNode, type NodeProcess } from '../../../test/support/process.js';

/** What the chart's migration hook Job runs (`node packages/bff-accounting/dist/migrate.js`). */
const MIGRATE_ENTRY = fileURLToPath(new URL('../dist/migrate.js', import.meta.url));

let schema: TestSchema;
let migrationNames: string[];
const spawned: NodeProcess[] = [];

function migrate(env: Record<string, string>): NodeProcess {
  const child = spawnNode(MIGRATE_ENTRY, [], env);
  spawned.push(child);
  return child;
}

/** The one JSON line the entry point logs. */
function logLine(child: NodeProcess): Record<string, unknown> {
  const lines = child.stdout.filter((line) => line.trim() !== '');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] ?? '') as Record<string, unknown>;
}

beforeAll(async () => {
  if (!existsSync(MIGRATE_ENTRY)) throw new Error(`${MIGRATE_ENTRY} is missing: run "pnpm build" first`);
  migrationNames = (await loadMigrations()).map((migration) => migration.name);
});
beforeEach(async () => {
  schema = await createTestSchema('vt_migrate');
});
afterEach(async () => {
  for (const child of spawned.splice(0)) if (child.child.exitCode === null) child.child.kill('SIGKILL');
  await schema.drop();
});

describe('dist/migrate.js (the chart\'s migration hook)', () => {
  it('applies every migration to an empty database, logs one JSON line naming them, and exits 0', async () => {
    const run = migrate({ DATABASE_URL: schema.url });
    expect(await run.exited).toBe(0);
    expect(logLine(run)).toMatchObject({ level: 'info', component: 'migrate', applied: migrationNames, unknown: [], known: migrationNames.length });
    expect(await getMigrationStatus(schema.db, await loadMigrations())).toEqual({ pending: [], changed: [], unknown: [] });
    const { rows } = await schema.db.query<{ present: boolean }>(`SELECT to_regclass('external_ledger') IS NOT NULL AS present`);
    expect(rows[0]?.present).toBe(true);
  });

  it('runs as the owner role of MIGRATION_DATABASE_URL, which then owns every table, and grants the role of DATABASE_URL', async () => {
    const run = migrate({
      DATABASE_URL: urlWithSchema(urlAsRole(TEST_DATABASE_URL, TEST_APP_ROLE), schema.schema),
      MIGRATION_DATABASE_URL: urlWithSchema(urlAsRole(TEST_DATABASE_URL, TEST_OWNER_ROLE), schema.schema),
    });
    expect(await run.exited).toBe(0);
    expect(logLine(run)).toMatchObject({ applied: migrationNames, granted_role: TEST_APP_ROLE });
    const { rows: owners } = await schema.db.query<{ owner: string }>(
      `SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [schema.schema],
    );
    expect(owners).toEqual([{ owner: TEST_OWNER_ROLE }]);
    const { rows: grants } = await schema.db.query<{ privilege: string }>(
      `SELECT privilege_type AS privilege FROM information_schema.role_table_grants
       WHERE grantee = $1 AND table_schema = $2 AND table_name = 'audit_events' ORDER BY 1`,
      [TEST_APP_ROLE, schema.schema],
    );
    expect(grants.map((row) => row.privilege)).toEqual(['INSERT', 'SELECT']);

    // A BFF or worker started as the application's role afterwards finds nothing pending, and may check so.
    const asApp = migrate({ DATABASE_URL: urlWithSchema(urlAsRole(TEST_DATABASE_URL, TEST_APP_ROLE), schema.schema) });
    expect(await asApp.exited).toBe(0);
    expect(logLine(asApp)).toMatchObject({ applied: [] });
  });

  it('exits 1, naming the refusal, when the application\'s role alone is asked to create the tables', async () => {
    const run = migrate({ DATABASE_URL: urlWithSchema(urlAsRole(TEST_DATABASE_URL, TEST_APP_ROLE), schema.schema) });
    expect(await run.exited).toBe(1);
    expect(logLine(run)).toMatchObject({ level: 'error', msg: 'migrations failed', err: { message: expect.stringMatching(/pending .* but role accounting_test_app may not create tables .*MIGRATION_DATABASE_URL/) } });
  });

  it('applies nothing on a database that is up to date, and exits 0', async () => {
    expect(await migrate({ DATABASE_URL: schema.url }).exited).toBe(0);
    const again = migrate({ DATABASE_URL: schema.url });
    expect(await again.exited).toBe(0);
    expect(logLine(again)).toMatchObject({ applied: [], msg: `migrations: 0 applied, ${migrationNames.length} known` });
  });

  it('exits 1 when an applied migration was edited after it ran', async () => {
    expect(await migrate({ DATABASE_URL: schema.url }).exited).toBe(0);
    await schema.db.query(`UPDATE schema_migrations SET hash = 'edited' WHERE name = $1`, [migrationNames[0]]);
    const run = migrate({ DATABASE_URL: schema.url });
    expect(await run.exited).toBe(1);
    expect(logLine(run)).toMatchObject({ level: 'error', msg: 'migrations failed' });
    expect(run.stdout.join('\n')).toContain(`applied migration ${migrationNames[0]} was edited after it ran`);
  });

  it('exits 1 without DATABASE_URL, saying it is needed', async () => {
    const run = migrate({});
    expect(await run.exited).toBe(1);
    expect(run.stderr.join('')).toContain('DATABASE_URL must be set');
  });

  it('exits 1 when the database is unreachable, and never logs the password', async () => {
    const run = migrate({ DATABASE_URL: 'postgres://app:s3cret-password@127.0.0.1:1/app' });
    expect(await run.exited).toBe(1);
    expect(logLine(run)).toMatchObject({ level: 'error', msg: 'migrations failed' });
    expect(`${run.stdout.join('\n')}${run.stderr.join('')}`).not.toContain('s3cret-password');
  });
});
