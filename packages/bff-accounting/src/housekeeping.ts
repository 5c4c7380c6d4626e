import { deleteExpiredIdempotencyKeys, pruneReconRuns, pruneSyncRuns, type Db } from '@accounting/data-pg';
import { dispatchFeedbackOnce, publishAuditChainHeads } from '@accounting/service-core-accounting';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

const HOUR_MS = 3_600_000;
/** Sync run history kept for os/sources and investigations; totals live on in external_sync_state. */
const SYNC_RUN_RETENTION_DAYS = 30;
/** Finished reconciliation runs kept for their pollers and investigations. */
const RECON_RUN_RETENTION_DAYS = 30;
const FEEDBACK_POLL_MS = 2_000;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * The BFF's background jobs: purge idempotency keys past their 30-day retention, and sync runs
 * and finished reconciliation runs older than 30 days (at start and hourly), log each tenant's audit chain head and queue it
 * to the feedback webhook (at start and every `AUDIT_CHAIN_HEAD_INTERVAL_MS`), and, when `FEEDBACK_WEBHOOK_URL` is set, deliver queued feedback cases. Several
 * replicas running them at once is safe (idempotent DELETE; leased outbox rows). Returns stop().
 */
export function startBackgroundJobs(db: Db, config: Config, logger: Logger): () => void {
  const purge = async () => {
    try {
      const deleted = await deleteExpiredIdempotencyKeys(db);
      const pruned = await pruneSyncRuns(db, SYNC_RUN_RETENTION_DAYS);
      const reconRuns = await pruneReconRuns(db, RECON_RUN_RETENTION_DAYS);
      if (deleted + pruned + reconRuns > 0) {
        logger.info({ idempotency_keys: deleted, sync_runs: pruned, recon_runs: reconRuns }, 'housekeeping: purged expired rows');
      }
    } catch (err) {
      logger.warn({ err: { message: message(err) } }, 'housekeeping: could not purge expired rows');
    }
  };
  void purge();

  // Heads held outside the database (the log, the webhook) catch a chain rewritten from a saved state.
  const publishHeads = async () => {
    try {
      for (const head of await publishAuditChainHeads(db, config.auditChain.headIntervalMs)) {
        logger.info({ tenant: head.tenant, seq: head.seq, mac: head.mac, key_id: head.key_id }, 'audit chain head');
      }
    } catch (err) {
      logger.warn({ err: { message: message(err) } }, 'audit chain heads: could not publish');
    }
  };
  void publishHeads();
  const timers = [setInterval(() => void purge(), HOUR_MS), setInterval(() => void publishHeads(), config.auditChain.headIntervalMs)];

  const { webhookUrl, backofficeBaseUrl } = config.feedback;
  if (webhookUrl) {
    let busy = false;
    // A dispatch that cannot run (the database is away) is logged when it starts failing and when it works again.
    let failing = false;
    timers.push(
      setInterval(() => {
        if (busy) return;
        busy = true;
        dispatchFeedbackOnce(db, { webhookUrl, backofficeBaseUrl })
          .then(({ delivered, failed }) => {
            if (failing) logger.info('feedback dispatch works again');
            failing = false;
            if (delivered + failed > 0) logger.info({ delivered, failed }, 'feedback webhook round');
          })
          .catch((err: unknown) => {
            if (!failing) logger.warn({ err: { message: message(err) } }, 'feedback dispatch failed');
            failing = true;
          })
          .finally(() => {
            busy = false;
          });
      }, FEEDBACK_POLL_MS),
    );
  }
  for (const timer of timers) timer.unref();
  return () => timers.forEach((timer) => clearInterval(timer));
}
