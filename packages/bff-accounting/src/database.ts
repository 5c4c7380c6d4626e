import { createPgDb, runMigrations, type DatabaseUnavailableReason, type Db, type Migration, type RunMigrationsResult } from '@accounting/data-pg';
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

/**
 * Applies `migrations` as the role that owns the tables: the user of `MIGRATION_DATABASE_URL`
 * when it is set (a one-connection pool, closed afterwards), granting the application's role
 * (the user of `DATABASE_URL`) exactly its privileges; otherwise on `db`, whose role owns
 * everything (one role, as in the embedded demo). With two roles and nothing pending, the
 * application's role may run this on `db` too: it only reads `schema_migrations`.
 */
export async function migrateDatabase(
  database: Config['database'],
  db: Db,
  migrations: readonly Migration[],
  logger: Logger,
): Promise<RunMigrationsResult> {
  if (database.kind !== 'pg' || !database.migrationUrl) return runMigrations(db, migrations);
  const owner = connectPostgres({ ...database, url: database.migrationUrl }, logger, { max: 1, logAvailability: false });
  try {
    return await runMigrations(owner, migrations, database.appRole ? { appRole: database.appRole } : {});
  } finally {
    await owner.close();
  }
}
