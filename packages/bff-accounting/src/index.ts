import { createPgDb, createPgliteDb, loadMigrations, readSyncMetrics, runMigrations, type Db } from '@accounting/data-pg';
import { createApp } from './app.js';
import { startEmbeddedBank } from './embeddedBank.js';
import { startBackgroundJobs } from './housekeeping.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createReadinessCheck, type Lifecycle } from './readiness.js';
import { listen } from './server.js';
import { seedConfiguredSources } from './worker/syncWorker.js';

async function openDatabase(config: Config, logger: Logger): Promise<Db> {
  if (config.database.kind === 'pg') {
    return createPgDb({
      connectionString: config.database.url,
      max: config.database.poolMax,
      onIdleError: (err) => logger.warn({ err: { message: err.message } }, 'idle database connection lost'),
    });
  }
  return createPgliteDb(config.database.dataDir);
}

function logPolicyPosture(config: Config, logger: Logger): void {
  const { policy } = config;
  if (policy.tenantAllowlist === undefined) {
    logger.warn('OS_TENANT_ALLOWLIST_JSON is not set: NO TENANT RESTRICTION, every tenant passes the policy bridge');
  } else if (policy.tenantAllowlist.length === 0) {
    logger.warn('OS_TENANT_ALLOWLIST_JSON is []: every tenant is denied');
  } else {
    logger.info({ tenants: policy.tenantAllowlist }, 'tenant allowlist active');
  }
  if (!policy.enforce) {
    logger.warn('OS_POLICY_BRIDGE_ENFORCE=false: shadow mode, denials are only logged and counted');
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`bff-accounting: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  const logger = createLogger(config.logLevel);
  logPolicyPosture(config, logger);
  const db = await openDatabase(config, logger);
  const migrations = await loadMigrations();
  const { applied, unknown } = await runMigrations(db, migrations);
  logger.info({ applied, database: db.description }, `migrations: ${applied.length} applied, ${migrations.length} known`);
  if (unknown.length > 0) logger.warn({ unknown }, 'the database has migrations this release does not know (newer release ran?)');

  const lifecycle: Lifecycle = { shuttingDown: false };
  await seedConfiguredSources(db, config, logger);
  const metrics = createMetrics({
    syncMetrics: { read: () => readSyncMetrics(db), logger, refreshIntervalMs: config.syncMetricsRefreshMs },
  });
  const readiness = createReadinessCheck(db, migrations, lifecycle);
  const app = createApp({ config, db, logger, metrics, readiness, lifecycle });
  const stopBackgroundJobs = startBackgroundJobs(db, config, logger);
  const embedded = config.bankSandbox.embedded ? await startEmbeddedBank(config, db, logger) : undefined;
  const running = await listen(app, config.port, config.host);
  logger.info(
    { port: running.port, host: config.host, database: db.description },
    `bff-accounting listening on http://${config.host}:${running.port} (database: ${db.description})`,
  );

  const shutdown = async (signal: string) => {
    if (lifecycle.shuttingDown) return;
    lifecycle.shuttingDown = true;
    logger.info({ signal, delay_ms: config.shutdownDelayMs, grace_ms: config.shutdownGraceMs }, 'shutting down: /ready answers 503, then draining');
    // Keep accepting while probes and load balancers see /ready fail, then stop and drain.
    if (config.shutdownDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
    await running.drain(config.shutdownGraceMs);
    stopBackgroundJobs();
    metrics.stop();
    await embedded?.stop();
    await db.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`bff-accounting: failed to start: ${message}\n`);
  process.exit(1);
});
