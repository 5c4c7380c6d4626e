import type { Queryable } from '../db.js';
import { inAllTenants, inTenant } from '../tenantScope.js';

/** A failure case waiting to be sent to the feedback webhook. */
export interface FeedbackItem {
  id: string;
  tenant: string;
  auditEventId: string;
  action: string;
  subjectId: string | null;
  summary: string;
  attempts: number;
}

/** Queues a feedback item; call it in the transaction that writes its audit event. */
export async function enqueueFeedback(
  tx: Queryable,
  tenant: string,
  item: { auditEventId: string; action: string; subjectId: string | null; summary: string },
): Promise<void> {
  return inTenant(tx, tenant, async (tx) => {
    await tx.query(
      `INSERT INTO feedback_outbox (tenant, audit_event_id, action, subject_id, summary) VALUES ($1, $2, $3, $4, $5)`,
      [tenant, item.auditEventId, item.action, item.subjectId, item.summary],
    );
  });
}

/**
 * Leases up to `limit` due items for `leaseSeconds` (counting an attempt) and returns them.
 * `SKIP LOCKED` lets several replicas dispatch at once without sending an item twice at the
 * same time. Items older than `maxAgeHours` are left alone (a webhook configured late must not
 * replay old history). Runs across tenants: the dispatcher serves them all.
 */
export async function leaseDueFeedback(db: Queryable, options: { limit: number; leaseSeconds: number; maxAgeHours: number }): Promise<FeedbackItem[]> {
  return inAllTenants(db, async (db) => {
    const { rows } = await db.query<{ id: string; tenant: string; audit_event_id: string; action: string; subject_id: string | null; summary: string; attempts: number }>(
      `UPDATE feedback_outbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
       WHERE id IN (
         SELECT id FROM feedback_outbox
         WHERE delivered_at IS NULL AND next_attempt_at <= now() AND created_at > now() - make_interval(hours => $3)
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, tenant, audit_event_id, action, subject_id, summary, attempts`,
      [options.limit, options.leaseSeconds, options.maxAgeHours],
    );
    return rows
      .map((row) => ({ id: row.id, tenant: row.tenant, auditEventId: row.audit_event_id, action: row.action, subjectId: row.subject_id, summary: row.summary, attempts: row.attempts }))
      .sort((a, b) => Number(a.id) - Number(b.id));
  });
}

/** Records the delivery of the tenant's item `id`. */
export async function markFeedbackDelivered(db: Queryable, tenant: string, id: string): Promise<void> {
  return inTenant(db, tenant, async (db) => {
    await db.query(`UPDATE feedback_outbox SET delivered_at = now(), last_error = NULL WHERE tenant = $1 AND id = $2`, [tenant, id]);
  });
}

/** Records a failed attempt of the tenant's item `id`; `retryInSeconds` null means give up (kept, with its last error). */
export async function markFeedbackFailed(db: Queryable, tenant: string, id: string, error: string, retryInSeconds: number | null): Promise<void> {
  return inTenant(db, tenant, async (db) => {
    await db.query(
      `UPDATE feedback_outbox SET last_error = $3,
         next_attempt_at = CASE WHEN $4::float8 IS NULL THEN 'infinity'::timestamptz ELSE now() + make_interval(secs => $4::float8) END
       WHERE tenant = $1 AND id = $2`,
      [tenant, id, error.slice(0, 300), retryInSeconds],
    );
  });
}
