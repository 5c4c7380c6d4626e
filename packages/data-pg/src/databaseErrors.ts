/**
 * Why the database could not serve a statement, when that is the database's state and not the
 * statement's fault: the caller may retry later, unchanged.
 * - `unreachable`: no connection (server down, restarting, failing over, network cut, backend killed);
 * - `timeout`: `statement_timeout` or `idle_in_transaction_session_timeout` ended it;
 * - `lock_timeout`: it waited longer than `lock_timeout` for a lock;
 * - `exhausted`: no connection free in the pool in time, or the server refuses more connections;
 * - `conflict`: the server ended the transaction to break a deadlock or a serialization conflict;
 * - `starting`: the service's start-up migrations have not run yet (the database was down at start).
 */
export type DatabaseUnavailableReason = 'unreachable' | 'timeout' | 'lock_timeout' | 'exhausted' | 'conflict' | 'starting';

/**
 * The database could not serve the statement for a reason that passes (a restart, a failover,
 * a timeout, a full pool). The API answers it `503 DATABASE_UNAVAILABLE` with `Retry-After`;
 * its message never holds SQL or a credential.
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  constructor(
    readonly reason: DatabaseUnavailableReason,
    options?: { cause?: unknown },
  ) {
    super(MESSAGES[reason], options);
  }
}

const MESSAGES: Record<DatabaseUnavailableReason, string> = {
  unreachable: 'the database is unreachable',
  timeout: 'the database statement timed out',
  lock_timeout: 'the database statement waited too long for a lock',
  exhausted: 'no database connection is free',
  conflict: 'the database ended the transaction to resolve a conflict with another one',
  starting: 'the service is starting: its database migrations have not run yet',
};

/** SQLSTATE codes (https://www.postgresql.org/docs/current/errcodes-appendix.html) that mean "try again later". */
const SQLSTATE_REASONS: Readonly<Record<string, DatabaseUnavailableReason>> = {
  '57P01': 'unreachable', // admin_shutdown: the server is stopping (fast shutdown, failover)
  '57P02': 'unreachable', // crash_shutdown
  '57P03': 'unreachable', // cannot_connect_now: starting up or in recovery
  '57P05': 'unreachable', // idle_session_timeout
  '25P03': 'timeout', // idle_in_transaction_session_timeout
  '57014': 'timeout', // query_canceled: statement_timeout (or pg_cancel_backend)
  '55P03': 'lock_timeout', // lock_not_available: lock_timeout
  '53300': 'exhausted', // too_many_connections
  '25006': 'unreachable', // read_only_sql_transaction: connected to a standby (during a failover)
  '40001': 'conflict', // serialization_failure
  '40P01': 'conflict', // deadlock_detected
};

/** Node socket errors of a connection that cannot be made or was lost. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT']);

/** Messages `pg` and `pg-pool` raise without a code when a connection is lost or cannot be had. */
const LOST_CONNECTION = /^(Connection terminated|Client has encountered a connection error|Client was closed|Connection ended)/;
const POOL_TIMEOUT = /^timeout exceeded when trying to connect$/;

/** The reason `err` says the database is unavailable, or `undefined` for any other error. */
export function unavailableReason(err: unknown): DatabaseUnavailableReason | undefined {
  if (err instanceof DatabaseUnavailableError) return err.reason;
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('08')) return 'unreachable'; // class 08: connection exception
    if (SQLSTATE_REASONS[code]) return SQLSTATE_REASONS[code];
    if (SOCKET_CODES.has(code)) return 'unreachable';
  }
  if (POOL_TIMEOUT.test(err.message)) return 'exhausted';
  if (LOST_CONNECTION.test(err.message)) return 'unreachable';
  // AggregateError of several connection attempts (e.g. localhost resolving to ::1 and 127.0.0.1).
  if (err instanceof AggregateError && err.errors.length > 0 && err.errors.every((inner) => unavailableReason(inner) === 'unreachable')) {
    return 'unreachable';
  }
  return undefined;
}

/** `err` as a `DatabaseUnavailableError` when it means the database is unavailable; otherwise `err` itself. */
export function asDatabaseError(err: unknown): unknown {
  if (err instanceof DatabaseUnavailableError) return err;
  const reason = unavailableReason(err);
  return reason ? new DatabaseUnavailableError(reason, { cause: err }) : err;
}
