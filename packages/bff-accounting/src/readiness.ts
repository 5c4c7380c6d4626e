import { getMigrationStatus, type Db, type Migration } from '@accounting/data-pg';

export type ReadinessReport =
  | { ready: true; database: string; migrations: number }
  | { ready: false; reason: string; detail: string };

/** Signed exports are `disabled` without `EXPORT_SIGN_SECRET`; `/ready` says which (still 200). */
export type ExportsStatus = 'enabled' | 'disabled';

export interface Lifecycle {
  /** Set on SIGTERM/SIGINT: `/ready` turns 503 so the load balancer stops sending traffic. */
  shuttingDown: boolean;
  /**
   * Whether the start-up migrations are applied (`prepareDatabase`); until then the data routes
   * answer 503 DATABASE_UNAVAILABLE. Absent: prepared before the app was built (tests).
   */
  databasePrepared?: () => boolean;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Ready means: not shutting down, the database answers within `timeoutMs`, and every migration
 * this code knows is applied with the hash it has. Failures name a reason, never a credential.
 */
export function createReadinessCheck(
  db: Db,
  migrations: readonly Migration[],
  lifecycle: Lifecycle,
  timeoutMs = 2_000,
): () => Promise<ReadinessReport> {
  return async () => {
    if (lifecycle.shuttingDown) return { ready: false, reason: 'SHUTTING_DOWN', detail: 'the server is draining' };
    let status;
    try {
      status = await withTimeout(getMigrationStatus(db, migrations), timeoutMs);
    } catch {
      return { ready: false, reason: 'DATABASE_UNAVAILABLE', detail: 'the database did not answer' };
    }
    if (status.pending.length > 0) {
      return { ready: false, reason: 'MIGRATIONS_PENDING', detail: `not applied: ${status.pending.join(', ')}` };
    }
    if (status.changed.length > 0) {
      return { ready: false, reason: 'MIGRATIONS_CHANGED', detail: `edited after applying: ${status.changed.join(', ')}` };
    }
    // The database answers again, but this process's start-up (migrations, seeding) has not run
    // yet: its data routes still answer 503, so no traffic until it has.
    if (lifecycle.databasePrepared && !lifecycle.databasePrepared()) {
      return { ready: false, reason: 'STARTING', detail: 'the database answers; the start-up migrations run next' };
    }
    return { ready: true, database: db.kind, migrations: migrations.length };
  };
}
