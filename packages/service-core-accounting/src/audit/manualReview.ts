import type { AuditEvent, Queryable } from '@accounting/data-pg';
import { recordActorEvent } from './recordAuditEvent.js';

/** Who is acting, as the policy bridge resolved it. */
export interface Actor {
  tenant: string;
  role: string;
  userId?: string | undefined;
  requestId?: string | undefined;
}

export interface ManualReviewRequest {
  subjectType: string;
  subjectId: string;
  reason: string;
  note?: string | undefined;
  /** When the HUD made the request (it may arrive much later from the offline queue). */
  clientTs?: string | undefined;
}

/** Records a HUD manual-review request as one `manual_review_request` audit event. */
export function requestManualReview(db: Queryable, actor: Actor, input: ManualReviewRequest): Promise<AuditEvent> {
  return recordActorEvent(db, actor, {
    action: 'manual_review_request',
    subjectType: input.subjectType,
    subjectId: input.subjectId,
    summary: input.reason.slice(0, 200),
    details: {
      reason: input.reason,
      ...(input.note !== undefined ? { note: input.note } : {}),
      ...(input.clientTs !== undefined ? { client_ts: input.clientTs } : {}),
    },
  });
}
