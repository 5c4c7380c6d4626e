import type { AuditChainContent } from '../auditChainMac.js';
import type { Queryable } from '../db.js';
import { inTenant } from '../tenantScope.js';
import { isoTimestampSql } from './auditEvents.js';

/**
 * One audit event as an export writes it. `ts` is ISO 8601 UTC with microseconds, exactly as
 * stored; `details` is the stored jsonb as PostgreSQL prints it, so numbers keep every digit.
 */
export interface AuditExportRow extends Omit<AuditChainContent, 'seq'> {
  /** The row's place in the tenant's audit chain and its MACs (migration 011); null on a row not chained yet. */
  chain_seq: string | null;
  chain_key_id: string | null;
  chain_prev_mac: string | null;
  chain_mac: string | null;
}

/** Which of the tenant's events an export covers: `from <= ts < to` and `ts <= asOf`. */
export interface AuditExportRange {
  /** Inclusive lower bound (ISO 8601 with offset); `undefined`: from the first event. */
  from?: string | undefined;
  /** Exclusive upper bound (ISO 8601 with offset); `undefined`: up to `asOf`. */
  to?: string | undefined;
  /** The fixed upper bound chosen when the export started (from `readAuditClock`). */
  asOf: string;
}

// The queries below ORDER BY `audit_events.ts`: a bare `ts` would be this text column, which no
// index orders.
const COLUMNS = `id, ${isoTimestampSql('ts')} AS ts, tenant, actor_role, actor_id, action, subject_type, subject_id, summary,
  details::text AS details, request_id, chain_seq::text AS chain_seq, chain_key_id, chain_prev_mac, chain_mac`;

const RANGE = `tenant = $1
  AND ts >= COALESCE($2::timestamptz, '-infinity')
  AND ts < COALESCE($3::timestamptz, 'infinity')
  AND ts <= $4::timestamptz`;

/**
 * The database's clock now, as exact text (microseconds). An export reads only events at or
 * before it, so events written while the export streams (its own `export_created` included)
 * never change what it contains.
 */
export async function readAuditClock(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ now: string }>(`SELECT ${isoTimestampSql('clock_timestamp()')} AS now`);
  return (rows[0] as { now: string }).now;
}

/**
 * The tenant's audit events in `range`, oldest first (by `(ts, id)`), as batches of at most
 * `batchSize` rows. Each batch is one keyset query continuing after the last row of the one
 * before (its `ts` carried as text, so no microsecond is lost), so memory stays flat however
 * many events there are, and no transaction or connection is held between batches.
 */
export async function* readAuditExportBatches(
  db: Queryable,
  tenant: string,
  range: AuditExportRange,
  options: { batchSize?: number } = {},
): AsyncGenerator<AuditExportRow[], void, undefined> {
  const batchSize = options.batchSize ?? 1_000;
  const bounds = [tenant, range.from ?? null, range.to ?? null, range.asOf];
  let last: AuditExportRow | undefined;
  for (;;) {
    const after = last;
    const { rows } = await inTenant(db, tenant, (tx) =>
      after
        ? tx.query<AuditExportRow>(
            `SELECT ${COLUMNS} FROM audit_events
             WHERE ${RANGE} AND (ts, id) > ($5::timestamptz, $6::bigint)
             ORDER BY audit_events.ts, audit_events.id LIMIT $7`,
            [...bounds, after.ts, after.id, batchSize],
          )
        : tx.query<AuditExportRow>(`SELECT ${COLUMNS} FROM audit_events WHERE ${RANGE} ORDER BY audit_events.ts, audit_events.id LIMIT $5`, [
            ...bounds,
            batchSize,
          ]),
    );
    if (rows.length > 0) yield rows;
    if (rows.length < batchSize) return;
    last = rows[rows.length - 1];
  }
}

/** The `export_created` audit event of one export, as stored. */
export interface ExportCreatedEvent {
  ts: string;
  details: Record<string, unknown>;
}

/** The tenant's `export_created` event for `exportId`; `undefined` when there is none. */
export async function findExportCreatedEvent(
  db: Queryable,
  tenant: string,
  exportId: string,
): Promise<ExportCreatedEvent | undefined> {
  const { rows } = await inTenant(db, tenant, (tx) =>
    tx.query<ExportCreatedEvent>(
      `SELECT ${isoTimestampSql('ts')} AS ts, details FROM audit_events
       WHERE tenant = $1 AND subject_id = $2 AND action = 'export_created' AND subject_type = 'audit_export'
       ORDER BY audit_events.ts DESC, audit_events.id DESC LIMIT 1`,
      [tenant, exportId],
    ),
  );
  return rows[0];
}
