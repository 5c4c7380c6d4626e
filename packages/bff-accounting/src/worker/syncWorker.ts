import { listEnabledSourcesOfAllTenants, seedExternalSource, unavailableReason, type Db } from '@accounting/data-pg';
import { isConnectionAssigned, syncExternalSource, type BankSyncClient, type SyncOutcome } from '@accounting/service-core-accounting';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/** The source id of the pilot's bank sandbox source, as seeded from `BANK_SBX_CONNECTIONS_JSON`. */
export const BANK_SBX_SOURCE = 'bank_sbx';

/**
 * Makes sure every tenant of `BANK_SBX_CONNECTIONS_JSON` has its `bank_sbx` source, on the first
 * (or only) connection assigned to it. A source an admin already changed (other connection,
 * disabled) is kept, with a warning; so is a connection that already feeds another source.
 */
export async function seedConfiguredSources(db: Db, config: Config, logger: Logger): Promise<void> {
  for (const [tenant, [connectionId]] of Object.entries(config.bankSandbox.connections)) {
    if (connectionId === undefined) continue;
    const stored = await seedExternalSource(db, tenant, { source: BANK_SBX_SOURCE, kind: 'bank_sbx', connectionId, enabled: true });
    if (!stored) {
      logger.warn(
        { tenant, source: BANK_SBX_SOURCE, configured: connectionId },
        'connection already feeds another source; source not added (configure one with PUT /v1/accounting/os/sources/{source})',
      );
    } else if (stored.connectionId !== connectionId) {
      logger.warn(
        { tenant, source: BANK_SBX_SOURCE, configured: connectionId, stored: stored.connectionId },
        'source exists with another connection id; keeping the stored one (change it with PUT /v1/accounting/os/sources/bank_sbx)',
      );
    }
  }
}

export interface SyncWorkerOptions {
  db: Db;
  bank: BankSyncClient;
  config: Config;
  logger: Logger;
  /** Only these tenants / sources (the worker's --tenant / --source flags). */
  tenants?: readonly string[];
  sources?: readonly string[];
  /** Aborted at the worker's deadline or on SIGTERM: remaining sources are skipped. */
  signal: AbortSignal;
}

export interface SyncWorkerResult {
  tenant: string;
  source: string;
  /** `DEADLINE`: not started before the worker stopped; `ERROR`: failed in a way that could not be recorded. */
  outcome: SyncOutcome | { status: 'skipped'; reason: 'DEADLINE' | 'ERROR' };
}

/** Syncs every enabled source of every tenant (or the selected ones), one after another. */
export async function runSyncWorker(options: SyncWorkerOptions): Promise<SyncWorkerResult[]> {
  const { db, bank, config, logger } = options;
  await seedConfiguredSources(db, config, logger);
  const sources = (await listEnabledSourcesOfAllTenants(db)).filter(
    (s) => (!options.tenants?.length || options.tenants.includes(s.tenant)) && (!options.sources?.length || options.sources.includes(s.source)),
  );
  const results: SyncWorkerResult[] = [];
  for (const source of sources) {
    const context = { tenant: source.tenant, source: source.source };
    if (options.signal.aborted) {
      results.push({ ...context, outcome: { status: 'skipped', reason: 'DEADLINE' } });
      logger.warn(context, 'sync skipped: worker deadline reached');
      continue;
    }
    let outcome: SyncOutcome;
    try {
      outcome = await syncExternalSource(db, bank, { ...context, connectionId: source.connectionId }, {
        sinceDays: config.sync.sinceDays,
        pageSize: config.sync.pageSize,
        signal: options.signal,
        // Defence in depth: a row written before assignments existed, or by SQL, syncs nothing.
        connectionAssigned: isConnectionAssigned(config.bankSandbox.connections, source.tenant, source.connectionId),
      });
    } catch (err) {
      // The database is gone: every other source would fail the same way; the run ends (exit 4).
      if (unavailableReason(err)) throw err;
      // Not even recordable: report it and go on with the other sources.
      logger.error({ ...context, err }, 'sync failed and could not be recorded');
      results.push({ ...context, outcome: { status: 'skipped', reason: 'ERROR' } });
      continue;
    }
    results.push({ ...context, outcome });
    if (outcome.status === 'succeeded') {
      const { pages, added, modified, removed, removedUnknown, attempts, fullResync } = outcome;
      logger.info({ ...context, run_id: outcome.runId, pages, added, modified, removed, removed_unknown: removedUnknown, attempts, full_resync: fullResync }, 'sync succeeded');
    } else if (outcome.status === 'failed') {
      logger.error(
        {
          ...context,
          run_id: outcome.runId,
          error_code: outcome.errorCode,
          attempts: outcome.attempts,
          // What the run stored stays stored: the next run resumes after it.
          pages: outcome.pages,
          added: outcome.added,
          ...(outcome.cause ? { err: outcome.cause } : {}),
        },
        `sync failed: ${outcome.errorCode}: ${outcome.message}`,
      );
    } else {
      logger.info({ ...context, reason: outcome.reason }, 'sync skipped: another worker holds this source');
    }
  }
  return results;
}

/**
 * `3 sources: 2 succeeded, 1 failed, 0 skipped`. Only sources another worker held count as
 * skipped; one the worker never got to (deadline) or could not record is a failure.
 */
export function summarize(results: readonly SyncWorkerResult[]): { line: string; failed: number } {
  const status = (r: SyncWorkerResult) =>
    r.outcome.status === 'skipped' && r.outcome.reason !== 'LOCKED' ? 'failed' : r.outcome.status;
  const count = (wanted: string) => results.filter((r) => status(r) === wanted).length;
  const failed = count('failed');
  return {
    line: `${results.length} sources: ${count('succeeded')} succeeded, ${failed} failed, ${count('skipped')} skipped`,
    failed,
  };
}
