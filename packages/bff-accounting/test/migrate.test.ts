import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getMigrationStatus, loadMigrations } from '@accounting/data-pg';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
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
