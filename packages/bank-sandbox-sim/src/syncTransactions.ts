import type { ConnectionStore, SyncItem } from './ConnectionStore.js';
import { connectionTag, decodeCursor, encodeCursor, type CursorPosition } from './cursorCodec.js';
import { InvalidCursorError, MutationDuringPaginationError } from './errors.js';
import type { SyncResponse, Transaction } from './types.js';

export interface SyncPageRequest {
  cursor: string | null;
  count: number;
  startDate: string | null;
}

export interface SyncContext {
  /** Cursors from another epoch (another instance, or before expiry/reset) are invalid. */
  epoch: string;
  refreshedAt: string;
}

/** A position inside a page loop: a snapshot or a range of changes, and how far it got. */
type PagingPosition = Exclude<CursorPosition, { kind: 'resume' }>;

/** Where a request starts: from its cursor, or a new full snapshot when there is none. */
function startingPosition(store: ConnectionStore, request: SyncPageRequest, epoch: string): PagingPosition {
  if (request.cursor === null) {
    return { kind: 'snapshot', seq: store.seq, startDate: request.startDate, offset: 0 };
  }
  const cursor = decodeCursor(request.cursor);
  if (!cursor || cursor.connection !== connectionTag(store.id)) throw new InvalidCursorError('unknown cursor');
  if (cursor.epoch !== epoch) throw new InvalidCursorError();
  const position = cursor.position;
  if (position.seq > store.seq) throw new InvalidCursorError('unknown cursor');
  if (position.kind === 'resume') {
    return { kind: 'changes', from: position.seq, seq: store.seq, startDate: position.startDate, offset: 0 };
  }
  if (position.kind === 'changes' && position.from > position.seq) throw new InvalidCursorError('unknown cursor');
  // A page after the first belongs to the data as it was on the first page (Plaid semantics).
  if (position.seq !== store.seq) throw new MutationDuringPaginationError();
  return position;
}

/**
 * One page of `POST /v1/transactions/sync` for `store`.
 *
 * A null cursor pages a snapshot of the current transactions booked on or after `startDate`;
 * a cursor from a last page (`has_more: false`) pages the collapsed changes since then. If the
 * connection changes between two pages of one run (snapshot or changes), the next page answers
 * MUTATION_DURING_PAGINATION. The last page's cursor resumes exactly after what was returned.
 */
export function syncTransactions(store: ConnectionStore, request: SyncPageRequest, context: SyncContext): SyncResponse {
  const position = startingPosition(store, request, context.epoch);
  const items = position.kind === 'snapshot' ? store.snapshot(position.startDate) : store.changesSince(position.from, position.startDate);
  if (position.offset > items.length) throw new InvalidCursorError('unknown cursor');

  const end = Math.min(items.length, position.offset + request.count);
  const hasMore = end < items.length;
  const next: CursorPosition = hasMore ? { ...position, offset: end } : { kind: 'resume', seq: position.seq, startDate: position.startDate };

  return {
    ...splitItems(items, position.offset, end),
    next_cursor: encodeCursor({ epoch: context.epoch, connection: connectionTag(store.id), position: next }),
    has_more: hasMore,
    provider_refreshed_at: context.refreshedAt,
  };
}

function splitItems(items: readonly SyncItem[], start: number, end: number): Pick<SyncResponse, 'added' | 'modified' | 'removed'> {
  const added: Transaction[] = [];
  const modified: Transaction[] = [];
  const removed: { transaction_id: string }[] = [];
  for (let i = start; i < end; i++) {
    const item = items[i] as SyncItem;
    if (item.kind === 'removed') removed.push({ transaction_id: item.transactionId });
    else (item.kind === 'added' ? added : modified).push({ ...item.transaction });
  }
  return { added, modified, removed };
}
