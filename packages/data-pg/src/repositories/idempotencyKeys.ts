import type { Queryable } from '../db.js';
import { inAllTenants, inTenant } from '../tenantScope.js';

/** A stored outcome of a request made with an `Idempotency-Key`. */
export interface IdempotencyRecord {
  scope: string;
  requestHash: string;
  responseStatus: number;
  responseBody: unknown;
  createdAt: Date;
}

/**
 * The advisory-lock key of an idempotency key (`$1` tenant, `$2` key). The schema is part of it,
 * so deployments sharing one database never block each other.
 */
export const IDEMPOTENCY_LOCK_KEY = `hashtext('idempotency:' || current_schema() || ':' || $1), hashtext($2)`;

/**
 * Takes the per-(schema, tenant, key) lock for the current transaction without waiting; false when
 * another request with the same key is running right now. Released at COMMIT or ROLLBACK.
 */
export async function tryLockIdempotencyKey(tx: Queryable, tenant: string, key: string): Promise<boolean> {
  const { rows } = await tx.query<{ locked: boolean }>(
    `SELECT pg_try_advisory_xact_lock(${IDEMPOTENCY_LOCK_KEY}) AS locked`,
    [tenant, key],
  );
  return rows[0]?.locked === true;
}

/** The unexpired record of `key` in the tenant, if any. */
export async function findIdempotencyRecord(tx: Queryable, tenant: string, key: string): Promise<IdempotencyRecord | undefined> {
  return inTenant(tx, tenant, async (tx) => {
    const { rows } = await tx.query<{ scope: string; request_hash: string; response_status: number; response_body: unknown; created_at: Date }>(
      `SELECT scope, request_hash, response_status, response_body, created_at FROM idempotency_keys
       WHERE tenant = $1 AND key = $2 AND state = 'completed' AND expires_at > now()`,
      [tenant, key],
    );
    const row = rows[0];
    return row
      ? { scope: row.scope, requestHash: row.request_hash, responseStatus: row.response_status, responseBody: row.response_body, createdAt: row.created_at }
      : undefined;
  });
}

/** Stores the outcome under the key (replacing an expired record), kept for `retentionDays`. */
export async function saveIdempotencyRecord(
  tx: Queryable,
  tenant: string,
  key: string,
  record: { scope: string; requestHash: string; responseStatus: number; responseBody: unknown; retentionDays: number },
): Promise<void> {
  return inTenant(tx, tenant, async (tx) => {
    await tx.query(
      `INSERT INTO idempotency_keys (tenant, key, scope, request_hash, state, response_status, response_body, completed_at, expires_at)
       VALUES ($1, $2, $3, $4, 'completed', $5, $6, now(), now() + make_interval(days => $7))
       ON CONFLICT (tenant, key) DO UPDATE SET
         scope = excluded.scope, request_hash = excluded.request_hash, state = 'completed',
         response_status = excluded.response_status, response_body = excluded.response_body,
         created_at = now(), completed_at = now(), expires_at = excluded.expires_at`,
      [tenant, key, record.scope, record.requestHash, record.responseStatus, JSON.stringify(record.responseBody), record.retentionDays],
    );
  });
}

/** Deletes records past their retention; answers how many. Runs across tenants (housekeeping). */
export async function deleteExpiredIdempotencyKeys(db: Queryable): Promise<number> {
  return inAllTenants(db, async (db) => {
    const { rowCount } = await db.query(`DELETE FROM idempotency_keys WHERE expires_at <= now()`);
    return rowCount;
  });
}
