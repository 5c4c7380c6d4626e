import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getMigrationStatus, loadMigrations, MigrationError, type Migration } from '@accounting/data-pg';
import { createLogger } from '../src/logger.js';
import { prepareDatabase, startupRetryDelayMs } from '../src/prepareDatabase.js';
import { LogCapture } from '../../../test/support/app.js';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '../../../test/support/postgres.js';
import { TcpProxy } from '../../../test/support/tcpProxy.js';

let schema: TestSchema;
let proxy: TcpProxy;
let migrations: Migration[];

beforeAll(async () => {
  schema = await createTestSchema('vt_prepare');
  const target = new URL(TEST_DATABASE_URL);
  proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  migrations = await loadMigrations();
});
afterAll(async () => {
  await proxy?.stop();
  await schema?.drop();
});

describe('preparing the database at start-up', () => {
  it('waits 1, 2, 4, 8 then 10 s between attempts, each shortened by at most a quarter', () => {
    expect([1, 2, 3, 4, 5, 9].map((n) => startupRetryDelayMs(n, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    expect(startupRetryDelayMs(1, () => 0)).toBe(750);
  });

  it('when the database is unreachable, reports the first attempt failed, logs each attempt once, then migrates once it answers', async () => {
    await proxy.start(); // binds its port, which it keeps across stop and start
    await proxy.stop();
    const viaProxy = new URL(TEST_DATABASE_URL);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const db = schema.connect({ connectionString: viaProxy.toString(), connectionTimeoutMillis: 300 });
    const logs = new LogCapture();
    let seeded = 0;
    const preparation = prepareDatabase(db, migrations, createLogger('info', logs), async () => {
      seeded += 1;
    });

    expect(await preparation.firstAttempt).toBe(false);
    expect(preparation.isPrepared()).toBe(false);
    await proxy.start();
    await preparation.prepared;
    expect(preparation.isPrepared()).toBe(true);
    expect(seeded).toBe(1);
    expect((await getMigrationStatus(schema.db, migrations)).pending).toEqual([]);
    const attempts = logs.find('database unavailable at start-up').map((line) => line.attempt);
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts).toEqual(attempts.map((_, i) => i + 1));
    expect(logs.find('database reachable: migrations applied')).toHaveLength(1);
  });

  it('gives up at once on an error retrying cannot fix (an applied migration was edited)', async () => {
    const edited = migrations.map((m, i) => (i === 0 ? { ...m, hash: 'edited' } : m));
    const preparation = prepareDatabase(schema.db, edited, createLogger('silent'), async () => undefined);
    await expect(preparation.firstAttempt).rejects.toBeInstanceOf(MigrationError);
    await expect(preparation.prepared).rejects.toBeInstanceOf(MigrationError);
    expect(preparation.isPrepared()).toBe(false);
  });

  it('is prepared at the first attempt when the database answers', async () => {
    const preparation = prepareDatabase(schema.db, migrations, createLogger('silent'), async () => undefined);
    expect(await preparation.firstAttempt).toBe(true);
    expect(preparation.isPrepared()).toBe(true);
  });
});
