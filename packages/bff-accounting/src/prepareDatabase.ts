import { runMigrations, unavailableReason, type Db, type Migration, type RunMigrationsResult } from '@accounting/data-pg';
import type { Logger } from './logger.js';

/** Waits between start-up attempts: 1 s, 2 s, 4 s ... up to 10 s, each with up to 25 % jitter. */
export function startupRetryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(10_000, 1_000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + 0.25 * random()));
}

export interface DatabasePreparation {
  /**
   * Settles after the first attempt: `true` when the database is prepared, `false` when it was
   * unavailable and the attempts go on in the background. Rejects on an error retrying cannot
   * fix (a migration edited after it ran, a failed migration, wrong credentials).
   */
  readonly firstAttempt: Promise<boolean>;
  /** Resolves once the database is prepared; rejects as `firstAttempt` does, or when stopped. */
  readonly prepared: Promise<void>;
  /** Whether the database is prepared (the API's data routes answer only then). */
  isPrepared(): boolean;
  /** Tries again now instead of at the end of the current wait (the database answered again). */
  retryNow(): void;
  /** Stops retrying (shutdown). */
  stop(): void;
}

/**
 * Applies the migrations (`migrate`, by default on `db`; `migrateDatabase` in database.ts runs them
 * as the owner role when one is configured) and then runs `afterMigrations` (e.g. seeding configured sources),
 * retrying both while the database is unavailable (down, restarting, failing over): the BFF
 * stays up meanwhile, `/ready` says why it is not ready, and each failed attempt is logged once
 * with the time until the next.
 */
export function prepareDatabase(
  db: Db,
  migrations: readonly Migration[],
  logger: Logger,
  afterMigrations: () => Promise<void>,
  migrate: () => Promise<RunMigrationsResult> = () => runMigrations(db, migrations),
): DatabasePreparation {
  let prepared = false;
  let stopped = false;
  let wake: (() => void) | undefined;
  let settleFirst: (value: boolean) => void = () => undefined;
  const firstAttempt = new Promise<boolean>((resolve) => {
    settleFirst = resolve;
  });

  const attempt = async (): Promise<void> => {
    const { applied, unknown, grantedRole } = await migrate();
    logger.info(
      { applied, database: db.description, ...(grantedRole ? { granted_role: grantedRole } : {}) },
      `migrations: ${applied.length} applied, ${migrations.length} known`,
    );
    if (unknown.length > 0) logger.warn({ unknown }, 'the database has migrations this release does not know (newer release ran?)');
    await afterMigrations();
  };

  const run = async (): Promise<void> => {
    for (let n = 1; ; n += 1) {
      try {
        await attempt();
        prepared = true;
        if (n > 1) logger.info({ attempts: n }, 'database reachable: migrations applied, the service is ready');
        settleFirst(true);
        return;
      } catch (err) {
        const reason = unavailableReason(err);
        if (!reason) throw err;
        if (stopped) throw new Error('stopped before the database was reachable', { cause: err });
        const delayMs = startupRetryDelayMs(n);
        const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
        logger.warn(
          { attempt: n, reason, retry_in_ms: delayMs, err: { message: cause }, database: db.description },
          `database unavailable at start-up (${reason}): not ready; attempt ${n} failed, next in ${delayMs} ms`,
        );
        settleFirst(false);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        if (stopped) throw new Error('stopped before the database was reachable', { cause: err });
      }
    }
  };

  const done = run();
  // `firstAttempt` rejects with the same error as `prepared` when the first attempt is fatal.
  const first = Promise.race([firstAttempt, done.then(() => true)]);
  done.catch(() => undefined);
  return {
    firstAttempt: first,
    prepared: done,
    isPrepared: () => prepared,
    retryNow() {
      wake?.();
    },
    stop() {
      stopped = true;
      wake?.();
    },
  };
}
