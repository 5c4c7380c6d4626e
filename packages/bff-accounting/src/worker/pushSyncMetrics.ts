import { readSyncMetrics, type Db } from '@accounting/data-pg';
import { Pushgateway, Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { registerSyncMetrics } from '../syncMetrics.js';

/** The `job` the worker's metrics are pushed under (the Pushgateway's grouping key). */
const PUSHGATEWAY_JOB = 'external_sync_worker';

const PUSH_TIMEOUT_MS = 5_000;

/**
 * Pushes the `external_sync_*` metrics, as the database holds them after this run, to the
 * Pushgateway at `url`, replacing what the job pushed last (PUT): the same series and values as
 * the BFF's `/metrics`, for setups that scrape a Pushgateway. Optional and best effort: a
 * failure is logged and never changes the run's outcome. The URL may carry credentials, so it
 * is never logged.
 */
export async function pushSyncMetrics(db: Db, url: string, logger: Logger): Promise<boolean> {
  try {
    // Read first: a failed read must not push an empty group over the last good one.
    const rows = await readSyncMetrics(db);
    const registry = new Registry();
    registerSyncMetrics(registry, { read: async () => rows, logger });
    await new Pushgateway(url, { timeout: PUSH_TIMEOUT_MS }, registry).push({ jobName: PUSHGATEWAY_JOB });
    logger.info({ job: PUSHGATEWAY_JOB, series_sets: rows.length }, 'pushed the external_sync_* metrics to the Pushgateway');
    return true;
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split(url).join('<PUSHGATEWAY_URL>');
    logger.warn({ job: PUSHGATEWAY_JOB, err: { message } }, 'could not push the external_sync_* metrics to the Pushgateway');
    return false;
  }
}
