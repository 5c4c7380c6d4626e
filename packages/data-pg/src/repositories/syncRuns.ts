import type { Queryable } from '../db.js';
import { inAllTenants, inTenant } from '../tenantScope.js';

export interface SyncRunTotals {
  pages: number;
  attempts: number;
  added: number;
  modified: number;
  removed: number;
  removedUnknown: number;
  fullResync: boolean;
  providerRefreshedAt: string | null;
}

/** The session-level advisory-lock key of one source's sync (`$1` tenant, `$2` source), scoped by schema. */
const SYNC_LOCK_KEY = `hashtext('external_sync'), hashtext(current_schema() || ':' || $1 || '/' || $2)`;

/**
 * Takes the source's sync lock on `session` without waiting; false when another worker holds it.
 * Held until `unlockSourceSync` (or the session ends).
 */
export async function tryLockSourceSync(session: Queryable, tenant: string, source: string): Promise<boolean> {
  const { rows } = await session.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${SYNC_LOCK_KEY}) AS locked`, [tenant, source]);
  return rows[0]?.locked === true;
}

/** Releases the lock `tryLockSourceSync` took on the same session. */
export async function unlockSourceSync(session: Queryable, tenant: string, source: string): Promise<void> {
  await session.query(`SELECT pg_advisory_unlock(${SYNC_LOCK_KEY})`, [tenant, source]);
}

/**
 * Opens a run record. Runs left `running` by a worker that died (the caller holds the source's
 * lock, so nobody else is running) are closed as failed `ABANDONED` first; the pages and rows
 * they stored (`recordSyncRunProgress`) stay on their record and count in the totals.
 */
export async function startSyncRun(db: Queryable, tenant: string, source: string): Promise<string> {
  return inTenant(db, tenant, async (db) => {
    const abandoned = await db.query<{ rows: number }>(
      `UPDATE external_sync_runs SET outcome = 'failed', finished_at = now(), error_code = 'ABANDONED',
              error_message = 'the worker stopped before finishing this run'
       WHERE tenant = $1 AND source = $2 AND outcome = 'running'
       RETURNING rows_added + rows_modified + rows_removed AS rows`,
      [tenant, source],
    );
    if (abandoned.rowCount > 0) {
      // A killed worker's run is a failed run too: it counts in external_sync_errors_total.
      await bumpState(
        db,
        tenant,
        source,
        `runs_total = runs_total + $3, errors_total = errors_total + $3, rows_synced_total = rows_synced_total + $4,
         last_error_code = 'ABANDONED', last_error_at = now(), last_error_attempts = NULL`,
        [abandoned.rowCount, abandoned.rows.reduce((sum, row) => sum + row.rows, 0)],
      );
    }
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO external_sync_runs (tenant, source) VALUES ($1, $2) RETURNING id`,
      [tenant, source],
    );
    return (rows[0] as { id: string }).id;
  });
}

async function bumpState(db: Queryable, tenant: string, source: string, assignments: string, params: unknown[]): Promise<void> {
  await db.query(
    `INSERT INTO external_sync_state (tenant, source) VALUES ($1, $2) ON CONFLICT (tenant, source) DO NOTHING`,
    [tenant, source],
  );
  await db.query(`UPDATE external_sync_state SET ${assignments} WHERE tenant = $1 AND source = $2`, [tenant, source, ...params]);
}

/**
 * Writes what the run stored so far onto its record; call it in the transaction that stores
 * each page, so a run that never finishes (killed) still shows the pages and rows it stored.
 */
export async function recordSyncRunProgress(db: Queryable, tenant: string, source: string, runId: string, totals: SyncRunTotals): Promise<void> {
  return inTenant(db, tenant, async (db) => {
    await db.query(
      `UPDATE external_sync_runs SET full_resync = $4, attempts = $5, pages = $6, rows_added = $7, rows_modified = $8,
              rows_removed = $9, removed_unknown = $10, provider_refreshed_at = $11::timestamptz
       WHERE tenant = $1 AND source = $2 AND id = $3`,
      [tenant, source, runId, totals.fullResync, totals.attempts, totals.pages, totals.added, totals.modified, totals.removed,
        totals.removedUnknown, totals.providerRefreshedAt],
    );
  });
}

/** Closes the run as succeeded and moves the source's last-success time and totals. */
export async function recordSyncSuccess(db: Queryable, tenant: string, source: string, runId: string, totals: SyncRunTotals): Promise<void> {
  return inTenant(db, tenant, async (db) => {
    await db.query(
      `UPDATE external_sync_runs SET outcome = 'succeeded', finished_at = clock_timestamp(), full_resync = $4, attempts = $5,
              pages = $6, rows_added = $7, rows_modified = $8, rows_removed = $9, removed_unknown = $10,
              provider_refreshed_at = $11::timestamptz
       WHERE tenant = $1 AND source = $2 AND id = $3`,
      [tenant, source, runId, totals.fullResync, totals.attempts, totals.pages, totals.added, totals.modified, totals.removed,
        totals.removedUnknown, totals.providerRefreshedAt],
    );
    await bumpState(
      db,
      tenant,
      source,
      `runs_total = runs_total + 1, rows_synced_total = rows_synced_total + $3, last_success_at = clock_timestamp(),
       last_run_seconds = (SELECT extract(epoch FROM finished_at - started_at) FROM external_sync_runs
                           WHERE tenant = $1 AND source = $2 AND id = $5),
       provider_refreshed_at = coalesce($4::timestamptz, provider_refreshed_at)`,
      [totals.added + totals.modified + totals.removed, totals.providerRefreshedAt, runId],
    );
  });
}

/**
 * Closes the run as failed with its error code and attempts, and counts the error. The rows its
 * stored pages brought in are kept (the next run resumes after them) and counted.
 */
export async function recordSyncFailure(
  db: Queryable,
  tenant: string,
  source: string,
  runId: string,
  failure: { code: string; message: string; attempts: number; totals: SyncRunTotals },
): Promise<void> {
  return inTenant(db, tenant, async (db) => {
    const { totals } = failure;
    await db.query(
      `UPDATE external_sync_runs SET outcome = 'failed', finished_at = clock_timestamp(), error_code = $4, error_message = $5,
              attempts = $6, full_resync = $7, pages = $8, rows_added = $9, rows_modified = $10, rows_removed = $11,
              removed_unknown = $12
       WHERE tenant = $1 AND source = $2 AND id = $3`,
      [tenant, source, runId, failure.code, failure.message.slice(0, 500), failure.attempts, totals.fullResync, totals.pages,
        totals.added, totals.modified, totals.removed, totals.removedUnknown],
    );
    await bumpState(
      db,
      tenant,
      source,
      `runs_total = runs_total + 1, errors_total = errors_total + 1, rows_synced_total = rows_synced_total + $6,
       last_error_code = $3, last_error_at = clock_timestamp(), last_error_attempts = $4,
       last_run_seconds = (SELECT extract(epoch FROM finished_at - started_at) FROM external_sync_runs
                           WHERE tenant = $1 AND source = $2 AND id = $5)`,
      [failure.code, failure.attempts, runId, totals.added + totals.modified + totals.removed],
    );
  });
}

/** A run as `json_agg` returns it: timestamps are ISO strings. */
export interface SyncRunView {
  id: string;
  started_at: string;
  finished_at: string | null;
  outcome: 'running' | 'succeeded' | 'failed';
  full_resync: boolean;
  error_code: string | null;
  attempts: number;
  pages: number;
  rows_added: number;
  rows_modified: number;
  rows_removed: number;
}

export interface SourceStatusRow {
  source: string;
  kind: string;
  connection_id: string;
  enabled: boolean;
  last_success_at: Date | null;
  last_error_code: string | null;
  last_error_at: Date | null;
  last_error_attempts: number | null;
  provider_refreshed_at: Date | null;
  runs_total: string;
  errors_total: string;
  /** A complete pass stored its cursor (the loop base): runs page changes since then. */
  cursor_present: boolean;
  cursor_updated_at: Date | null;
  /** The unfinished pass, when one is stored (`external_sync_progress`); all null otherwise. */
  pass_full_sync: boolean | null;
  pass_started_at: Date | null;
  pass_updated_at: Date | null;
  pass_pages: number | null;
  rows_total: number;
  rows_active: number;
  rows_removed: number;
  recent_runs: SyncRunView[];
}

/** Each source of the tenant (or just `only`) with its sync state, row counts and last `recentRuns` runs. */
export async function readSourceStatuses(db: Queryable, tenant: string, options: { only?: string; recentRuns?: number } = {}): Promise<SourceStatusRow[]> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<SourceStatusRow>(
      `SELECT s.source, s.kind, s.connection_id, s.enabled,
              st.last_success_at, st.last_error_code, st.last_error_at, st.last_error_attempts, st.provider_refreshed_at,
              coalesce(st.runs_total, 0)::text AS runs_total, coalesce(st.errors_total, 0)::text AS errors_total,
              (o.cursor IS NOT NULL) AS cursor_present, o.updated_at AS cursor_updated_at,
              CASE WHEN p.source IS NOT NULL THEN p.base_cursor IS NULL END AS pass_full_sync,
              p.started_at AS pass_started_at, p.updated_at AS pass_updated_at, p.pages AS pass_pages,
              coalesce(c.total, 0)::int AS rows_total, coalesce(c.active, 0)::int AS rows_active,
              coalesce(c.removed, 0)::int AS rows_removed,
              coalesce((SELECT json_agg(r ORDER BY r.started_at DESC) FROM (
                 SELECT id::text AS id, started_at, finished_at, outcome, full_resync, error_code, attempts, pages,
                        rows_added, rows_modified, rows_removed
                 FROM external_sync_runs
                 WHERE tenant = s.tenant AND source = s.source ORDER BY started_at DESC LIMIT $2) r), '[]'::json) AS recent_runs
       FROM external_sources s
       LEFT JOIN external_sync_state st ON st.tenant = s.tenant AND st.source = s.source
       LEFT JOIN external_ledger_offset o ON o.tenant = s.tenant AND o.source = s.source
       LEFT JOIN external_sync_progress p ON p.tenant = s.tenant AND p.source = s.source
       LEFT JOIN LATERAL (
         SELECT count(*) AS total, count(*) FILTER (WHERE removed_at IS NULL) AS active,
                count(*) FILTER (WHERE removed_at IS NOT NULL) AS removed
         FROM external_ledger l WHERE l.tenant = s.tenant AND l.source = s.source) c ON true
       WHERE s.tenant = $1 AND ($3::text IS NULL OR s.source = $3)
       ORDER BY s.source`,
      [tenant, options.recentRuns ?? 5, options.only ?? null],
    );
    return rows;
  });
}

export interface SyncMetricsRow {
  tenant: string;
  source: string;
  last_success_seconds: number | null;
  runs_total: number;
  errors_total: number;
  rows_synced_total: number;
  last_run_seconds: number | null;
}

/**
 * Sync totals of every enabled source of every tenant, for `/metrics` (read at scrape time). A
 * disabled source drops out, so its frozen last-success time raises no ExternalSyncStale alert.
 */
export async function readSyncMetrics(db: Queryable): Promise<SyncMetricsRow[]> {
  return inAllTenants(db, async (db) => {
    const { rows } = await db.query<SyncMetricsRow>(
      `SELECT st.tenant, st.source, extract(epoch FROM st.last_success_at)::float8 AS last_success_seconds,
              st.runs_total::float8 AS runs_total, st.errors_total::float8 AS errors_total,
              st.rows_synced_total::float8 AS rows_synced_total, st.last_run_seconds
       FROM external_sync_state st
       JOIN external_sources s ON s.tenant = st.tenant AND s.source = st.source AND s.enabled
       ORDER BY st.tenant, st.source`,
    );
    return rows;
  });
}

/** Deletes finished runs older than `days` (the totals in external_sync_state are kept). */
export async function pruneSyncRuns(db: Queryable, days: number): Promise<number> {
  return inAllTenants(db, async (db) => {
    const { rowCount } = await db.query(
      `DELETE FROM external_sync_runs WHERE outcome <> 'running' AND started_at < now() - make_interval(days => $1)`,
      [days],
    );
    return rowCount;
  });
}
