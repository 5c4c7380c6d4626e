import { randomBytes } from 'node:crypto';
import { toCalendarDate, toTimestamp } from './calendar.js';
import { ConnectionStore } from './ConnectionStore.js';
import { ConflictError, ConnectionNotFoundError, InvalidRequestError, TransactionNotFoundError } from './errors.js';
import { FaultQueue } from './FaultQueue.js';
import { generateConnectionData, type ConnectionSpec } from './generateConnectionData.js';
import { isValidAmount } from './money.js';
import { RequestLog } from './RequestLog.js';
import {
  connectionSpecSchema,
  newTransactionSchema,
  parseInput,
  postTransactionSchema,
  syncRequestSchema,
  transactionPatchSchema,
  type NewTransactionInput,
  type PostTransactionInput,
  type TransactionPatch,
} from './schemas.js';
import { syncTransactions } from './syncTransactions.js';
import { inContractOrder } from './transactionShape.js';
import type { Account, SyncRequest, SyncResponse, Transaction } from './types.js';

export interface BankSandboxOptions {
  /** Same seed (and same `now`) => same data. Numbers and their decimal strings are the same seed. Default 42. */
  seed?: number | string;
  /** The sandbox clock: a fixed instant or a function. Default: the real clock. */
  now?: Date | (() => Date);
  /** Connections created at start (and again on reset). Default: `conn_default`, 14 days x 20 a day. */
  connections?: ConnectionSpec[];
  /** Pins the cursor epoch; by default each sandbox instance is different, so a restart expires cursors. */
  instanceId?: string;
  /** How many contract requests the request log keeps. Default 10,000. */
  requestLogLimit?: number;
}

export interface ConnectionSummary {
  connection_id: string;
  accounts: Account[];
  transaction_count: number;
  /** Position in the change log: how many changes since creation. */
  change_seq: number;
}

export interface ConnectionState extends ConnectionSummary {
  /** Current transactions (booked on or after `startDate` when given), oldest first. */
  transactions: Transaction[];
}

export const DEFAULT_CONNECTIONS: readonly ConnectionSpec[] = [{ id: 'conn_default', days: 14, perDay: 20 }];

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The bank sandbox: connections with seeded data, the contract's two operations, and the
 * admin operations tests and demos use (mutate data, expire cursors, inject faults, read the
 * request log). The HTTP app is a thin layer over this object.
 */
export class BankSandbox {
  readonly faults = new FaultQueue();
  readonly requestLog: RequestLog;
  private readonly seed: string;
  private readonly clock: () => Date;
  private readonly initialSpecs: readonly ConnectionSpec[];
  private readonly instanceId: string;
  /** The clock when the sandbox was built: initial connections are generated as of then, also on reset. */
  private readonly startedAt: Date;
  private generation = 0;
  private connections = new Map<string, ConnectionStore>();
  /** Highest id number each connection id ever reached, so ids stay unused across resets. */
  private readonly idWatermarks = new Map<string, number>();

  constructor(options: BankSandboxOptions = {}) {
    this.seed = String(options.seed ?? 42);
    const now = options.now;
    this.clock = now instanceof Date ? () => new Date(now.getTime()) : (now ?? (() => new Date()));
    this.initialSpecs = (options.connections ?? DEFAULT_CONNECTIONS).map((spec) => parseInput(connectionSpecSchema, spec));
    this.instanceId = options.instanceId ?? randomBytes(6).toString('base64url');
    this.requestLog = new RequestLog(options.requestLogLimit);
    this.startedAt = this.now();
    this.buildInitialConnections();
  }

  /** The sandbox clock. */
  now(): Date {
    return this.clock();
  }

  /** Cursors carry this; it changes on `expireCursors` and `reset`. */
  get cursorEpoch(): string {
    return `${this.instanceId}.${this.generation}`;
  }

  // Contract operations

  /** `GET /v1/connections/{id}/accounts`. */
  listAccounts(connectionId: string): Account[] {
    return this.store(connectionId).accounts.map((a) => ({ ...a }));
  }

  /** `POST /v1/transactions/sync`: one page. */
  sync(request: SyncRequest): SyncResponse {
    const valid = parseInput(syncRequestSchema, request);
    const store = this.store(valid.connection_id);
    return syncTransactions(
      store,
      { cursor: valid.cursor ?? null, count: valid.count ?? 100, startDate: valid.start_date ?? null },
      { epoch: this.cursorEpoch, refreshedAt: toTimestamp(this.now()) },
    );
  }

  // Admin operations

  /** Creates a connection with generated data; CONFLICT if the id exists. */
  createConnection(spec: ConnectionSpec): ConnectionSummary {
    const valid = parseInput(connectionSpecSchema, spec);
    if (this.connections.has(valid.id)) throw new ConflictError(`connection ${valid.id} already exists`);
    // A connection created again after a reset may hold other data: its ids start past the old ones.
    this.connections.set(valid.id, this.buildStore(valid, this.now(), this.idWatermarks.get(valid.id) ?? 1));
    return this.summary(this.store(valid.id));
  }

  listConnections(): ConnectionSummary[] {
    return [...this.connections.values()].map((store) => this.summary(store));
  }

  /** Adds a transaction (default: posted, today, on the first account) and returns it. */
  addTransaction(connectionId: string, input: NewTransactionInput): Transaction {
    const store = this.store(connectionId);
    const valid = parseInput(newTransactionSchema, input);
    const account = valid.account_id === undefined ? store.accounts[0] : store.accounts.find((a) => a.account_id === valid.account_id);
    if (!account) throw new InvalidRequestError(`no account ${valid.account_id ?? '(none)'} in connection ${connectionId}`);
    this.assertAmount(valid.amount, account.currency);
    const status = valid.status ?? 'posted';
    if (status === 'pending' && valid.pending_transaction_id) {
      throw new InvalidRequestError('only a posted transaction can name a pending_transaction_id');
    }
    const tx = inContractOrder({
      transaction_id: store.allocateTransactionId(),
      account_id: account.account_id,
      amount: valid.amount,
      currency: account.currency,
      booked_date: valid.booked_date ?? toCalendarDate(this.now()),
      status,
      pending_transaction_id: valid.pending_transaction_id ?? null,
      description: valid.description ?? 'SANDBOX TRANSACTION',
      counterparty: valid.counterparty,
      reference: valid.reference,
      updated_at: toTimestamp(this.now()),
    });
    store.insert(tx);
    return { ...tx };
  }

  /** Stores a new version of a current transaction (same id) and returns it. */
  modifyTransaction(connectionId: string, transactionId: string, patch: TransactionPatch): Transaction {
    const store = this.store(connectionId);
    const valid = definedOnly(parseInput(transactionPatchSchema, patch));
    const tx = this.current(store, transactionId);
    if (valid.amount !== undefined) this.assertAmount(valid.amount, tx.currency);
    const next = inContractOrder({ ...tx, ...valid, updated_at: toTimestamp(this.now()) });
    store.replace(next);
    return { ...next };
  }

  /**
   * Posts a pending transaction: removes the pending id and adds a posted transaction with a
   * new id and `pending_transaction_id` set to the pending id. Returns the posted one.
   */
  postTransaction(connectionId: string, pendingId: string, input: PostTransactionInput = {}): Transaction {
    const store = this.store(connectionId);
    const valid = parseInput(postTransactionSchema, input);
    const pending = this.current(store, pendingId);
    if (pending.status !== 'pending') throw new ConflictError(`transaction ${pendingId} is not pending`);
    if (valid.amount !== undefined) this.assertAmount(valid.amount, pending.currency);
    const posted = inContractOrder({
      ...pending,
      transaction_id: store.allocateTransactionId(),
      amount: valid.amount ?? pending.amount,
      booked_date: valid.booked_date ?? pending.booked_date,
      status: 'posted',
      pending_transaction_id: pending.transaction_id,
      updated_at: toTimestamp(this.now()),
    });
    if (valid.order === 'added_first') {
      store.insert(posted);
      store.delete(pendingId);
    } else {
      store.delete(pendingId);
      store.insert(posted);
    }
    return { ...posted };
  }

  /** Removes a current transaction; its id is never used again in this connection. */
  removeTransaction(connectionId: string, transactionId: string): void {
    const store = this.store(connectionId);
    this.current(store, transactionId);
    store.delete(transactionId);
  }

  /** The current data of a connection, to compare row for row with what a client stored. */
  getState(connectionId: string, options: { startDate?: string } = {}): ConnectionState {
    const store = this.store(connectionId);
    const startDate = options.startDate;
    const transactions: Transaction[] = [];
    for (const tx of store.transactions()) {
      if (startDate === undefined || tx.booked_date >= startDate) transactions.push({ ...tx });
    }
    return { ...this.summary(store), transactions };
  }

  /** Every cursor issued so far answers INVALID_CURSOR from now on. */
  expireCursors(): void {
    this.generation += 1;
  }

  /**
   * Back to the start: connections regenerated from the options as of the start instant
   * (admin-created ones dropped, data and ids identical to the start), cursors expired, faults
   * and request log cleared. Ids handed out after the start are never handed out again.
   */
  reset(): void {
    for (const store of this.connections.values()) this.idWatermarks.set(store.id, store.nextIdNumber);
    this.buildInitialConnections();
    this.generation += 1;
    this.faults.clear();
    this.requestLog.clear();
  }

  private buildInitialConnections(): void {
    const stores = new Map<string, ConnectionStore>();
    for (const spec of this.initialSpecs) {
      if (stores.has(spec.id)) throw new InvalidRequestError(`connection ${spec.id} is listed twice`);
      stores.set(spec.id, this.buildStore(spec, this.startedAt, 1));
    }
    this.connections = stores;
  }

  private buildStore(spec: ConnectionSpec, at: Date, firstId: number): ConnectionStore {
    const data = generateConnectionData(spec, this.seed, at, firstId);
    const firstFree = Math.max(firstId + data.transactions.length, this.idWatermarks.get(spec.id) ?? 0);
    return new ConnectionStore(spec.id, data.accounts, data.transactions, firstFree);
  }

  private store(connectionId: string): ConnectionStore {
    const store = this.connections.get(connectionId);
    if (!store) throw new ConnectionNotFoundError(connectionId);
    return store;
  }

  private current(store: ConnectionStore, transactionId: string): Transaction {
    const tx = store.get(transactionId);
    if (!tx) throw new TransactionNotFoundError(store.id, transactionId);
    return tx;
  }

  private assertAmount(amount: string, currency: string): void {
    if (!isValidAmount(amount, currency)) throw new InvalidRequestError(`amount ${amount} is not valid for ${currency}`);
  }

  private summary(store: ConnectionStore): ConnectionSummary {
    return {
      connection_id: store.id,
      accounts: store.accounts.map((a) => ({ ...a })),
      transaction_count: store.size,
      change_seq: store.seq,
    };
  }
}

/** A sandbox with seeded data; see `BankSandboxOptions`. */
export function createBankSandbox(options: BankSandboxOptions = {}): BankSandbox {
  return new BankSandbox(options);
}
