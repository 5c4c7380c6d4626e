import { listAuditEvents, PG_BIGINT, type AuditEvent, type AuditFilter, type AuditPosition, type Queryable } from '@accounting/data-pg';
import { ValidationError } from '../errors.js';

/** Every action the product records. The audit list's `action` filter accepts these only. */
export const AUDIT_ACTIONS = [
  'manual_review_request',
  'external_sync_failed',
  'external_source_configured',
  'source_connection_refused',
  'export_created',
  'export_aborted',
  'recon_decision',
  'recon_match_replaced',
  'recon_alias_learned',
  'recon_alias_removed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** The opaque `cursor` of the audit list: base64url of `{"t": ts in µs, "i": id}`. */
export function encodeAuditCursor(position: AuditPosition): string {
  return Buffer.from(JSON.stringify({ t: position.tsMicros, i: position.id })).toString('base64url');
}

const inBigint = (digits: string) => BigInt(digits) >= PG_BIGINT.MIN && BigInt(digits) <= PG_BIGINT.MAX;

/**
 * The position in a cursor made by `encodeAuditCursor`, or null for anything else: `t` must be
 * a `bigint` and `i` a positive one, as their columns are. (Whether `t` is an instant the API
 * accepts is the API's own check.)
 */
export function readAuditCursor(cursor: string): AuditPosition | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const { t, i } = (value ?? {}) as { t?: unknown; i?: unknown };
  if (typeof t !== 'string' || typeof i !== 'string' || !/^-?\d{1,19}$/.test(t) || !/^[1-9]\d{0,18}$/.test(i)) return null;
  if (!inBigint(t) || !inBigint(i)) return null;
  return { tsMicros: t, id: i };
}

/** Reads a cursor made by `encodeAuditCursor`; anything else is a `ValidationError`. */
export function decodeAuditCursor(cursor: string): AuditPosition {
  const position = readAuditCursor(cursor);
  if (!position) throw new ValidationError('cursor is not valid', [{ path: 'cursor', message: 'not a cursor this API issued' }]);
  return position;
}

export interface AuditTrailPage {
  items: AuditEvent[];
  next_cursor: string | null;
}

/** One page of the tenant's audit trail, newest first, with the cursor of the next page. */
export async function listAuditTrail(
  db: Queryable,
  tenant: string,
  query: { filter: AuditFilter; limit: number; cursor?: string | undefined },
): Promise<AuditTrailPage> {
  const after = query.cursor ? decodeAuditCursor(query.cursor) : null;
  const page = await listAuditEvents(db, tenant, { filter: query.filter, limit: query.limit, after });
  return { items: page.items, next_cursor: page.next ? encodeAuditCursor(page.next) : null };
}
