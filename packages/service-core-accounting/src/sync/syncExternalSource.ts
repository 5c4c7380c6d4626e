import {
  markLedgerTransactionsRemoved,
  readSyncCursor,
  recordSyncFailure,
  recordSyncSuccess,
  startSyncRun,
  storeSyncCursor,
  sweepUnseenLedgerTransactions,
  tryLockSourceSync,
  unlockSourceSync,
  upsertLedgerTransactions,
  type Db,
  type LedgerTransaction,
  type Session,
  type SyncRunTotals,
} from '@accounting/data-pg';
import { recordAuditEvent } from '../audit/recordAuditEvent.js';
import { randomBytes } from 'node:crypto';
import type { Attempted, SyncRequest } from '../adapters/BankSandboxAdapter.js';
import { BankSandboxError } from '../adapters/BankSandboxError.js';
import type { BankTransaction, SyncPage } from '../adapters/bankSandboxContract.js';

/** What the sync needs of the bank: one page of `/v1/transactions/sync` (`BankSandboxAdapter`). */
export interface BankSyncClient {
  syncTransactions(request: SyncRequest, signal?: AbortSignal): Promise<Attempted<SyncPage>>;
}

export interface SourceToSync {
  tenant: string;
  source: string;
  connectionId: string;
}

export interface SyncOptions {
  /** The first sync asks for transactions booked since today minus this many days. */
  sinceDays?: number;
  /** Page size asked of the bank (1..500). */
  pageSize?: number;
  /** How often one run may restart its page loop after MUTATION_DURING_PAGINATION. */
  maxRestarts?: number;
  /** Aborted (worker deadline, SIGTERM): the run stops between pages, failing with DEADLINE_EXCEEDED. */
  signal?: AbortSignal;
  now?: () => Date;
}

export type SyncOutcome =
  | ({ status: 'succeeded'; runId: string } & SyncRunTotals)
  | ({ status: 'failed'; runId: string; errorCode: string; message: string; cause?: unknown } & SyncRunTotals)
  | { status: 'skipped'; reason: 'LOCKED' };

/** A failure of the run that is not the bank's (e.g. the deadline). */
class SyncRunError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Today minus `days`, as the bank's `YYYY-MM-DD` (UTC). */
export function startDateFor(now: Date, days: number): string {
  return new Date(now.getTime() - days * 86_400_000).toISOString().slice(0, 10);
}

function toLedger(tx: BankTransaction): LedgerTransaction {
  return {
    externalId: tx.transaction_id,
    accountId: tx.account_id,
    amount: tx.amount,
    currency: tx.currency,
    bookedDate: tx.booked_date,
    status: tx.status,
    pendingExternalId: tx.pending_transaction_id ?? null,
    description: tx.description,
    counterparty: tx.counterparty ?? null,
    reference: tx.reference ?? null,
    providerUpdatedAt: tx.updated_at ?? null,
  };
}

/**
 * Syncs one source of one tenant from the bank into `external_ledger`.
 *
 * - Single flight: a session-level advisory lock per (tenant, source); a second caller gets
 *   `skipped` at once.
 * - Each page is stored in its own transaction (one upsert statement for its transactions);
 *   the cursor is stored only with the last page of the run, so a stored cursor never runs
 *   ahead of the data and a crash simply replays from the previous cursor (writes are idempotent).
 * - `MUTATION_DURING_PAGINATION`: the page loop restarts from the cursor this run started with.
 * - `INVALID_CURSOR`: a full resync from `start_date`; at its end, live rows booked since then
 *   that the bank no longer returned are tombstoned.
 * - Every run is recorded; a failed one also counts an error and writes an
 *   `external_sync_failed` audit event whose subject is the source.
 */
export async function syncExternalSource(
  db: Db,
  bank: BankSyncClient,
  target: SourceToSync,
  options: SyncOptions = {},
): Promise<SyncOutcome> {
  const { tenant, source } = target;
  return db.withSession(async (session) => {
    if (!(await tryLockSourceSync(session, tenant, source))) return { status: 'skipped', reason: 'LOCKED' } as const;
    try {
      return await runLocked(session, bank, target, options);
    } finally {
      // A failed unlock must not hide the run's own error; a broken session drops the lock anyway.
      await unlockSourceSync(session, tenant, source).catch(() => undefined);
    }
  });
}

async function runLocked(
  session: Session,
  bank: BankSyncClient,
  target: SourceToSync,
  options: SyncOptions,
): Promise<SyncOutcome> {
  const { tenant, source, connectionId } = target;
  const pageSize = options.pageSize ?? 500;
  const maxRestarts = options.maxRestarts ?? 3;
  const startDate = startDateFor((options.now ?? (() => new Date()))(), options.sinceDays ?? 7);

  const runId = await startSyncRun(session, tenant, source);
  const totals: SyncRunTotals = {
    pages: 0, attempts: 0, added: 0, modified: 0, removed: 0, removedUnknown: 0, fullResync: false, providerRefreshedAt: null,
  };
  let startCursor = await readSyncCursor(session, tenant, source);
  let cursor = startCursor;
  let pass = 0;
  let restarts = 0;
  // A full sync tombstones what its own complete pass did not see: each pass has its marker.
  const markers = new Map<number, string>();
  const passMarker = (n: number) => {
    if (!markers.has(n)) markers.set(n, String(randomBytes(8).readBigInt64BE() & 0x7fffffffffffffffn));
    return markers.get(n) as string;
  };

  try {
    for (;;) {
      if (options.signal?.aborted) {
        throw new SyncRunError('DEADLINE_EXCEEDED', 'the worker was stopped (deadline or SIGTERM) before the run finished; the next run resumes');
      }
      let page: SyncPage;
      try {
        const result = await bank.syncTransactions({ connectionId, cursor, count: pageSize, startDate }, options.signal);
        totals.attempts += result.attempts;
        page = result.value;
      } catch (err) {
        if (!(err instanceof BankSandboxError)) throw err;
        totals.attempts += err.attempts;
        if (err.code === 'MUTATION_DURING_PAGINATION' && restarts < maxRestarts) {
          restarts += 1;
          pass += 1;
          cursor = startCursor;
          continue;
        }
        if (err.code === 'INVALID_CURSOR' && startCursor !== null) {
          totals.fullResync = true;
          startCursor = null;
          cursor = null;
          pass += 1;
          continue;
        }
        throw err;
      }

      const scope = { tenant, source, seenMarker: passMarker(pass) };
      const isFullSync = startCursor === null;
      await session.transaction(async (tx) => {
        const upserted = await upsertLedgerTransactions(tx, scope, [...page.added, ...page.modified].map(toLedger));
        const removal = await markLedgerTransactionsRemoved(tx, scope, page.removed.map((r) => r.transaction_id));
        totals.added += upserted.added;
        totals.modified += upserted.modified;
        totals.removed += removal.removed;
        totals.removedUnknown += removal.removedUnknown;
        if (!page.has_more) {
          if (isFullSync) totals.removed += await sweepUnseenLedgerTransactions(tx, scope, startDate);
          await storeSyncCursor(tx, tenant, source, page.next_cursor);
        }
      });
      totals.pages += 1;
      totals.providerRefreshedAt = page.provider_refreshed_at ?? totals.providerRefreshedAt;
      if (!page.has_more) break;
      if (page.next_cursor === cursor) {
        throw new SyncRunError('MALFORMED_RESPONSE', 'bank answered has_more with the cursor it was sent; stopping instead of looping');
      }
      cursor = page.next_cursor;
    }
  } catch (err) {
    const known = err instanceof BankSandboxError || err instanceof SyncRunError;
    const code = known ? err.code : 'INTERNAL';
    const message = known ? err.message : 'unexpected error while storing the sync (see the worker log)';
    const record = async () => {
      await recordSyncFailure(session, tenant, source, runId, { code, message, attempts: totals.attempts, totals });
      await recordAuditEvent(session, tenant, {
        actorRole: 'system',
        actorId: 'worker_sync_external',
        action: 'external_sync_failed',
        subjectType: 'external_source',
        subjectId: source,
        summary: `sync of ${source} failed: ${code}`,
        details: { run_id: runId, error_code: code, message, attempts: totals.attempts },
      });
    };
    if (known) {
      await record();
      return { status: 'failed', runId, errorCode: code, message, ...totals };
    }
    // The database itself may be what failed: when even recording fails, report the original error.
    try {
      await record();
    } catch {
      throw err;
    }
    return { status: 'failed', runId, errorCode: code, message, cause: err, ...totals };
  }

  await recordSyncSuccess(session, tenant, source, runId, totals);
  return { status: 'succeeded', runId, ...totals };
}
