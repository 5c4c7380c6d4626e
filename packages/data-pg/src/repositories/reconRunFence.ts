import type { Queryable } from '../db.js';
import { inTenant } from '../tenantScope.js';

/** Which run, held by which replica: every write of a run is fenced by it. */
export interface ReconRunFence {
  tenant: string;
  runId: string;
  owner: string;
}

/**
 * A write of a run found the run no longer `fence.owner`'s running run (its replica requeued it
 * while stopping, or another replica failed it as ABANDONED): the run must stop without
 * consuming anything.
 */
export class ReconRunLostError extends Error {
  readonly code = 'RUN_LOST';
  constructor(fence: ReconRunFence) {
    super(`reconciliation run ${fence.runId} of ${fence.tenant} is no longer ${fence.owner}'s running run`);
    this.name = 'ReconRunLostError';
  }
}

/** SQL: the run row, if it is still `$3`'s running run (`$1` tenant, `$2` run id). */
export const RECON_RUN_FENCE_SQL = `SELECT 1 FROM recon_runs WHERE tenant = $1 AND id = $2::uuid AND owner = $3 AND status = 'running'`;

/**
 * Locks the run row for the rest of the transaction (`FOR UPDATE`: a requeue or ABANDONED
 * waits for it) and throws `ReconRunLostError` unless it is still `fence.owner`'s running run.
 */
export async function lockReconRunFence(tx: Queryable, fence: ReconRunFence): Promise<void> {
  return inTenant(tx, fence.tenant, async (tx) => {
    const { rows } = await tx.query(`${RECON_RUN_FENCE_SQL} FOR UPDATE`, [fence.tenant, fence.runId, fence.owner]);
    if (rows.length === 0) throw new ReconRunLostError(fence);
  });
}

