import { parseArgs } from 'node:util';
import { getMigrationStatus, loadMigrations, unavailableReason } from '@accounting/data-pg';
import { BankSandboxAdapter } from '@accounting/service-core-accounting';
import { ConfigError, loadConfig } from '../config.js';
import { connectPostgres } from '../database.js';
import { installAuditChainKeyring } from '../auditChainKeys.js';
import { createLogger } from '../logger.js';
import { pushSyncMetrics } from './pushSyncMetrics.js';
import { runSyncWorker, summarize } from './syncWorker.js';

const USAGE = `usage: node scripts/worker_sync_external.mjs [--tenant ID]... [--source ID]...

Syncs every enabled external source of every tenant (or only the given ones) from the bank
sandbox into external_ledger, once, then exits. Run by the Helm CronJob every 5 minutes.

environment: DATABASE_URL (required), BANK_SBX_BASE (required), BANK_SBX_TOKEN (required),
  SYNC_SINCE_DAYS (7), SYNC_PAGE_SIZE (500), SYNC_DEADLINE_SECONDS (240), BANK_SBX_TIMEOUT_MS,
  BANK_SBX_CONNECTIONS_JSON (sources to seed), PUSHGATEWAY_URL (optional: also push the
  external_sync_* metrics there after the run), LOG_LEVEL
exit codes: 0 every source succeeded or was skipped because another worker holds it; 1 a source
  failed (also one cut by the deadline); 2 bad usage or configuration; 3 unexpected error, or
  migrations not applied; 4 the database is unavailable (down, failing over, timed out): the
  next scheduled run retries, and what was synced before stays`;

/** The worker's exit code when the database is unavailable (documented in USAGE and docs/EXTERNAL_SYNC.md). */
export const EXIT_DATABASE_UNAVAILABLE = 4;

/** The CronJob's entry point (`scripts/worker_sync_external.mjs`); resolves with the exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: [...argv],
      options: { tenant: { type: 'string', multiple: true }, source: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`worker_sync_external: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  let config;
  try {
    // The worker always talks to the shared PostgreSQL: DATABASE_URL alone selects it.
    config = loadConfig({ ...env, USE_PG: env.USE_PG || (env.DATABASE_URL ? '1' : '') });
    const missing = [
      config.database.kind !== 'pg' ? 'DATABASE_URL' : undefined,
      config.bankSandbox.baseUrl ? undefined : 'BANK_SBX_BASE',
      config.bankSandbox.token ? undefined : 'BANK_SBX_TOKEN',
    ].filter(Boolean);
    if (missing.length > 0) throw new ConfigError(`invalid configuration: ${missing.join(', ')} must be set for the sync worker`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`worker_sync_external: ${err.message}\n`);
    return 2;
  }

  const logger = createLogger(config.logLevel).child({ component: 'worker_sync_external' });
  // A failed sync is recorded as an audit event, chained with the BFF's key.
  installAuditChainKeyring(config.auditChain, logger);
  const started = Date.now();
  const db = connectPostgres(config.database as Extract<typeof config.database, { kind: 'pg' }>, logger, { max: 2 });
  const bank = new BankSandboxAdapter({
    baseUrl: config.bankSandbox.baseUrl as string,
    token: config.bankSandbox.token as string,
    timeoutMs: config.bankSandbox.timeoutMs,
  });
  // Stop at the next page boundary at the deadline, or on SIGTERM (CronJob deadline, node drain).
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), config.sync.deadlineMs);
  process.once('SIGTERM', () => {
    logger.warn('SIGTERM: stopping after the current page');
    stop.abort();
  });

  try {
    const status = await getMigrationStatus(db, await loadMigrations());
    if (status.pending.length > 0 || status.changed.length > 0) {
      logger.error({ pending: status.pending, changed: status.changed }, `worker_sync_external: the database migrations are not applied: ${[...status.pending, ...status.changed].join(', ')} (start the BFF or run the migration job first)`);
      return 3;
    }
    const results = await runSyncWorker({
      db,
      bank,
      config,
      logger,
      tenants: flags.tenant ?? [],
      sources: flags.source ?? [],
      signal: stop.signal,
    });
    if (config.sync.pushgatewayUrl) await pushSyncMetrics(db, config.sync.pushgatewayUrl, logger);
    const { line, failed } = summarize(results);
    logger.info({ duration_seconds: (Date.now() - started) / 1000, failed }, `worker_sync_external: ${line}`);
    return failed > 0 ? 1 : 0;
  } catch (err) {
    const reason = unavailableReason(err);
    if (reason) {
      logger.error({ reason, err: { message: err instanceof Error ? err.message : String(err) } }, `worker_sync_external: the database is unavailable (${reason}); the next run retries`);
      return EXIT_DATABASE_UNAVAILABLE;
    }
    logger.error({ err }, 'worker_sync_external: unexpected error');
    return 3;
  } finally {
    clearTimeout(timer);
    await db.close();
  }
}
