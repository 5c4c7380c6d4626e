import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDb, DatabaseUnavailableError, unavailableReason, type Db } from '@accounting/data-pg';
import { TEST_DATABASE_URL } from '../../../test/support/postgres.js';

/**
 * Faults of the shared server that hit only this file's own connections: a killed backend, the
 * server's timeouts, a full pool. (Stopping a server is test/databaseFaults.test.ts, on a
 * cluster of its own.)
 */

const opened: Db[] = [];
function open(options: Partial<Parameters<typeof createPgDb>[0]> = {}): Db {
  const db = createPgDb({ connectionString: TEST_DATABASE_URL, max: 2, onIdleError: () => undefined, ...options });
  opened.push(db);
  return db;
}

let admin: pg.Client;
beforeAll(async () => {
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
});
afterAll(async () => {
  await Promise.all(opened.map((db) => db.close().catch(() => undefined)));
  await admin?.end();
});

const backendPid = async (db: Pick<Db, 'query'>) => (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
const terminate = (pid: number) => admin.query('SELECT pg_terminate_backend($1)', [pid]);

describe('a connection lost while checked out of the pool', () => {
  // Without a listener on the checked-out client, its 'error' event is unhandled: the process
  // (here the test worker) dies. vitest fails the run on such an error.
  it('does not crash the process when the backend of an open transaction is killed between statements', async () => {
    const db = open();
    const result = db.transaction(async (tx) => {
      await terminate(await backendPid(tx));
      await sleep(300); // the server's FATAL message arrives while the client is idle, checked out
      await tx.query('SELECT 1');
    });
    const err = await result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect((err as DatabaseUnavailableError).reason).toBe('unreachable');
    // The broken client was destroyed; the next statement gets a fresh connection.
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('does not crash the process when the backend of a session is killed while the session waits', async () => {
    const db = open();
    const err = await db
      .withSession(async (session) => {
        await terminate(await backendPid(session));
        await sleep(300);
        await session.query('SELECT 1');
      })
      .catch((e: unknown) => e);
    expect(unavailableReason(err)).toBe('unreachable');
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('reports a killed backend of a plain query as unavailable, then recovers', async () => {
    const changes: unknown[] = [];
    const db = open({ max: 1, onAvailabilityChange: (change) => changes.push(change.available) });
    const pid = await backendPid(db);
    const running = db.query('SELECT pg_sleep(5)').catch((e: unknown) => e);
    await sleep(200);
    await terminate(pid);
    expect(unavailableReason(await running)).toBe('unreachable');
    await db.query('SELECT 1');
    expect(changes).toEqual([false, true]);
  });
});

describe("the server's timeouts, from the pool's settings", () => {
  it('counts a timed-out statement without calling the database unavailable', async () => {
    const changes: boolean[] = [];
    const reasons: string[] = [];
    const db = open({
      statementTimeoutMillis: 100,
      onAvailabilityChange: (change) => changes.push(change.available),
      onUnavailable: (reason) => reasons.push(reason),
    });
    await db.query('SELECT pg_sleep(1)').catch(() => undefined);
    await db.query('SELECT 1');
    expect(reasons).toEqual(['timeout']);
    expect(changes).toEqual([]);
  });

  it('answers a deadlock as unavailable (conflict), to be retried', async () => {
    const db = open({ max: 2 });
    const err = await db.query(`DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01', MESSAGE = 'deadlock detected'; END $$`).catch((e: unknown) => e);
    expect(unavailableReason(err)).toBe('conflict');
  });

  it('ends a statement past statement_timeout as unavailable (timeout)', async () => {
    const db = open({ statementTimeoutMillis: 200 });
    const err = await db.query('SELECT pg_sleep(2)').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect((err as DatabaseUnavailableError).reason).toBe('timeout');
    expect((err as Error).message).not.toMatch(/pg_sleep|SELECT/);
  });

  it('ends a lock wait past lock_timeout as unavailable (lock_timeout)', async () => {
    const db = open({ lockTimeoutMillis: 200 });
    await admin.query('SELECT pg_advisory_lock(424242)');
    try {
      const err = await db.query('SELECT pg_advisory_lock(424242)').catch((e: unknown) => e);
      expect(unavailableReason(err)).toBe('lock_timeout');
    } finally {
      await admin.query('SELECT pg_advisory_unlock(424242)');
    }
  });

  it('ends a transaction left idle past idle_in_transaction_session_timeout, without crashing', async () => {
    const db = open({ idleInTransactionTimeoutMillis: 200 });
    const err = await db
      .transaction(async (tx) => {
        await tx.query('SELECT 1');
        await sleep(600);
        await tx.query('SELECT 1');
      })
      .catch((e: unknown) => e);
    // The server ends the session (25P03), which the client sees as a lost connection.
    expect(['timeout', 'unreachable']).toContain(unavailableReason(err));
    // The ended connection was replaced: a new backend answers.
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('sets the timeouts on every connection of the pool', async () => {
    const db = open({ statementTimeoutMillis: 1234, lockTimeoutMillis: 567, idleInTransactionTimeoutMillis: 8910 });
    const { rows } = await db.query<Record<string, string>>(
      `SELECT current_setting('statement_timeout') AS statement, current_setting('lock_timeout') AS lock,
              current_setting('idle_in_transaction_session_timeout') AS idle`,
    );
    expect(rows[0]).toEqual({ statement: '1234ms', lock: '567ms', idle: '8910ms' });
  });
});

describe('a full pool', () => {
  it('answers unavailable (exhausted) when no connection frees up in time, and serves again once one does', async () => {
    const db = open({ max: 1, connectionTimeoutMillis: 200 });
    let release: () => void = () => undefined;
    const held = db.withSession(() => new Promise<void>((resolve) => (release = resolve)));
    await sleep(100);
    const err = await db.query('SELECT 1').catch((e: unknown) => e);
    expect(unavailableReason(err)).toBe('exhausted');
    release();
    await held;
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});

describe('a server that is not there', () => {
  it('is unavailable (unreachable), with a message that names neither host nor credentials', async () => {
    const db = open({ connectionString: 'postgres://secret_user:hunter2@127.0.0.1:1/nowhere', connectionTimeoutMillis: 500 });
    const err = await db.query('SELECT 1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect((err as Error).message).not.toMatch(/hunter2|secret_user|127\.0\.0\.1/);
  });

  it('leaves errors that are the statement\'s own as they are', async () => {
    const db = open();
    const err = await db.query('SELECT * FROM no_such_table').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(DatabaseUnavailableError);
    expect((err as { code?: string }).code).toBe('42P01');
  });
});
