import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPgliteDb,
  getMigrationStatus,
  loadMigrations,
  MIGRATIONS_DIR,
  MigrationError,
  runMigrations,
  type Db,
} from '@accounting/data-pg';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

async function copyMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

async function tableNames(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`,
  );
  return rows.map((row) => row.table_name);
}

/**
 * The same behaviour on both drivers. `fresh()` gives an empty schema; PGlite shares one
 * in-memory instance and isolates tests by schema too.
 */
const drivers: { name: string; setup: () => Promise<{ fresh: () => Promise<Db>; teardown: () => Promise<void> }> }[] = [
  {
    name: 'PostgreSQL',
    setup: async () => {
      const schemas: TestSchema[] = [];
      return {
        fresh: async () => {
          const schema = await createTestSchema('vt_mig');
          schemas.push(schema);
          return schema.db;
        },
        teardown: async () => {
          await Promise.all(schemas.map((s) => s.drop()));
        },
      };
    },
  },
  {
    name: 'PGlite',
    setup: async () => {
      const pglite = await createPgliteDb();
      let n = 0;
      return {
        fresh: async () => {
          n += 1;
          await pglite.exec(`CREATE SCHEMA s${n}; SET search_path TO s${n}`);
          return pglite;
        },
        teardown: () => pglite.close(),
      };
    },
  },
];

describe.each(drivers)('migration runner on $name', ({ setup }) => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('applies every migration in order, records name and hash, and creates the tables', async () => {
    const db = await env.fresh();
    const migrations = await loadMigrations();
    const result = await runMigrations(db, migrations);
    expect(result.applied).toEqual(migrations.map((m) => m.name));
    expect(result.applied[0]).toBe('001_audit_events.sql');
    const { rows } = await db.query<{ name: string; hash: string }>('SELECT name, hash FROM schema_migrations ORDER BY name');
    expect(rows).toEqual(migrations.map((m) => ({ name: m.name, hash: m.hash })));
    expect(await tableNames(db)).toEqual(expect.arrayContaining(['audit_events', 'idempotency_keys', 'schema_migrations']));
    expect(await getMigrationStatus(db, migrations)).toEqual({ pending: [], changed: [], unknown: [] });
  });

  it('is a no-op when run again', async () => {
    const db = await env.fresh();
    await runMigrations(db);
    const again = await runMigrations(db);
    expect(again.applied).toEqual([]);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]?.n).toBe((await loadMigrations()).length);
  });

  it('refuses to go on when an applied migration file was edited, and applies nothing', async () => {
    const db = await env.fresh();
    const dir = await copyMigrations();
    await runMigrations(db, await loadMigrations(dir));
    const first = join(dir, '001_audit_events.sql');
    await writeFile(first, `${await readFile(first, 'utf8')}\n-- edited after the fact\n`);
    await writeFile(join(dir, '900_later.sql'), 'CREATE TABLE later_table (id int);');

    const edited = await loadMigrations(dir);
    await expect(runMigrations(db, edited)).rejects.toThrow(/001_audit_events\.sql was edited after it ran/);
    await expect(runMigrations(db, edited)).rejects.toBeInstanceOf(MigrationError);
    expect(await tableNames(db)).not.toContain('later_table');
    expect((await getMigrationStatus(db, edited)).changed).toEqual(['001_audit_events.sql']);
  });

  it('rolls a failing migration back whole and records nothing for it', async () => {
    const db = await env.fresh();
    const dir = await copyMigrations();
    await writeFile(join(dir, '900_broken.sql'), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();');
    await expect(runMigrations(db, await loadMigrations(dir))).rejects.toThrow(/900_broken\.sql failed and was rolled back/);
    expect(await tableNames(db)).not.toContain('half_done');
    const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations');
    expect(rows.map((r) => r.name)).not.toContain('900_broken.sql');
  });

  it('reports applied migrations this code does not know, without failing (a rollback runs older code)', async () => {
    const db = await env.fresh();
    const dir = await copyMigrations();
    await writeFile(join(dir, '900_newer.sql'), 'CREATE TABLE newer_table (id int);');
    await runMigrations(db, await loadMigrations(dir));
    const older = await loadMigrations();
    const result = await runMigrations(db, older);
    expect(result).toEqual({ applied: [], unknown: ['900_newer.sql'] });
  });

  it('keeps audit events append-only', async () => {
    const db = await env.fresh();
    await runMigrations(db);
    await db.query(`INSERT INTO audit_events (tenant, actor_role, action) VALUES ('default', 'operator', 'test')`);
    await expect(db.query(`UPDATE audit_events SET summary = 'changed'`)).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
  });
});

describe('migration files', () => {
  it('rejects a file that is not NNN_name.sql', async () => {
    const dir = await copyMigrations();
    await writeFile(join(dir, 'add_column.sql'), 'SELECT 1;');
    await expect(loadMigrations(dir)).rejects.toThrow(/add_column\.sql does not match NNN_name\.sql/);
  });

  it('rejects two files with the same number', async () => {
    const dir = await copyMigrations();
    await writeFile(join(dir, '001_again.sql'), 'SELECT 1;');
    await expect(loadMigrations(dir)).rejects.toThrow(/share the number 001/);
  });
});

describe('concurrent runners on PostgreSQL', () => {
  let schema: TestSchema;
  beforeAll(async () => {
    schema = await createTestSchema('vt_migc');
  });
  afterAll(async () => {
    await schema?.drop();
  });

  it('serialize on the advisory lock: each file is applied exactly once', async () => {
    const dir = await copyMigrations();
    // Slow enough that unserialized runners would overlap, and not re-runnable: a second
    // application of this file would fail on the duplicate table.
    await writeFile(join(dir, '900_slow.sql'), 'SELECT pg_sleep(0.3);\nCREATE TABLE applied_once (id int);');
    const migrations = await loadMigrations(dir);
    const runners = Array.from({ length: 4 }, () => schema.connect());

    const results = await Promise.all(runners.map((db) => runMigrations(db, migrations)));

    const appliedBy = results.map((r) => r.applied.length);
    expect(appliedBy.filter((n) => n === migrations.length)).toHaveLength(1);
    expect(appliedBy.filter((n) => n === 0)).toHaveLength(3);
    const { rows } = await schema.db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]?.n).toBe(migrations.length);
  });
});
