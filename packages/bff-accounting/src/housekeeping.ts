import { deleteExpiredIdempotencyKeys, type Db } from '@accounting/data-pg';
import type { Logger } from './logger.js';

const HOUR_MS = 3_600_000;

/**
 * Deletes idempotency keys past their 30-day retention, now and then every hour. Several
 * replicas doing it at once is harmless (the DELETE is idempotent). Returns a stop function.
 */
export function startHousekeeping(db: Db, logger: Logger, intervalMs = HOUR_MS): () => void {
  const purge = async () => {
    try {
      const deleted = await deleteExpiredIdempotencyKeys(db);
      if (deleted > 0) logger.info({ deleted }, 'purged expired idempotency keys');
    } catch (err) {
      logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'could not purge idempotency keys');
    }
  };
  void purge();
  const timer = setInterval(() => void purge(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
