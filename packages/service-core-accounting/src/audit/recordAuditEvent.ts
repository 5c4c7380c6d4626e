import { appendAuditEvent, enqueueFeedback, type AuditEvent, type NewAuditEvent, type Queryable } from '@accounting/data-pg';
import type { Actor } from './manualReview.js';

/**
 * The failure cases the feedback loop reports (seeds section 7): failed syncs, manual reviews,
 * and declined reconciliation suggestions.
 */
export function isFeedbackCase(event: Pick<NewAuditEvent, 'action' | 'details'>): boolean {
  if (event.action === 'external_sync_failed' || event.action === 'manual_review_request') return true;
  return event.action === 'recon_decision' && event.details?.decision === 'decline';
}

/**
 * Appends an audit event and, for a feedback case, queues its webhook notification in the same
 * transaction (so a case is never lost, nor announced without its event). Every service records
 * audit events through this function.
 */
export async function recordAuditEvent(tx: Queryable, tenant: string, event: NewAuditEvent): Promise<AuditEvent> {
  const stored = await appendAuditEvent(tx, tenant, event);
  if (isFeedbackCase(event)) {
    await enqueueFeedback(tx, tenant, { auditEventId: stored.id, action: stored.action, subjectId: stored.subject_id, summary: stored.summary });
  }
  return stored;
}

/** `recordAuditEvent` for what an actor did: the event carries the actor's tenant, role, user id and request id. */
export function recordActorEvent(
  tx: Queryable,
  actor: Actor,
  event: Omit<NewAuditEvent, 'actorRole' | 'actorId' | 'requestId'>,
): Promise<AuditEvent> {
  return recordAuditEvent(tx, actor.tenant, { ...event, actorRole: actor.role, actorId: actor.userId ?? null, requestId: actor.requestId ?? null });
}
