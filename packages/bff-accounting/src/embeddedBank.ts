import { randomBytes } from 'node:crypto';
import type { Db } from '@accounting/data-pg';
import { BankSandboxAdapter, type ReconRunner } from '@accounting/service-core-accounting';
import { DEMO_CLOSED_CONNECTION, type Config } from './config.js';
import type { Logger } from './logger.js';
import { DEMO_BROKEN_SOURCE, seedDemoBrokenSource, seedDemoManualReviews } from './demoBackoffice.js';
import { seedDemoLedger } from './demoLedger.js';
import { BANK_SBX_SOURCE, runSyncWorker, summarize } from './worker/syncWorker.js';

export interface EmbeddedBank {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The demo of the README's start command: the project's bank simulator on a loopback port and
 * the sync worker's loop in-process, so a new user sees transactions and a live os/sources
 * without any other step. Never used in production (`BANK_SBX_EMBEDDED` is off by default).
 */
export async function startEmbeddedBank(config: Config, db: Db, logger: Logger, reconRuns: ReconRunner): Promise<EmbeddedBank> {
  const { startBankSandbox } = await import('@accounting/bank-sandbox-sim');
  const token = randomBytes(24).toString('hex');
  // The demo's closed connection is assigned but absent at the bank, so its source fails there.
  const connectionIds = [...new Set(Object.values(config.bankSandbox.connections).flat())].filter(
    (id) => id !== DEMO_CLOSED_CONNECTION.connectionId,
  );
  const sandbox = await startBankSandbox({
    token,
    seed: 42,
    host: '127.0.0.1',
    connections: connectionIds.map((id) => ({ id, days: 30, perDay: 12 })),
  });
  const bank = new BankSandboxAdapter({ baseUrl: sandbox.url, token, timeoutMs: config.bankSandbox.timeoutMs });
  const log = logger.child({ component: 'embedded_bank' });
  log.info({ url: sandbox.url, connections: connectionIds }, `embedded bank simulator on ${sandbox.url}; syncing every ${config.sync.intervalMs / 1000} s`);
  if (await seedDemoBrokenSource(db, Object.keys(config.bankSandbox.connections))) {
    const { tenant, source, connectionId } = DEMO_BROKEN_SOURCE;
    log.info({ tenant, source }, `demo: source ${source} of tenant ${tenant} points at the closed connection ${connectionId}, so its syncs fail and the Backoffice shows it stale`);
  }

  const stop = new AbortController();
  let tick = 0;
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  const syncOnce = async () => {
    tick += 1;
    if (tick > 1) {
      // A little new activity each round, so the demo's sources visibly move.
      for (const id of connectionIds) {
        sandbox.sandbox.addTransaction(id, { amount: `-${1000 * (1 + (tick % 9))}`, description: `CARD 4821 DEMO PURCHASE ${tick}` });
      }
    }
    try {
      const results = await runSyncWorker({ db, bank, config, logger: log, signal: stop.signal });
      log.info(`embedded sync: ${summarize(results).line}`);
      for (const tenant of Object.keys(config.bankSandbox.connections)) {
        const seeded = await seedDemoLedger(db, tenant, BANK_SBX_SOURCE);
        const reviews = await seedDemoManualReviews(db, tenant, BANK_SBX_SOURCE);
        // The same runs as the API's: incremental, the engine on its own thread.
        const queued = await reconRuns.submit({ tenant, requestedBy: 'system' });
        const recon = await reconRuns.waitFor(tenant, queued.run_id, 250);
        log.info(
          { tenant, seeded_entries: seeded, seeded_reviews: reviews, run_id: recon.run_id, status: recon.status, mode: recon.mode, ...recon.summary?.by_status },
          'embedded reconciliation run',
        );
      }
    } catch (err) {
      log.error({ err }, 'embedded sync failed');
    }
  };
  const tickOnce = () => {
    if (busy) return; // the previous round is still running: skip this tick rather than queue
    busy = true;
    running = syncOnce().finally(() => {
      busy = false;
    });
  };
  tickOnce();
  const timer = setInterval(tickOnce, config.sync.intervalMs);
  timer.unref();

  return {
    url: sandbox.url,
    async stop() {
      clearInterval(timer);
      stop.abort();
      await running;
      await sandbox.close();
    },
  };
}
