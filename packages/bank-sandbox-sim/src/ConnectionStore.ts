import type { Account, Transaction } from './types.js';

/** One entry of the append-only change log: the version before and after one change. */
export interface ChangeEvent {
  /** 1, 2, 3, ... within the connection; the log length is the connection's current position. */
  readonly seq: number;
  readonly transactionId: string;
  /** `null` when the change added the transaction. */
  readonly before: Transaction | null;
  /** `null` when the change removed the transaction. */
  readonly after: Transaction | null;
}

/** One line of a sync answer, before it is split into `added`, `modified` and `removed`. */
export type SyncItem =
  | { kind: 'added' | 'modified'; transaction: Transaction }
  | { kind: 'removed'; transactionId: string };

/** `booked_date >= startDate`, or everything when there is no start date. */
function inWindow(tx: Transaction | null | undefined, startDate: string | null): tx is Transaction {
  return tx != null && (startDate === null || tx.booked_date >= startDate);
}

/**
 * The data of one connection: its accounts, a map of current transactions and an append-only
 * log of every change after creation. The generated history is the baseline at position 0 and
 * is not in the log. Stored transactions are never mutated; a change stores a new version.
 */
export class ConnectionStore {
  private readonly current = new Map<string, Transaction>();
  private readonly log: ChangeEvent[] = [];
  private nextNumber: number;
  private snapshotCache: { seq: number; startDate: string | null; items: readonly SyncItem[] } | undefined;
  private changesCache: { from: number; seq: number; startDate: string | null; items: readonly SyncItem[] } | undefined;

  constructor(
    readonly id: string,
    readonly accounts: readonly Account[],
    initial: readonly Transaction[],
    /** The number of the next `tx_<n>` id; kept above every id this connection ever used. */
    firstFreeNumber: number,
  ) {
    for (const tx of initial) this.current.set(tx.transaction_id, tx);
    this.nextNumber = firstFreeNumber;
  }

  /** Position after the latest change (0 right after creation). */
  get seq(): number {
    return this.log.length;
  }

  /** The number the next allocated id will carry. */
  get nextIdNumber(): number {
    return this.nextNumber;
  }

  get size(): number {
    return this.current.size;
  }

  /** A fresh transaction id, never used before in this connection. */
  allocateTransactionId(): string {
    return `tx_${this.nextNumber++}`;
  }

  get(transactionId: string): Transaction | undefined {
    return this.current.get(transactionId);
  }

  /** Current transactions, oldest insertion first. */
  transactions(): IterableIterator<Transaction> {
    return this.current.values();
  }

  insert(tx: Transaction): void {
    if (this.current.has(tx.transaction_id)) throw new Error(`transaction ${tx.transaction_id} already exists`);
    this.current.set(tx.transaction_id, tx);
    this.append(tx.transaction_id, null, tx);
  }

  replace(tx: Transaction): void {
    const before = this.current.get(tx.transaction_id);
    if (!before) throw new Error(`transaction ${tx.transaction_id} does not exist`);
    this.current.set(tx.transaction_id, tx);
    this.append(tx.transaction_id, before, tx);
  }

  delete(transactionId: string): void {
    const before = this.current.get(transactionId);
    if (!before) throw new Error(`transaction ${transactionId} does not exist`);
    this.current.delete(transactionId);
    this.append(transactionId, before, null);
  }

  private append(transactionId: string, before: Transaction | null, after: Transaction | null): void {
    this.log.push({ seq: this.log.length + 1, transactionId, before, after });
  }

  /**
   * Every current transaction booked on or after `startDate`, as `added`, in a stable order.
   * The result is cached for the current position, so paging a large snapshot costs one pass.
   */
  snapshot(startDate: string | null): readonly SyncItem[] {
    const cache = this.snapshotCache;
    if (cache && cache.seq === this.seq && cache.startDate === startDate) return cache.items;
    const items: SyncItem[] = [];
    for (const tx of this.current.values()) {
      if (inWindow(tx, startDate)) items.push({ kind: 'added', transaction: tx });
    }
    this.snapshotCache = { seq: this.seq, startDate, items };
    return items;
  }

  /**
   * What a client holding the window `booked_date >= startDate` as of position `from` must
   * apply to hold it as of now, one item per transaction id (changes collapsed as Plaid does),
   * ordered by each id's latest change:
   * - in the window before and now: `modified` (the current version);
   * - only now (new, or moved into the window): `added`;
   * - not in the window now (removed, moved out, or never in it): `removed`. So `removed` may
   *   name ids the client never saw, e.g. a pending transaction added and posted since `from`,
   *   as the contract allows; deleting an unknown id changes nothing for the client.
   * Applying the items in any order gives the same state, since each id appears once.
   */
  changesSince(from: number, startDate: string | null): readonly SyncItem[] {
    const cache = this.changesCache;
    if (cache && cache.from === from && cache.seq === this.seq && cache.startDate === startDate) return cache.items;
    const firstBefore = new Map<string, Transaction | null>();
    const latestSeq = new Map<string, number>();
    for (let i = from; i < this.log.length; i++) {
      const event = this.log[i] as ChangeEvent;
      if (!firstBefore.has(event.transactionId)) firstBefore.set(event.transactionId, event.before);
      latestSeq.set(event.transactionId, event.seq);
    }
    const ordered = [...latestSeq.entries()].sort((a, b) => a[1] - b[1]);
    const items: SyncItem[] = [];
    for (const [transactionId] of ordered) {
      const had = inWindow(firstBefore.get(transactionId), startDate);
      const now = this.current.get(transactionId);
      const has = inWindow(now, startDate);
      if (has) items.push({ kind: had ? 'modified' : 'added', transaction: now });
      else items.push({ kind: 'removed', transactionId });
    }
    this.changesCache = { from, seq: this.seq, startDate, items };
    return items;
  }
}
