import type { Queryable } from '../db.js';

/** An audit event as the API shows it. */
export interface AuditEvent {
  id: string;
  ts: string;
  actor: { role: string; id: string | null };
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  summary: string;
  details: Record<string, unknown>;
  request_id: string | null;
}

/** What a caller records; the database assigns `id` and `ts`. */
export interface NewAuditEvent {
  actorRole: string;
  actorId?: string | null;
  action: string;
  subjectType?: string | null;
  subjectId?: string | null;
  summary?: string;
  details?: Record<string, unknown>;
  requestId?: string | null;
}

interface AuditRow {
  id: string;
  ts: Date;
  actor_role: string;
  actor_id: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  summary: string;
  details: Record<string, unknown>;
  request_id: string | null;
}

const COLUMNS = 'id, ts, actor_role, actor_id, action, subject_type, subject_id, summary, details, request_id';

function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    id: row.id,
    ts: row.ts.toISOString(),
    actor: { role: row.actor_role, id: row.actor_id },
    action: row.action,
    subject_type: row.subject_type,
    subject_id: row.subject_id,
    summary: row.summary,
    details: row.details,
    request_id: row.request_id,
  };
}

/** Appends one event to the tenant's audit trail (there is no update or delete). */
export async function appendAuditEvent(db: Queryable, tenant: string, event: NewAuditEvent): Promise<AuditEvent> {
  const { rows } = await db.query<AuditRow>(
    `INSERT INTO audit_events (tenant, actor_role, actor_id, action, subject_type, subject_id, summary, details, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     RETURNING ${COLUMNS}`,
    [
      tenant,
      event.actorRole,
      event.actorId ?? null,
      event.action,
      event.subjectType ?? null,
      event.subjectId ?? null,
      event.summary ?? '',
      JSON.stringify(event.details ?? {}),
      event.requestId ?? null,
    ],
  );
  return toAuditEvent(rows[0] as AuditRow);
}

/** The tenant's newest audit events, newest first. */
export async function listAuditEvents(db: Queryable, tenant: string, options: { limit: number }): Promise<AuditEvent[]> {
  const { rows } = await db.query<AuditRow>(
    `SELECT ${COLUMNS} FROM audit_events WHERE tenant = $1 ORDER BY ts DESC, id DESC LIMIT $2`,
    [tenant, options.limit],
  );
  return rows.map(toAuditEvent);
}
