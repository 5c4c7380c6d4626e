import type { AuditChainKeyring, AuditChainRow } from '../auditChainMac.js';
import type { Db, Queryable, Session } from '../db.js';
import { inAllTenants, inTenant } from '../tenantScope.js';
import { isoTimestampSql } from './auditEvents.js';

/** The head of a tenant's chain: its last row's place and MAC (`seq` 0, `mac` null: no row yet). */
export interface AuditChainHead {
  seq: string;
  mac: string | null;
  key_id: string | null;
  /**
   * The lowest place of a row beyond the head, read in the same statement (one snapshot), so a
   * row appended meanwhile never shows here: null unless the head was moved back under rows
   * (someone who can write the table hiding an edit behind an older head).
   */
  beyond: string | null;
}

/** A chained row's columns, as `AuditChainRow` (every value as text). */
const CHAIN_COLUMNS = `tenant, chain_seq::text AS seq, id::text AS id, ${isoTimestampSql('ts')} AS ts, actor_role, actor_id, action,
  subject_type, subject_id, summary, details::text AS details, request_id, chain_key_id AS key_id, chain_prev_mac AS prev_mac, chain_mac AS mac`;

/** The head of the tenant's chain as `audit_chain_heads` records it. */
export async function readAuditChainHead(db: Queryable, tenant: string): Promise<AuditChainHead> {
  const { rows } = await inTenant(db, tenant, (tx) =>
    tx.query<AuditChainHead>(
      `SELECT coalesce(h.seq, 0)::text AS seq, h.mac, h.key_id,
              (SELECT min(e.chain_seq)::text FROM audit_events e WHERE e.tenant = $1 AND e.chain_seq > coalesce(h.seq, 0)) AS beyond
       FROM (SELECT 1) AS one LEFT JOIN audit_chain_heads h ON h.tenant = $1`,
      [tenant],
    ),
  );
  return rows[0] as AuditChainHead;
}

/** Up to `limit` rows of the tenant's chain after place `afterSeq`, in chain order. */
export async function readAuditChainBatch(db: Queryable, tenant: string, afterSeq: string, limit: number): Promise<AuditChainRow[]> {
  const { rows } = await inTenant(db, tenant, (tx) =>
    tx.query<AuditChainRow>(`SELECT ${CHAIN_COLUMNS} FROM audit_events WHERE tenant = $1 AND chain_seq > $2 ORDER BY audit_events.chain_seq LIMIT $3`, [
      tenant,
      afterSeq,
      limit,
    ]),
  );
  return rows;
}

/** The id of the tenant's oldest row without chain columns, if any. */
export async function findUnchainedAuditEvent(db: Queryable, tenant: string): Promise<string | undefined> {
  const { rows } = await inTenant(db, tenant, (tx) =>
    tx.query<{ id: string }>(`SELECT id::text AS id FROM audit_events WHERE tenant = $1 AND chain_seq IS NULL ORDER BY audit_events.id LIMIT 1`, [tenant]),
  );
  return rows[0]?.id;
}

/** Tenants with rows not yet chained (across tenants: the chaining step serves them all). */
export async function listTenantsWithUnchainedAuditEvents(db: Queryable): Promise<string[]> {
  const { rows } = await inAllTenants(db, (tx) =>
    tx.query<{ tenant: string }>(`SELECT DISTINCT tenant FROM audit_events WHERE chain_seq IS NULL ORDER BY tenant`),
  );
  return rows.map((row) => row.tenant);
}

/**
 * Chains the tenant's rows that have no chain columns yet (rows written before migration 011, or
 * by a release before it during a rolling upgrade), in id order, onto the end of the tenant's
 * chain, `batchSize` rows per transaction under the head's lock. The only UPDATE of
 * `audit_events` there is: the append-only trigger lets through exactly this one (filling NULL
 * chain columns, nothing else), and it needs a role with UPDATE on the table (the migration
 * role). Answers how many rows it chained.
 */
export async function chainUnchainedAuditEvents(db: Db | Session, tenant: string, keyring: AuditChainKeyring, batchSize = 1_000): Promise<number> {
  const key = keyring.current;
  let chained = 0;
  for (;;) {
    const done = await inTenant(db, tenant, async (tx) => {
      const { rows: heads } = await tx.query<{ seq: string; mac: string | null }>(
        `INSERT INTO audit_chain_heads AS head (tenant) VALUES ($1)
         ON CONFLICT (tenant) DO UPDATE SET tenant = head.tenant RETURNING head.seq::text AS seq, head.mac`,
        [tenant],
      );
      const head = heads[0] as { seq: string; mac: string | null };
      const { rows } = await tx.query<Omit<AuditChainRow, 'seq' | 'key_id' | 'prev_mac' | 'mac'>>(
        `SELECT tenant, id::text AS id, ${isoTimestampSql('ts')} AS ts, actor_role, actor_id, action, subject_type, subject_id, summary,
                details::text AS details, request_id
         FROM audit_events WHERE tenant = $1 AND chain_seq IS NULL ORDER BY audit_events.id LIMIT $2 FOR UPDATE`,
        [tenant, batchSize],
      );
      if (rows.length === 0) return 0;
      let seq = BigInt(head.seq);
      let prev = head.mac;
      const links = rows.map((row) => {
        seq += 1n;
        const link = { id: row.id, seq: seq.toString(), prev, mac: key.mac({ ...row, seq: seq.toString() }, prev) };
        prev = link.mac;
        return link;
      });
      await tx.query(
        `UPDATE audit_events SET chain_seq = link.seq, chain_key_id = $2, chain_prev_mac = link.prev, chain_mac = link.mac
         FROM unnest($3::bigint[], $4::bigint[], $5::text[], $6::text[]) AS link(id, seq, prev, mac)
         WHERE audit_events.tenant = $1 AND audit_events.id = link.id`,
        [tenant, key.id, links.map((l) => l.id), links.map((l) => l.seq), links.map((l) => l.prev), links.map((l) => l.mac)],
      );
      await tx.query(`UPDATE audit_chain_heads SET seq = $2, mac = $3, key_id = $4, updated_at = now() WHERE tenant = $1`, [
        tenant,
        seq.toString(),
        prev,
        key.id,
      ]);
      return rows.length;
    });
    chained += done;
    if (done < batchSize) return chained;
  }
}

/**
 * Chains every tenant's unchained rows (`chainUnchainedAuditEvents`), when migration 011 is
 * applied and the role may UPDATE `audit_events` (the migrations' role; the application's role
 * may not, and leaves them to the next migration run). The migration runner calls it after the
 * migrations, under its lock. Answers the rows chained per tenant.
 */
export async function chainAllUnchainedAuditEvents(q: Db | Session, keyring: AuditChainKeyring): Promise<Record<string, number>> {
  const { rows } = await q.query<{ able: boolean }>(
    `SELECT CASE WHEN to_regclass('audit_chain_heads') IS NULL THEN false ELSE has_table_privilege('audit_events', 'UPDATE') END AS able`,
  );
  const chained: Record<string, number> = {};
  if (!rows[0]?.able) return chained;
  for (const tenant of await listTenantsWithUnchainedAuditEvents(q)) chained[tenant] = await chainUnchainedAuditEvents(q, tenant, keyring);
  return chained;
}

/** A head due to be published, with the id of the row it points at. */
export interface DueAuditChainHead extends AuditChainHead {
  tenant: string;
  mac: string;
  key_id: string;
  event_id: string;
}

/**
 * Claims the heads not published for `intervalMs` (across tenants: the schedule serves them all),
 * marking them published now; call it in the transaction that queues them, so a head is claimed
 * by one replica and queued exactly when claimed.
 */
export async function claimDueAuditChainHeads(tx: Queryable, intervalMs: number): Promise<DueAuditChainHead[]> {
  const { rows } = await inAllTenants(tx, (tx) =>
    tx.query<DueAuditChainHead>(
      `UPDATE audit_chain_heads AS head SET published_at = now()
       WHERE seq > 0 AND (published_at IS NULL OR published_at <= now() - make_interval(secs => $1::float8 / 1000))
       RETURNING tenant, seq::text AS seq, mac, key_id,
         (SELECT id::text FROM audit_events WHERE audit_events.tenant = head.tenant AND audit_events.chain_seq = head.seq) AS event_id`,
      [intervalMs],
    ),
  );
  return rows.filter((row) => row.event_id !== null).sort((a, b) => a.tenant.localeCompare(b.tenant));
}
