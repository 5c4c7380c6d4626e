import {
  findExternalSource,
  isConnectionTaken,
  readSourceStatuses,
  sourceHasSyncedData,
  upsertExternalSource,
  withTransaction,
  type Db,
  type ExternalSource,
  type NewAuditEvent,
  type SyncRunView,
} from '@accounting/data-pg';
import { recordAuditEvent } from '../audit/recordAuditEvent.js';
import type { Actor } from '../audit/manualReview.js';
import { ConflictError, ConnectionNotAssignedError } from '../errors.js';
import { isConnectionAssigned, type ConnectionAssignments } from './connectionAssignments.js';

/** One source as `GET /v1/accounting/os/sources` shows it (the Backoffice OS sources card). */
export interface SourceStatus {
  source: string;
  kind: string;
  connection_id: string;
  enabled: boolean;
  last_success_at: string | null;
  /** Seconds since the last successful sync; null before the first one. */
  lag_seconds: number | null;
  /** Enabled and not synced successfully within the threshold (or never). */
  stale: boolean;
  last_error: { code: string; at: string | null; attempts: number | null } | null;
  /** A complete pass stored its cursor: runs sync the changes since then (after finishing `pass_in_progress`, if any). */
  cursor_present: boolean;
  cursor_updated_at: string | null;
  /**
   * A pass (full or incremental) that stored pages but has not reached its last page yet: the
   * next run resumes after its `pages` pages. Null when no pass is unfinished.
   */
  pass_in_progress: { full_sync: boolean; started_at: string; updated_at: string; pages: number } | null;
  rows: { total: number; active: number; removed: number };
  provider_refreshed_at: string | null;
  runs_total: number;
  errors_total: number;
  recent_runs: SyncRunView[];
}

const iso = (value: Date | null): string | null => (value ? value.toISOString() : null);

/** The tenant's sources (or only `only`) with lag, staleness, last error, cursor, row counts and recent runs. */
export async function getSourceStatuses(
  db: Db,
  tenant: string,
  options: { now: Date; staleAfterSeconds: number; only?: string },
): Promise<SourceStatus[]> {
  const rows = await readSourceStatuses(db, tenant, options.only !== undefined ? { only: options.only } : {});
  return rows.map((row) => {
    const lag = row.last_success_at ? Math.max(0, Math.round((options.now.getTime() - row.last_success_at.getTime()) / 1000)) : null;
    return {
      source: row.source,
      kind: row.kind,
      connection_id: row.connection_id,
      enabled: row.enabled,
      last_success_at: iso(row.last_success_at),
      lag_seconds: lag,
      stale: row.enabled && (lag === null || lag > options.staleAfterSeconds),
      last_error: row.last_error_code
        ? { code: row.last_error_code, at: iso(row.last_error_at), attempts: row.last_error_attempts }
        : null,
      cursor_present: row.cursor_present,
      cursor_updated_at: iso(row.cursor_updated_at),
      pass_in_progress:
        row.pass_started_at && row.pass_updated_at
          ? {
            full_sync: row.pass_full_sync === true,
            started_at: row.pass_started_at.toISOString(),
            updated_at: row.pass_updated_at.toISOString(),
            pages: row.pass_pages ?? 0,
          }
          : null,
      rows: { total: row.rows_total, active: row.rows_active, removed: row.rows_removed },
      provider_refreshed_at: iso(row.provider_refreshed_at),
      runs_total: Number(row.runs_total),
      errors_total: Number(row.errors_total),
      recent_runs: row.recent_runs.map((run) => ({
        ...run,
        started_at: new Date(run.started_at).toISOString(),
        finished_at: run.finished_at ? new Date(run.finished_at).toISOString() : null,
      })),
    };
  });
}

/** An audit event of `actor` about the source `input` names. */
function sourceEvent(
  actor: Actor,
  input: Pick<ExternalSource, 'source'>,
  action: string,
  summary: string,
  details: Record<string, unknown>,
): NewAuditEvent {
  return {
    actorRole: actor.role,
    actorId: actor.userId ?? null,
    action,
    subjectType: 'external_source',
    subjectId: input.source,
    summary,
    details,
    requestId: actor.requestId ?? null,
  };
}

/**
 * Creates or updates a source of the tenant and records who did it in the audit trail.
 * - The connection must be assigned to the tenant (`assignments`, from `BANK_SBX_CONNECTIONS_JSON`):
 *   otherwise `CONNECTION_NOT_ASSIGNED`, and the refusal is itself audited
 *   (`source_connection_refused`, committed on its own although nothing else is stored).
 * - A source that already holds synced data keeps its connection (409 SOURCE_CONNECTION_LOCKED):
 *   its rows, notes and cursor belong to that connection, and transaction ids repeat across
 *   connections. Use a new source id for another connection.
 * - A connection recorded in the database as another tenant's (assigned elsewhere before the
 *   configuration changed) answers 409 CONNECTION_IN_USE.
 */
export async function configureSource(
  db: Db,
  actor: Actor,
  input: Omit<ExternalSource, 'tenant'>,
  assignments: ConnectionAssignments,
): Promise<{ source: ExternalSource; created: boolean }> {
  if (!isConnectionAssigned(assignments, actor.tenant, input.connectionId)) {
    await withTransaction(db, (tx) =>
      recordAuditEvent(
        tx,
        actor.tenant,
        sourceEvent(actor, input, 'source_connection_refused', `refused ${input.kind} source ${input.source}: connection ${input.connectionId} is not assigned to the tenant`, {
          kind: input.kind,
          connection_id: input.connectionId,
          reason: 'CONNECTION_NOT_ASSIGNED',
        }),
      ),
    );
    throw new ConnectionNotAssignedError(input.source, input.connectionId);
  }
  return withTransaction(db, async (tx) => {
    const existing = await findExternalSource(tx, actor.tenant, input.source);
    if (existing && existing.connectionId !== input.connectionId && (await sourceHasSyncedData(tx, actor.tenant, input.source))) {
      throw new ConflictError(
        `source ${input.source} already holds data synced from another connection; configure a new source id instead`,
        'SOURCE_CONNECTION_LOCKED',
        { source: input.source },
      );
    }
    const result = await upsertExternalSource(tx, actor.tenant, input).catch((err: unknown) => {
      if (!isConnectionTaken(err)) throw err;
      throw new ConflictError(`connection ${input.connectionId} is still recorded as another tenant's`, 'CONNECTION_IN_USE', {
        connection_id: input.connectionId,
      });
    });
    await recordAuditEvent(
      tx,
      actor.tenant,
      sourceEvent(actor, input, 'external_source_configured', `${result.created ? 'created' : 'updated'} ${input.kind} source ${input.source} (${input.enabled ? 'enabled' : 'disabled'})`, {
        kind: input.kind,
        connection_id: input.connectionId,
        enabled: input.enabled,
      }),
    );
    return result;
  });
}
