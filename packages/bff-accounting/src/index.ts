import { createPgliteDb, loadMigrations, readSyncMetrics, type Db } from '@accounting/data-pg';
import { ReconRunner, rulesForTenant } from '@accounting/service-core-accounting';
import { createApp } from './app.js';
import { connectPostgres, migrateDatabase, type DatabaseEvents } from './database.js';
import { startEmbeddedBank } from './embeddedBank.js';
import { installAuditChainKeyring } from './auditChainKeys.js';
import { startBackgroundJobs } from './housekeeping.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { prepareDatabase } from './prepareDatabase.js';
import { createReadinessCheck, type Lifecycle } from './readiness.js';
import { listen } from './server.js';
import { seedConfiguredSources } from './worker/syncWorker.js';

function openDatabase(config: Config, logger: Logger, events: DatabaseEvents): Promise<Db> | Db {
  if (config.database.kind === 'pg') return connectPostgres(config.database, logger, events);
  return createPgliteDb(config.database.dataDir);
}

function logPolicyPosture(config: Config, logger: Logger): void {
  const { auth, policy } = config;
  if (auth.mode === 'headers') {
    logger.warn('AUTH_MODE=headers: X-Tenant, X-User-Role and X-User-Id are trusted as sent; only run behind a gateway that sets them and strips them from clients');
  } else {
    const { keys, issuer, audience, algorithms } = auth.jwt;
    logger.info(
      { issuer, audience, algorithms, keys: keys.kind === 'jwks' ? keys.url : 'AUTH_PUBLIC_KEY' },
      'AUTH_MODE=jwt: every /v1 request needs a verified bearer token',
    );
  }
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
  // Before the migrations: their runner chains rows written before migration 011 with this key.
  installAuditChainKeyring(config.auditChain, logger);
  // The pool reports to the metrics and the start-up, both made after it.
  const events: Required<DatabaseEvents> = { onAvailabilityChange: () => undefined, onUnavailable: () => undefined };
  const db = await openDatabase(config, logger, {
    onAvailabilityChange: (available) => events.onAvailabilityChange(available),
    onUnavailable: (reason) => events.onUnavailable(reason),
  });
  const metrics = createMetrics({
    syncMetrics: { read: () => readSyncMetrics(db), logger, refreshIntervalMs: config.syncMetricsRefreshMs },
  });
  const migrations = await loadMigrations();

  // The database may be down while the BFF starts (a failover, a restart): it listens anyway,
  // not ready, and prepares the database as soon as it answers.
  const database = prepareDatabase(
    db,
    migrations,
    logger,
    () => seedConfiguredSources(db, config, logger),
    () => migrateDatabase(config.database, db, migrations, logger),
  );
  events.onAvailabilityChange = (available) => {
    metrics.databaseAvailable.set(available ? 1 : 0);
    // A statement (a readiness probe) reached it: migrate now rather than after the backoff.
    if (available) database.retryNow();
  };
  events.onUnavailable = (reason) => metrics.databaseUnavailable.inc({ reason });
  const lifecycle: Lifecycle = { shuttingDown: false, databasePrepared: database.isPrepared };
  const readiness = createReadinessCheck(db, migrations, lifecycle);
  const reconRuns = new ReconRunner({
    db,
    rulesFor: (tenant) => rulesForTenant(config.recon, tenant),
    log: logger.child({ component: 'recon_runs' }),
  });
  const app = createApp({ config, db, logger, metrics, readiness, lifecycle, reconRuns });

  let stopBackgroundJobs = () => undefined as void;
  let embedded: Awaited<ReturnType<typeof startEmbeddedBank>> | undefined;
  const startServices = async () => {
    stopBackgroundJobs = startBackgroundJobs(db, config, logger);
    reconRuns.start();
    if (config.bankSandbox.embedded) embedded = await startEmbeddedBank(config, db, logger, reconRuns);
  };
  // When the database answers at once, everything is in place before the port opens.
  if (await database.firstAttempt) await startServices();
  else {
    metrics.databaseAvailable.set(0);
    database.prepared.then(startServices).catch((err: unknown) => {
      if (lifecycle.shuttingDown) return; // stopped on purpose (SIGTERM before the database came back)
      process.stderr.write(`bff-accounting: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
  }
  const running = await listen(app, config.port, config.host, config.http);
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
    database.stop();
    stopBackgroundJobs();
    metrics.stop();
    await embedded?.stop();
    await reconRuns.stop();
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
