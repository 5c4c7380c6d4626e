import { Writable } from 'node:stream';
import { loadMigrations, readSyncMetrics, runMigrations, type Db } from '@accounting/data-pg';
import { ReconRunner, rulesForTenant, type ReconEngine } from '@accounting/service-core-accounting';
import { createApp } from '../../packages/bff-accounting/src/app.js';
import { loadConfig, type Config } from '../../packages/bff-accounting/src/config.js';
import { createLogger } from '../../packages/bff-accounting/src/logger.js';
import { createMetrics, type Metrics } from '../../packages/bff-accounting/src/metrics.js';
import { createReadinessCheck, type Lifecycle } from '../../packages/bff-accounting/src/readiness.js';
import { seedConfiguredSources } from '../../packages/bff-accounting/src/worker/syncWorker.js';
import { appRoleDbFor, TEST_APP_ROLE } from './postgres.js';

/** Log lines a test app wrote, parsed. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      this.raw.push(line);
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  }
  /** Lines whose `msg` contains `text`. */
  find(text: string): Record<string, unknown>[] {
    return this.lines.filter((line) => String(line.msg).includes(text));
  }
}

export interface TestApp {
  app: ReturnType<typeof createApp>;
  config: Config;
  metrics: Metrics;
  logs: LogCapture;
  lifecycle: Lifecycle;
  /** The app's reconciliation runner (not polling: a POST runs its run at once); `stop()` it when done. */
  reconRuns: ReconRunner;
}

/**
 * The real app on `db` (migrated here), with config from `env` (as the process would read it)
 * and logs captured for assertions. On a test schema (`createTestSchema`), `db` is the owner:
 * the migrations run as it and grant `TEST_APP_ROLE`, and the app serves as that role, bound by
 * row-level security as in production (`appRoleDbFor`); the test may still read and seed
 * through `db`.
 */
export async function buildTestApp(
  db: Db,
  env: Record<string, string> = {},
  options: { migrate?: boolean; reconEngine?: ReconEngine } = {},
): Promise<TestApp> {
  const migrations = await loadMigrations();
  const ownerDb = db;
  db = appRoleDbFor(ownerDb);
  if (options.migrate ?? true) await runMigrations(ownerDb, migrations, db === ownerDb ? {} : { appRole: TEST_APP_ROLE });
  const config = loadConfig({ LOG_LEVEL: 'info', ...env });
  const logs = new LogCapture();
  const logger = createLogger(config.logLevel, logs);
  await seedConfiguredSources(db, config, logger);
  const metrics = createMetrics({ defaultMetrics: false, syncMetrics: { read: () => readSyncMetrics(db), logger } });
  const lifecycle: Lifecycle = { shuttingDown: false };
  const readiness = createReadinessCheck(db, migrations, lifecycle, 1_000);
  const reconRuns = new ReconRunner({
    db,
    rulesFor: (tenant) => rulesForTenant(config.recon, tenant),
    log: logger.child({ component: 'recon_runs' }),
    ...(options.reconEngine ? { engine: options.reconEngine } : {}),
  });
  const app = createApp({ config, db, logger, metrics, readiness, lifecycle, reconRuns });
  return { app, config, metrics, logs, lifecycle, reconRuns };
}
