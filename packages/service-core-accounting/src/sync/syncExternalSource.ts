import {
  markLedgerTransactionsRemoved,
  readSyncCursor,
  readSyncProgress,
  recordSyncFailure,
  recordSyncRunProgress,
  recordSyncSuccess,
  startSyncRun,
  storeSyncCursor,
  storeSyncProgress,
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
  /**
   * False: the source's connection is not assigned to its tenant (a row written before the
   * assignment existed, or by SQL). The run fails with `CONNECTION_NOT_ASSIGNED` before asking
   * the bank anything. The worker always says; unset counts as assigned.
   */
  connectionAssigned?: boolean;
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

function deadlineExceeded(): SyncRunError {
  return new SyncRunError(
    'DEADLINE_EXCEEDED',
    'the worker was stopped (deadline or SIGTERM) before the run finished; the next run resumes after the last stored page',
  );
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

/** A fresh seen marker for `external_ledger.seen_run_id`: a positive random bigint, as a string. */
function newSeenMarker(): string {
  return String(randomBytes(8).readBigInt64BE() & 0x7fffffffffffffffn);
}

/**
 * Syncs one source of one tenant from the bank into `external_ledger`.
 *
 * - Single flight: a session-level advisory lock per (tenant, source); a second caller gets
 *   `skipped` at once.
 * - A pass is the page loop from the loop base (the last `has_more: false` cursor, or null: a
 *   full sync from `start_date`) to the next `has_more: false` page. Each page commits in one
 *   transaction with the cursor after it: a middle page with the pass's progress
 *   (`external_sync_progress`), the last one as the new loop base. A stored cursor is never
 *   ahead of the data, and a run stopped by the deadline, a kill or a crash leaves the next run
 *   to resume after the last stored page (replayed pages are harmless: writes are idempotent).
 * - `MUTATION_DURING_PAGINATION`: the pass restarts from its loop base (at most `maxRestarts`
 *   times per run), also when the run began at a stored middle cursor, whose snapshot a change
 *   between runs invalidates: the contract's "cursor it started this run with" would answer
 *   MUTATION forever then. So a pass slower than the bank's changes may never complete; the
 *   failure recorded when the restarts run out says so.
 * - `INVALID_CURSOR` on a middle cursor: the pass restarts from its loop base (once per run),
 *   which the contract keeps valid for 30 days. Only when the loop base itself is invalid: a
 *   full resync from today's `start_date` (once per run). A full pass, over however many runs,
 *   tombstones at its end the live rows booked since its `start_date` that it did not see.
 * - Every run is recorded, with the pages and rows it stored; a failed one also counts an error
 *   and writes an `external_sync_failed` audit event whose subject is the source.
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
  // The pass this run works on: the stored unfinished one, or a new one from the loop base.
  const progress = await readSyncProgress(session, tenant, source);
  const pass = progress
    ? { baseCursor: progress.baseCursor, startDate: progress.startDate, seenMarker: progress.seenMarker }
    : { baseCursor: await readSyncCursor(session, tenant, source), startDate, seenMarker: newSeenMarker() };
  let cursor = progress ? progress.pageCursor : pass.baseCursor;
  let restarts = 0;
  let restartedOnInvalidCursor = false;
  let resynced = false;
  /** Back to the pass's loop base with a new marker: what the abandoned pages saw says nothing about the new snapshot. */
  const restartPass = () => {
    pass.seenMarker = newSeenMarker();
    cursor = pass.baseCursor;
  };

  try {
    if (options.connectionAssigned === false) {
      throw new SyncRunError('CONNECTION_NOT_ASSIGNED', `connection ${connectionId} is not assigned to tenant ${tenant}; nothing was synced`);
    }
    for (;;) {
      if (options.signal?.aborted) throw deadlineExceeded();
      let page: SyncPage;
      try {
        const result = await bank.syncTransactions({ connectionId, cursor, count: pageSize, startDate: pass.startDate }, options.signal);
        totals.attempts += result.attempts;
        page = result.value;
      } catch (err) {
        if (!(err instanceof BankSandboxError)) throw err;
        totals.attempts += err.attempts;
        // Cancelled mid-request or mid-backoff: that is the deadline (or SIGTERM), not the bank.
        if (options.signal?.aborted) throw deadlineExceeded();
        if (err.code === 'MUTATION_DURING_PAGINATION') {
          if (restarts >= maxRestarts) {
            throw new SyncRunError(
              'MUTATION_DURING_PAGINATION',
              `the bank's data changed during the pass ${restarts + 1} times in this run (restarted from the pass's loop base ${restarts} times); ` +
                'a pass slower than the gap between the bank\'s changes may never complete (see docs/EXTERNAL_SYNC.md)',
            );
          }
          restarts += 1;
          restartPass();
          continue;
        }
        // A middle cursor's loss need not cost the loop base: a full resync from today's start_date
        // would miss changes to rows booked before it.
        if (err.code === 'INVALID_CURSOR' && cursor !== null && cursor !== pass.baseCursor && !restartedOnInvalidCursor) {
          restartedOnInvalidCursor = true;
          restartPass();
          continue;
        }
        if (err.code === 'INVALID_CURSOR' && cursor !== null && cursor === pass.baseCursor && !resynced) {
          resynced = true;
          totals.fullResync = true;
          Object.assign(pass, { baseCursor: null, startDate, seenMarker: newSeenMarker() });
          cursor = null;
          continue;
        }
        throw err;
      }

      const scope = { tenant, source, seenMarker: pass.seenMarker };
      // The page counts for the run once it is committed, with the run record saying so.
      const stored = await session.transaction(async (tx) => {
        const upserted = await upsertLedgerTransactions(tx, scope, [...page.added, ...page.modified].map(toLedger));
        const removal = await markLedgerTransactionsRemoved(tx, scope, page.removed.map((r) => r.transaction_id));
        let swept = 0;
        if (page.has_more) {
          await storeSyncProgress(tx, tenant, source, { ...pass, pageCursor: page.next_cursor });
        } else {
          if (pass.baseCursor === null) swept = await sweepUnseenLedgerTransactions(tx, scope, pass.startDate);
          await storeSyncCursor(tx, tenant, source, page.next_cursor);
        }
        const next: SyncRunTotals = {
          ...totals,
          pages: totals.pages + 1,
          added: totals.added + upserted.added,
          modified: totals.modified + upserted.modified,
          removed: totals.removed + removal.removed + swept,
          removedUnknown: totals.removedUnknown + removal.removedUnknown,
          providerRefreshedAt: page.provider_refreshed_at ?? totals.providerRefreshedAt,
        };
        await recordSyncRunProgress(tx, tenant, source, runId, next);
        return next;
      });
      Object.assign(totals, stored);
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
