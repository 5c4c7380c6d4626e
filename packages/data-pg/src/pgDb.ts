import { createHash } from 'node:crypto';
import pg from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { asDatabaseError, unavailableReason, type DatabaseUnavailableReason } from './databaseErrors.js';
import { beginScoped, PG_TYPE, redactDatabaseUrl, type Db, type Queryable, type QueryOptions, type QueryResult, type Session, type TransactionScope } from './db.js';

export interface PgDbOptions {
  connectionString: string;
  /** Pool size. */
  max?: number;
  /** How long to wait for a new connection before failing, in ms. */
  connectionTimeoutMillis?: number;
  /** Server-side `statement_timeout`, in ms (0 or absent: the server's default). */
  statementTimeoutMillis?: number;
  /** Server-side `lock_timeout`, in ms (0 or absent: the server's default). */
  lockTimeoutMillis?: number;
  /** Server-side `idle_in_transaction_session_timeout`, in ms (0 or absent: the server's default). */
  idleInTransactionTimeoutMillis?: number;
  /** Schema to put first on the search_path (tests give each file its own). */
  schema?: string;
  /** Called when an idle pooled connection fails (e.g. the server restarted). */
  onIdleError?: (err: Error) => void;
  /**
   * Called when the database turns unavailable (a statement failed with a `DatabaseUnavailableError`)
   * and when it is available again (the next statement that succeeds): once per change.
   */
  onAvailabilityChange?: (change: { available: true } | { available: false; reason: DatabaseUnavailableReason; error: string }) => void;
  /** Called for every statement that failed with a `DatabaseUnavailableError`, with its reason (for a counter). */
  onUnavailable?: (reason: DatabaseUnavailableReason) => void;
}

const identity = (value: string): string => value;

/** Type parsers shared by every pool: money and ids stay strings, dates stay calendar dates. */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === PG_TYPE.INT8 || oid === PG_TYPE.DATE) return identity;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

function toResult<R>(result: pg.QueryResult): QueryResult<R> {
  return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
}

/** Names of the statements kept prepared, by text: a small set (QueryOptions.prepare), hashed once each. */
const preparedNames = new Map<string, string>();

/** The statement for `pg`: named after its text when it is to stay prepared. */
function statement(text: string, params: readonly unknown[] | undefined, options: QueryOptions | undefined): pg.QueryConfig {
  const values = params as unknown[] | undefined;
  if (!options?.prepare) return { text, values };
  let name = preparedNames.get(text);
  if (name === undefined) {
    // The same text gets the same name on every connection; PostgreSQL allows 63 bytes.
    name = `p_${createHash('sha256').update(text).digest('base64url').slice(0, 40)}`;
    preparedNames.set(text, name);
  }
  return { name, text, values };
}

/**
 * The pool's connection settings from `connectionString`, with `settings` (`-c name=value`)
 * ahead of the URL's own `options`, which win where both set a name. Parsed here, as `pg`
 * parses it, because `pg` drops an `options` passed beside a URL that has its own.
 */
function connectionConfig(connectionString: string, settings: readonly string[]): pg.ClientConfig {
  const parsed = parseIntoClientConfig(connectionString);
  return { ...parsed, options: [...settings, parsed.options ?? ''].join(' ').trim() };
}

/** Timeouts as `-c name=value` startup options, so every connection of the pool has them from its start. */
function timeoutSettings(options: PgDbOptions): string[] {
  const settings: [string, number | undefined][] = [
    ['statement_timeout', options.statementTimeoutMillis],
    ['lock_timeout', options.lockTimeoutMillis],
    ['idle_in_transaction_session_timeout', options.idleInTransactionTimeoutMillis],
  ];
  return settings.flatMap(([name, ms]) => (ms ? [`-c ${name}=${ms}`] : []));
}

/**
 * Whether the database answers, as the statements see it: turns `false` on a statement that
 * could not reach it (`unreachable`), `true` again on the next one that succeeds, and reports
 * each change once. A timeout, a full pool or a conflict is the statement's trouble, not the
 * database's: reported to `onUnavailable` only, so a slow query does not flap the state.
 */
function availabilityTracker(onChange: PgDbOptions['onAvailabilityChange'], onUnavailable: PgDbOptions['onUnavailable']) {
  let available = true;
  return {
    succeeded() {
      if (available) return;
      available = true;
      onChange?.({ available: true });
    },
    /** `err` as the caller should see it: a `DatabaseUnavailableError` when the database is unavailable. */
    failed(err: unknown): unknown {
      const mapped = asDatabaseError(err);
      const reason = unavailableReason(mapped);
      if (reason) onUnavailable?.(reason);
      if (reason === 'unreachable' && available) {
        available = false;
        const cause = (mapped as Error).cause;
        onChange?.({ available: false, reason, error: cause instanceof Error ? cause.message : String(cause) });
      }
      return mapped;
    },
  };
}

/**
 * A client checked out of `pool`, with an `error` listener for as long as it is out: pg-pool
 * listens only on idle clients, and a checked-out client whose connection dies (a server restart,
 * a killed backend) would otherwise emit an unhandled `error` and crash the process. Such a
 * client is destroyed on release.
 */
async function checkOut(pool: pg.Pool): Promise<{ client: pg.PoolClient; release: (err?: Error) => void }> {
  const client = await pool.connect();
  let lost: Error | undefined;
  const onError = (err: Error) => {
    lost = err;
  };
  client.on('error', onError);
  return {
    client,
    release(err?: Error) {
      client.off('error', onError);
      client.release(err ?? lost);
    },
  };
}

/** A `Db` over a `pg.Pool` (real PostgreSQL). */
export function createPgDb(options: PgDbOptions): Db {
  // No JIT compilation: every statement here is meant to take milliseconds, and one whose
  // estimate is far off (a search over many months, whose per-month index lookups PostgreSQL
  // cannot estimate) would otherwise spend 100 ms and more compiling.
  const settings = ['-c jit=off', ...timeoutSettings(options)];
  if (options.schema) settings.push(`-c search_path=${options.schema},public`);
  const pool = new pg.Pool({
    ...connectionConfig(options.connectionString, settings),
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
    idleTimeoutMillis: 30_000,
    // TCP keepalive notices a server that vanished without closing (a failover, a cut network).
    keepAlive: true,
    types: typeParsers,
  });
  // An idle client that loses its server emits 'error' on the pool; unhandled, it would crash
  // the process. The pool drops that client and the next query opens a fresh one.
  pool.on('error', (err) => options.onIdleError?.(err));
  const availability = availabilityTracker(options.onAvailabilityChange, options.onUnavailable);

  /** Runs `fn`, reporting success or the database's unavailability. */
  async function tracked<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      availability.succeeded();
      return result;
    } catch (err) {
      throw availability.failed(err);
    }
  }

  function clientQueryable(client: pg.PoolClient): Queryable {
    return {
      async query<R>(text: string, params?: readonly unknown[], queryOptions?: QueryOptions) {
        return tracked(async () => toResult<R>(await client.query(statement(text, params, queryOptions))));
      },
      async exec(script: string) {
        await tracked(() => client.query(script));
      },
    };
  }

  async function runInTransaction<T>(client: pg.PoolClient, fn: (tx: Queryable) => Promise<T>, scope?: TransactionScope): Promise<T> {
    const tx = clientQueryable(client);
    await tx.exec(beginScoped(scope, (value) => client.escapeLiteral(value)));
    try {
      const result = await fn(tx);
      await tx.exec('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection is in an unknown state: tell the caller so it destroys the client.
        (err as { connectionBroken?: Error }).connectionBroken = rollbackError as Error;
      }
      throw err;
    }
  }

  return {
    kind: 'pg',
    description: `postgres ${redactDatabaseUrl(options.connectionString)}${options.schema ? ` (schema ${options.schema})` : ''}`,
    async query<R>(text: string, params?: readonly unknown[], queryOptions?: QueryOptions) {
      return tracked(async () => toResult<R>(await pool.query(statement(text, params, queryOptions))));
    },
    async exec(script: string) {
      await tracked(() => pool.query(script));
    },
    async withSession<T>(fn: (session: Session) => Promise<T>) {
      const { client, release } = await tracked(() => checkOut(pool));
      let broken: Error | undefined;
      try {
        const session: Session = {
          ...clientQueryable(client),
          transaction: (inner, scope) => runInTransaction(client, inner, scope),
        };
        return await fn(session);
      } catch (err) {
        broken = err instanceof Error ? err : new Error(String(err));
        throw err;
      } finally {
        // A client whose session may hold state (a lock, an aborted transaction) is destroyed.
        release(broken);
      }
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>, scope?: TransactionScope) {
      const { client, release } = await tracked(() => checkOut(pool));
      let broken: Error | undefined;
      try {
        return await runInTransaction(client, fn, scope);
      } catch (err) {
        broken = (err as { connectionBroken?: Error }).connectionBroken;
        throw err;
      } finally {
        release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}
