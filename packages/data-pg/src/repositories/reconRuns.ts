import type { Db, Queryable } from '../db.js';
import { inAllTenants, inTenant } from '../tenantScope.js';
import { lockReconRunFence, ReconRunLostError, type ReconRunFence } from './reconRunFence.js';
import { deletePendingMarks, lockReconciliation } from './reconSuggestions.js';

export { lockReconRunFence, ReconRunLostError, type ReconRunFence } from './reconRunFence.js';

export type ReconRunStatus = 'queued' | 'running' | 'succeeded' | 'failed';
export type ReconRunMode = 'full' | 'incremental' | 'range';

/** One reconciliation run as stored (`recon_runs`). */
export interface ReconRunRow {
  tenant: string;
  run_id: string;
  status: ReconRunStatus;
  mode: ReconRunMode | null;
  from: string | null;
  to: string | null;
  owner: string | null;
  created_at: Date;
  started_at: Date | null;
  heartbeat_at: Date | null;
  finished_at: Date | null;
  summary: Record<string, unknown> | null;
  error_code: string | null;
  error_message: string | null;
}

const COLUMNS = `tenant, id::text AS run_id, status, mode, range_from AS "from", range_to AS "to", owner, created_at, started_at,
  heartbeat_at, finished_at, summary, error_code, error_message`;

/**
 * Queues a run for the tenant, or answers the tenant's queued run with the same range if there
 * is one: repeating a request does not queue the same work twice.
 */
export async function createReconRun(
  db: Queryable,
  tenant: string,
  request: { from: string | null; to: string | null; requestedBy: string; requestId: string | null },
): Promise<ReconRunRow> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<ReconRunRow>(
      `WITH queued AS (
         SELECT ${COLUMNS} FROM recon_runs
         WHERE tenant = $1 AND status = 'queued' AND range_from IS NOT DISTINCT FROM $2::date AND range_to IS NOT DISTINCT FROM $3::date
         ORDER BY created_at LIMIT 1
       ), created AS (
         INSERT INTO recon_runs (tenant, range_from, range_to, requested_by, request_id)
         SELECT $1, $2::date, $3::date, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM queued)
         RETURNING ${COLUMNS}
       )
       SELECT * FROM queued UNION ALL SELECT * FROM created`,
      [tenant, request.from, request.to, request.requestedBy, request.requestId],
    );
    return rows[0] as ReconRunRow;
  });
}

/** One run of the tenant; undefined for an unknown id or another tenant's. */
export async function findReconRun(db: Queryable, tenant: string, runId: string): Promise<ReconRunRow | undefined> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<ReconRunRow>(`SELECT ${COLUMNS} FROM recon_runs WHERE tenant = $1 AND id = $2::uuid`, [tenant, runId]);
    return rows[0];
  });
}

/**
 * Fails the tenant's running run if its heartbeat is older than `leaseMs` (its replica died),
 * with error_code ABANDONED. Answers whether it did.
 */
export async function failAbandonedReconRun(db: Queryable, tenant: string, leaseMs: number): Promise<boolean> {
  return inTenant(db, tenant, async (db) => {
    const { rowCount } = await db.query(
      `UPDATE recon_runs SET status = 'failed', finished_at = now(), error_code = 'ABANDONED',
         error_message = 'the replica running it stopped answering (no heartbeat for ' || round($2::int / 1000.0) || ' s); post a new run'
       WHERE tenant = $1 AND status = 'running' AND heartbeat_at < now() - make_interval(secs => $2::int / 1000.0)`,
      [tenant, leaseMs],
    );
    return rowCount > 0;
  });
}

/**
 * The queue's next run, for `owner`: the oldest queued run of a tenant with no running run (a
 * running run whose heartbeat is older than `leaseMs` is first failed as ABANDONED), marked
 * running; null when there is none. Claims of one tenant are serialized (`lockReconciliation`),
 * so two replicas never run two runs of a tenant at once; a tenant another replica started
 * meanwhile is skipped for the next candidate. Any tenant's: this is the queue.
 */
export async function claimNextReconRun(db: Db, owner: string, leaseMs: number): Promise<ReconRunRow | null> {
  const skipped: string[] = [];
  for (;;) {
    const claim = await inAllTenants(db, async (tx) => {
      const { rows: candidates } = await tx.query<{ tenant: string; id: string }>(
        `SELECT q.tenant, q.id::text AS id FROM recon_runs q
         WHERE q.status = 'queued' AND q.tenant <> ALL($2::text[])
           AND NOT EXISTS (SELECT 1 FROM recon_runs r WHERE r.tenant = q.tenant AND r.status = 'running'
                             AND r.heartbeat_at >= now() - make_interval(secs => $1::int / 1000.0))
         ORDER BY q.created_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [leaseMs, skipped],
      );
      const candidate = candidates[0];
      if (!candidate) return null;
      await lockReconciliation(tx, candidate.tenant);
      await failAbandonedReconRun(tx, candidate.tenant, leaseMs);
      const { rows } = await tx.query<ReconRunRow>(
        `UPDATE recon_runs SET status = 'running', owner = $3, started_at = now(), heartbeat_at = now()
         WHERE tenant = $1 AND id = $2::uuid AND status = 'queued'
           AND NOT EXISTS (SELECT 1 FROM recon_runs r WHERE r.tenant = $1 AND r.status = 'running')
         RETURNING ${COLUMNS}`,
        [candidate.tenant, candidate.id, owner],
      );
      return { tenant: candidate.tenant, run: rows[0] ?? null };
    });
    if (!claim) return null;
    if (claim.run) return claim.run;
    // Another replica started this tenant first: the other tenants' runs need not wait for it.
    skipped.push(claim.tenant);
  }
}

/** Records that the run is still alive; false when it is no longer `owner`'s running run. */
export async function heartbeatReconRun(db: Queryable, fence: ReconRunFence): Promise<boolean> {
  return inTenant(db, fence.tenant, async (db) => {
    const { rowCount } = await db.query(
      `UPDATE recon_runs SET heartbeat_at = now() WHERE tenant = $1 AND id = $2::uuid AND owner = $3 AND status = 'running'`,
      [fence.tenant, fence.runId, fence.owner],
    );
    return rowCount > 0;
  });
}

/** Records the run's mode once it knows it; `ReconRunLostError` when the run is no longer `fence.owner`'s. */
export async function setReconRunMode(db: Queryable, fence: ReconRunFence, mode: ReconRunMode): Promise<void> {
  return inTenant(db, fence.tenant, async (db) => {
    const { rowCount } = await db.query(
      `UPDATE recon_runs SET mode = $4 WHERE tenant = $1 AND id = $2::uuid AND owner = $3 AND status = 'running'`,
      [fence.tenant, fence.runId, fence.owner, mode],
    );
    if (rowCount === 0) throw new ReconRunLostError(fence);
  });
}

/** Ends `owner`'s running run; false when it was not (any more) theirs. */
export async function finishReconRun(
  db: Queryable,
  fence: ReconRunFence,
  result: { status: 'succeeded'; summary: object } | { status: 'failed'; code: string; message: string },
): Promise<boolean> {
  return inTenant(db, fence.tenant, async (db) => {
    const { rowCount } = await db.query(
      `UPDATE recon_runs SET status = $4, finished_at = now(), summary = $5::jsonb, error_code = $6, error_message = $7
       WHERE tenant = $1 AND id = $2::uuid AND owner = $3 AND status = 'running'`,
      [
        fence.tenant,
        fence.runId,
        fence.owner,
        result.status,
        result.status === 'succeeded' ? JSON.stringify(result.summary) : null,
        result.status === 'failed' ? result.code : null,
        result.status === 'failed' ? result.message : null,
      ],
    );
    return rowCount > 0;
  });
}

/** Puts `owner`'s running run back in the queue (its replica is stopping); false when it was not theirs. */
export async function requeueReconRun(db: Queryable, fence: ReconRunFence): Promise<boolean> {
  return inTenant(db, fence.tenant, async (db) => {
    const { rowCount } = await db.query(
      `UPDATE recon_runs SET status = 'queued', owner = NULL, mode = NULL, started_at = NULL, heartbeat_at = NULL
       WHERE tenant = $1 AND id = $2::uuid AND owner = $3 AND status = 'running'`,
      [fence.tenant, fence.runId, fence.owner],
    );
    return rowCount > 0;
  });
}

/** Deletes runs that finished more than `days` days ago. Answers how many. */
export async function pruneReconRuns(db: Queryable, days: number): Promise<number> {
  return inAllTenants(db, async (db) => {
    const { rowCount } = await db.query(`DELETE FROM recon_runs WHERE finished_at < now() - make_interval(days => $1::int)`, [days]);
    return rowCount;
  });
}

/** The rules version of the tenant's last complete run (null: none, the next run is full). */
export async function readReconState(db: Queryable, tenant: string): Promise<string | null> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<{ rules_version: string | null }>(`SELECT rules_version FROM recon_state WHERE tenant = $1`, [tenant]);
    return rows[0]?.rules_version ?? null;
  });
}

/**
 * Ends a pass of `fence`'s run in one transaction, under the run row's lock: deletes exactly the
 * marks it read and records the rules version its suggestions now follow (`undefined`: leave it).
 * `ReconRunLostError`, and nothing consumed, when the run is no longer `fence.owner`'s.
 */
export async function completeReconPass(
  db: Db,
  fence: ReconRunFence,
  pass: { lineSeqs: readonly string[]; daySeqs: readonly string[]; rulesVersion?: string | null | undefined },
  batchSize = 5_000,
): Promise<void> {
  await inTenant(db, fence.tenant, async (tx) => {
    await lockReconRunFence(tx, fence);
    for (let i = 0; i < pass.lineSeqs.length; i += batchSize) {
      await deletePendingMarks(tx, fence.tenant, { lineSeqs: pass.lineSeqs.slice(i, i + batchSize), daySeqs: [] });
    }
    await deletePendingMarks(tx, fence.tenant, { lineSeqs: [], daySeqs: pass.daySeqs });
    if (pass.rulesVersion !== undefined) await writeReconState(tx, fence.tenant, pass.rulesVersion);
  });
}

/** Records the rules version every stored suggestion of the tenant now follows, or null: unknown. */
export async function writeReconState(db: Queryable, tenant: string, rulesVersion: string | null): Promise<void> {
  return inTenant(db, tenant, async (db) => {
    await db.query(
      `INSERT INTO recon_state (tenant, rules_version) VALUES ($1, $2)
       ON CONFLICT (tenant) DO UPDATE SET rules_version = excluded.rules_version, updated_at = now()`,
      [tenant, rulesVersion],
    );
  });
}
