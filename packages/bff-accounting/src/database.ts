import { createPgDb, type DatabaseUnavailableReason, type Db } from '@accounting/data-pg';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

type PostgresConfig = Extract<Config['database'], { kind: 'pg' }>;

/** What the pool tells its owner besides the statements' results. */
export interface DatabaseEvents {
  /** The database turned unreachable (`false`) or answered again (`true`); once per change. */
  onAvailabilityChange?: (available: boolean) => void;
  /** Each statement that found the database unavailable, by reason (the BFF counts them). */
  onUnavailable?: (reason: DatabaseUnavailableReason) => void;
}

/**
 * The PostgreSQL pool of the BFF, the sync worker or the migration Job, with the configured
 * timeouts. Logs a lost idle connection, and each change of the database's availability once
 * (`database unavailable` at warn, `database available again` at info), never per statement.
 */
export function connectPostgres(
  database: PostgresConfig,
  logger: Logger,
  options: DatabaseEvents & {
    max?: number;
    /** Log availability changes (default); a one-shot job that reports its own failure turns it off. */
    logAvailability?: boolean;
  } = {},
): Db {
  const logAvailability = options.logAvailability ?? true;
  return createPgDb({
    connectionString: database.url,
    max: options.max ?? database.poolMax,
    connectionTimeoutMillis: database.connectTimeoutMs,
    statementTimeoutMillis: database.statementTimeoutMs,
    lockTimeoutMillis: database.lockTimeoutMs,
    idleInTransactionTimeoutMillis: database.idleInTransactionTimeoutMs,
    onIdleError: (err) => logger.warn({ err: { message: err.message } }, 'idle database connection lost'),
    onAvailabilityChange: (change) => {
      if (logAvailability && change.available) logger.info('database available again');
      if (logAvailability && !change.available) {
        logger.warn({ reason: change.reason, err: { message: change.error } }, `database unavailable (${change.reason})`);
      }
      options.onAvailabilityChange?.(change.available);
    },
    ...(options.onUnavailable ? { onUnavailable: options.onUnavailable } : {}),
  });
}
