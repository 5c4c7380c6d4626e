import { loadMigrations, setAuditChainKeyring } from '@accounting/data-pg';
import { ConfigError, loadConfig } from './config.js';
import { auditChainKeyring } from './auditChainKeys.js';
import { connectPostgres, migrateDatabase } from './database.js';
import { createLogger } from './logger.js';

/**
 * The migrations entry point: `node packages/bff-accounting/dist/migrate.js`, run by the Helm
 * chart's pre-install/pre-upgrade hook Job before new pods start. Applies the pending
 * migrations to the PostgreSQL at `DATABASE_URL` (under the runner's advisory lock, so a BFF
 * starting meanwhile waits), as the owner role of `MIGRATION_DATABASE_URL` when it is set (then
 * granting the role of `DATABASE_URL` its privileges), logs one JSON line and resolves with the exit code: 0 when the
 * database is up to date, 1 on a bad configuration or a migration that failed (rolled back).
 */
export async function migrate(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config;
  try {
    // Like the sync worker, this always talks to the shared PostgreSQL: DATABASE_URL alone selects it.
    config = loadConfig({ ...env, USE_PG: env.USE_PG || (env.DATABASE_URL ? '1' : '') });
    if (config.database.kind !== 'pg') throw new ConfigError('invalid configuration: DATABASE_URL must be set for the migrations');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`bff-accounting migrate: ${err.message}\n`);
    return 1;
  }

  const logger = createLogger(config.logLevel).child({ component: 'migrate' });
  // Rows written before migration 011 are chained by the runner, with this key.
  setAuditChainKeyring(auditChainKeyring(config.auditChain));
  const db = connectPostgres(config.database, logger, { max: 2, logAvailability: false });
  try {
    const migrations = await loadMigrations();
    const { applied, unknown, grantedRole, auditChained } = await migrateDatabase(config.database, db, migrations, logger);
    logger.info(
      { applied, unknown, known: migrations.length, database: db.description, ...(grantedRole ? { granted_role: grantedRole } : {}), ...(auditChained ? { audit_chained: auditChained } : {}) },
      `migrations: ${applied.length} applied, ${migrations.length} known`,
    );
    if (unknown.length > 0) logger.warn({ unknown }, 'the database has migrations this release does not know (newer release ran?)');
    return 0;
  } catch (err) {
    // MigrationError and connection errors carry no credential (the URL is never in them).
    logger.error({ err: { message: err instanceof Error ? err.message : String(err) }, database: db.description }, 'migrations failed');
    return 1;
  } finally {
    await db.close();
  }
}

process.exitCode = await migrate();
