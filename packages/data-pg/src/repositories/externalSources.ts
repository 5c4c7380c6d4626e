import type { Queryable } from '../db.js';
import { inAllTenants, inTenant } from '../tenantScope.js';

export type ExternalSourceKind = 'bank_sbx';

export interface ExternalSource {
  tenant: string;
  source: string;
  kind: ExternalSourceKind;
  connectionId: string;
  enabled: boolean;
}

interface SourceRow {
  tenant: string;
  source: string;
  kind: ExternalSourceKind;
  connection_id: string;
  enabled: boolean;
}

const toSource = (row: SourceRow): ExternalSource => ({
  tenant: row.tenant,
  source: row.source,
  kind: row.kind,
  connectionId: row.connection_id,
  enabled: row.enabled,
});

/**
 * Whether `err` is the refusal of migration 010: the connection belongs to another tenant
 * (`external_connection_owners`).
 */
export function isConnectionTaken(err: unknown): boolean {
  const { code, constraint } = (err ?? {}) as { code?: unknown; constraint?: unknown };
  return code === '23503' && constraint === 'external_sources_connection_owner_fkey';
}

/**
 * Records the tenant as the connection's owner unless some tenant already owns it. No conflict
 * target: two writers claiming it at once (two workers seeding the same configuration) collide on
 * either unique index, and the later one must do nothing on both.
 */
async function claimConnection(db: Queryable, tenant: string, source: Omit<ExternalSource, 'tenant'>): Promise<void> {
  await db.query(
    `INSERT INTO external_connection_owners (kind, connection_id, tenant) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING`,
    [source.kind, source.connectionId, tenant],
  );
}

/**
 * Creates or updates one source of the tenant; answers the stored source and whether it was new.
 * A connection another tenant owns fails with the owner foreign key (`isConnectionTaken`).
 */
export async function upsertExternalSource(
  db: Queryable,
  tenant: string,
  source: Omit<ExternalSource, 'tenant'>,
): Promise<{ source: ExternalSource; created: boolean }> {
  return inTenant(db, tenant, async (db) => {
    await claimConnection(db, tenant, source);
    const { rows } = await db.query<SourceRow & { created: boolean }>(
      `INSERT INTO external_sources AS s (tenant, source, kind, connection_id, enabled)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant, source) DO UPDATE
         SET kind = excluded.kind, connection_id = excluded.connection_id, enabled = excluded.enabled, updated_at = now()
       RETURNING tenant, source, kind, connection_id, enabled, (xmax = 0) AS created`,
      [tenant, source.source, source.kind, source.connectionId, source.enabled],
    );
    const row = rows[0] as SourceRow & { created: boolean };
    return { source: toSource(row), created: row.created };
  });
}

/**
 * Adds the source when the tenant does not have it yet (start-up seeding from configuration);
 * an existing source, possibly changed by an admin, is left as it is and returned. Undefined:
 * the tenant has no such source and the connection belongs to another tenant, so none was added.
 */
export async function seedExternalSource(
  db: Queryable,
  tenant: string,
  source: Omit<ExternalSource, 'tenant'>,
): Promise<ExternalSource | undefined> {
  return inTenant(db, tenant, async (db) => {
    await claimConnection(db, tenant, source);
    await db.query(
      `INSERT INTO external_sources (tenant, source, kind, connection_id, enabled)
       SELECT $1, $2, $3, $4, $5
        WHERE EXISTS (SELECT 1 FROM external_connection_owners WHERE tenant = $1 AND kind = $3 AND connection_id = $4)
       ON CONFLICT (tenant, source) DO NOTHING`,
      [tenant, source.source, source.kind, source.connectionId, source.enabled],
    );
    const { rows } = await db.query<SourceRow>(
      `SELECT tenant, source, kind, connection_id, enabled FROM external_sources WHERE tenant = $1 AND source = $2`,
      [tenant, source.source],
    );
    return rows[0] ? toSource(rows[0]) : undefined;
  });
}

/** The tenant's sources, by source id. */
export async function listExternalSources(db: Queryable, tenant: string): Promise<ExternalSource[]> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<SourceRow>(
      `SELECT tenant, source, kind, connection_id, enabled FROM external_sources WHERE tenant = $1 ORDER BY source`,
      [tenant],
    );
    return rows.map(toSource);
  });
}

/**
 * Every enabled source of every tenant: only the sync worker, which serves all tenants by
 * design, reads across tenants.
 */
export async function listEnabledSourcesOfAllTenants(db: Queryable): Promise<ExternalSource[]> {
  return inAllTenants(db, async (db) => {
    const { rows } = await db.query<SourceRow>(
      `SELECT tenant, source, kind, connection_id, enabled FROM external_sources WHERE enabled ORDER BY tenant, source`,
    );
    return rows.map(toSource);
  });
}

/** The stored source, if the tenant has it. */
export async function findExternalSource(db: Queryable, tenant: string, source: string): Promise<ExternalSource | undefined> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<SourceRow>(
      `SELECT tenant, source, kind, connection_id, enabled FROM external_sources WHERE tenant = $1 AND source = $2`,
      [tenant, source],
    );
    return rows[0] ? toSource(rows[0]) : undefined;
  });
}

/** Whether anything was synced into the source yet (a cursor, an unfinished pass or any ledger row). */
export async function sourceHasSyncedData(db: Queryable, tenant: string, source: string): Promise<boolean> {
  return inTenant(db, tenant, async (db) => {
    const { rows } = await db.query<{ synced: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM external_ledger_offset WHERE tenant = $1 AND source = $2)
           OR EXISTS (SELECT 1 FROM external_sync_progress WHERE tenant = $1 AND source = $2)
           OR EXISTS (SELECT 1 FROM external_ledger WHERE tenant = $1 AND source = $2) AS synced`,
      [tenant, source],
    );
    return rows[0]?.synced === true;
  });
}
