import type { Queryable } from '../db.js';
import { sqlParams } from '../sqlParams.js';

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
  ts: string;
  actor_role: string;
  actor_id: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  summary: string;
  details: Record<string, unknown>;
  request_id: string | null;
}

/**
 * SQL for a timestamptz `column` as ISO 8601 UTC with microseconds: what the API shows, and
 * text that round-trips through timestamptz exactly (so `from`/`to` may repeat it).
 */
export const isoTimestampSql = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const COLUMNS = `id, ${isoTimestampSql('ts')} AS ts, actor_role, actor_id, action, subject_type, subject_id, summary, details, request_id`;

function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    id: row.id,
    ts: row.ts,
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

/** Filters of the audit list; every one is optional and they combine with AND. */
export interface AuditFilter {
  /** Any of these actions. */
  actions?: readonly string[];
  subjectId?: string;
  /** The actor's id (`X-User-Id`) or role. */
  actor?: string;
  /** Inclusive lower bound of `ts`, an ISO 8601 timestamp (microseconds kept). */
  from?: string;
  /** Exclusive upper bound of `ts`, an ISO 8601 timestamp. */
  to?: string;
  /** Case-insensitive substring of subject id or summary. */
  q?: string;
}

/** Where a page ended: the last row's `ts` in microseconds since the epoch, and its id. */
export interface AuditPosition {
  tsMicros: string;
  id: string;
}

export interface AuditPage {
  items: AuditEvent[];
  /** Present when more rows follow. */
  next: AuditPosition | null;
}

/** The search expression; it must stay identical to the trigram index of migration 004. */
const SEARCH_EXPRESSION = `(coalesce(subject_id, '') || ' ' || summary)`;

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * One page of the tenant's audit events, newest first (ties broken by id), after `after`.
 * Keyset pagination: a page costs the same at any depth, and rows inserted meanwhile (newer)
 * never shift what the next page returns.
 */
export async function listAuditEvents(
  db: Queryable,
  tenant: string,
  options: { filter?: AuditFilter; limit: number; after?: AuditPosition | null },
): Promise<AuditPage> {
  const filter = options.filter ?? {};
  const { params, where, param } = sqlParams([tenant]);
  where.push('tenant = $1');
  // One action (the Backoffice's pinned filter) as an equality, so the (tenant, action, ts, id)
  // index also gives the order; a list needs ANY and a sort of the matches.
  if (filter.actions?.length === 1) where.push(`action = ${param(filter.actions[0])}`);
  else if (filter.actions?.length) where.push(`action = ANY(${param(filter.actions)}::text[])`);
  if (filter.subjectId !== undefined) where.push(`subject_id = ${param(filter.subjectId)}`);
  if (filter.actor !== undefined) {
    const actor = param(filter.actor);
    where.push(`(actor_id = ${actor} OR actor_role = ${actor})`);
  }
  if (filter.from) where.push(`ts >= ${param(filter.from)}::timestamptz`);
  if (filter.to) where.push(`ts < ${param(filter.to)}::timestamptz`);
  if (filter.q) where.push(`${SEARCH_EXPRESSION} ILIKE ${param(`%${escapeLike(filter.q)}%`)}`);
  if (options.after) {
    const ts = param(options.after.tsMicros);
    const id = param(options.after.id);
    where.push(`(ts, id) < (timestamptz 'epoch' + ${ts}::bigint * interval '1 microsecond', ${id}::bigint)`);
  }
  // The ORDER BY names the table's columns: a bare `ts` there would be the output column, the
  // to_char text, which no index orders (a full sort of the tenant's rows on every page).
  const { rows } = await db.query<AuditRow & { ts_micros: string }>(
    `SELECT ${COLUMNS}, (extract(epoch FROM ts) * 1000000)::bigint AS ts_micros
     FROM audit_events WHERE ${where.join(' AND ')}
     ORDER BY audit_events.ts DESC, audit_events.id DESC LIMIT ${param(options.limit + 1)}`,
    params,
  );
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    items: page.map(toAuditEvent),
    next: rows.length > options.limit && last ? { tsMicros: last.ts_micros, id: last.id } : null,
  };
}
