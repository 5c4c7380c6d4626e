import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendAuditEvent,
  createPgDb,
  createPgliteDb,
  listAuditEvents,
  redactDatabaseUrl,
  runMigrations,
  withTransaction,
  type Db,
} from '@accounting/data-pg';
import { createTestSchema, TEST_DATABASE_URL, urlWithSchema, type TestSchema } from '../../../test/support/postgres.js';

let schema: TestSchema;
let pglite: Db;

beforeAll(async () => {
  schema = await createTestSchema('vt_db');
  pglite = await createPgliteDb();
});
afterAll(async () => {
  await schema?.drop();
  await pglite?.close();
});

const drivers = [
  { name: 'PostgreSQL', db: () => schema.db },
  { name: 'PGlite', db: () => pglite },
];

describe.each(drivers)('database interface on $name', ({ db }) => {
  it('returns money and big ids as strings, dates as YYYY-MM-DD and timestamps as Date', async () => {
    const { rows } = await db().query<{ amount: string; big: string; day: string; at: Date }>(
      `SELECT 12000.50::numeric AS amount, 9007199254740993::bigint AS big, DATE '2026-11-20' AS day,
              TIMESTAMPTZ '2026-11-20T09:12:44Z' AS at`,
    );
    expect(rows[0]).toEqual({
      amount: '12000.50',
      big: '9007199254740993',
      day: '2026-11-20',
      at: new Date('2026-11-20T09:12:44Z'),
    });
  });

  it('commits every write of a transaction together', async () => {
    await db().exec('CREATE TABLE IF NOT EXISTS tx_ok (id int)');
    await withTransaction(db(), async (tx) => {
      await tx.query('INSERT INTO tx_ok VALUES (1)');
      await tx.query('INSERT INTO tx_ok VALUES (2)');
    });
    const { rows } = await db().query<{ n: number }>('SELECT count(*)::int AS n FROM tx_ok');
    expect(rows[0]?.n).toBe(2);
  });

  it('rolls every write back when the callback throws', async () => {
    await db().exec('CREATE TABLE IF NOT EXISTS tx_fail (id int)');
    await expect(
      withTransaction(db(), async (tx) => {
        await tx.query('INSERT INTO tx_fail VALUES (1)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await db().query<{ n: number }>('SELECT count(*)::int AS n FROM tx_fail');
    expect(rows[0]?.n).toBe(0);
  });
});

describe('prepared statements', () => {
  const text = 'SELECT $1::int * 2 AS doubled';

  it.each(drivers)('answer with each call\'s values on $name', async ({ db }) => {
    const answers = [];
    for (const value of [1, 2, 3]) answers.push((await db().query<{ doubled: number }>(text, [value], { prepare: true })).rows[0]?.doubled);
    expect(answers).toEqual([2, 4, 6]);
  });

  it('stay prepared on the PostgreSQL connection that ran them', async () => {
    const prepared = await schema.db.withSession(async (session) => {
      await session.query(text, [1], { prepare: true });
      await session.query(text, [2], { prepare: true });
      const { rows } = await session.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1', [text]);
      return rows[0]?.n;
    });
    expect(prepared).toBe(1);
  });
});

describe('PostgreSQL connections', () => {
  // Forms a DATABASE_URL takes in practice; the password ones only where the test server
  // trusts (ignores passwords), the socket one only where its directory is here.
  const url = new URL(TEST_DATABASE_URL);
  const user = url.username || 'postgres';
  const socketDir = '/var/run/postgresql';
  const forms: [string, string][] = [];
  if (!url.password) {
    forms.push(['a password with a raw %', `postgres://${user}:50%off@${url.host}${url.pathname}`]);
    forms.push(['a password with URL-encoded characters', `postgres://${user}:p%40ss%2Fw%3Drd@${url.host}${url.pathname}`]);
  }
  if (existsSync(socketDir) && url.hostname === '127.0.0.1') {
    forms.push(['a unix socket directory as host', `postgres://${user}@${url.pathname}?host=${socketDir}&port=${url.port || 5432}`]);
  }
  it.skipIf(forms.length === 0).each(forms)('connect without JIT from a URL with %s', async (_form, connectionString) => {
    const db = createPgDb({ connectionString, max: 1 });
    try {
      const { rows } = await db.query<{ jit: string }>(`SELECT current_setting('jit') AS jit`);
      expect(rows[0]?.jit).toBe('off');
    } finally {
      await db.close();
    }
  });

  it('run without JIT compilation, also when DATABASE_URL carries its own options', async () => {
    const db = createPgDb({ connectionString: urlWithSchema(TEST_DATABASE_URL, schema.schema), max: 2 });
    try {
      // Two queries at once open two connections: each gets the setting, and the URL's own stays.
      const answers = await Promise.all([0, 1].map(() => db.query<{ jit: string; path: string }>(`SELECT current_setting('jit') AS jit, current_schema() AS path`)));
      expect(answers.map((answer) => answer.rows[0])).toEqual([
        { jit: 'off', path: schema.schema },
        { jit: 'off', path: schema.schema },
      ]);
    } finally {
      await db.close();
    }
  });
});

describe('redactDatabaseUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactDatabaseUrl('postgres://app:s3cret@db:5432/app')).toBe('postgres://app:***@db:5432/app');
    expect(redactDatabaseUrl('not a url')).not.toContain('not a url');
  });
});

describe('PGlite with a data directory', () => {
  it('keeps data and applied migrations across a restart', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'pglite-')), 'data');

    const first = await createPgliteDb(dir);
    await runMigrations(first);
    await appendAuditEvent(first, 'default', { actorRole: 'operator', action: 'kept', subjectId: 'restart-1' });
    await first.close();

    const second = await createPgliteDb(dir);
    try {
      expect((await runMigrations(second)).applied).toEqual([]);
      const { items: events } = await listAuditEvents(second, 'default', { limit: 10 });
      expect(events.map((e) => e.subject_id)).toEqual(['restart-1']);
    } finally {
      await second.close();
    }
  });
});
