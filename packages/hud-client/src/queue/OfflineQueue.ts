import type { HttpOutcome } from '../http.js';
import { createValueSubject, type ValueObservable, type ValueSubject } from '../observable.js';
import type { Clock, TimerHandle, Timers } from '../runtime.js';
import type { HudIdentity, JsonValue } from '../types.js';
import { parseQueueDocument, serializeQueueDocument, WRITE_METHODS, type QueueDocument } from './queueDocument.js';
import { backoffDelay, classifyWriteOutcome, DEFAULT_BACKOFF, type BackoffPolicy } from './retryPolicy.js';
import type { QueueStorage } from './storage.js';
import type {
  AppliedWrite,
  DeadLetter,
  FailureInfo,
  FlushReport,
  QueuedWrite,
  QueueStatus,
  WriteDescriptor,
  WriteOutcome,
} from './types.js';

export interface OfflineQueueOptions {
  storage: QueueStorage;
  /** Sends one write with its `Idempotency-Key`; resolves with the answer or a `network` outcome. */
  send: (item: QueuedWrite) => Promise<HttpOutcome>;
  /** Whether the server answers at all (`GET /health`); asked before retrying after no answer. */
  probe: () => Promise<boolean>;
  clock: Clock;
  timers: Timers;
  randomUUID: () => string;
  /** 0 <= x < 1, for the backoff jitter. */
  random?: () => number;
  backoff?: Partial<BackoffPolicy>;
  /** Whether the device is online when the queue opens (default true). */
  online?: boolean;
  /** Failures of background work (a scheduled retry, a listener): nothing else would see them. */
  onError?: (error: unknown) => void;
}

function checkDescriptor(descriptor: WriteDescriptor): JsonValue | undefined {
  if (!WRITE_METHODS.has(descriptor.method)) throw new TypeError(`a queued write must be POST, PUT, PATCH or DELETE, not ${String(descriptor.method)}`);
  if (!descriptor.path.startsWith('/')) throw new TypeError(`a queued write's path must start with "/": ${descriptor.path}`);
  if (descriptor.body === undefined) return undefined;
  // What is sent later is what was stored: a body that does not survive JSON unchanged is refused now.
  const text = JSON.stringify(descriptor.body);
  if (text === undefined) throw new TypeError('a queued write body must be JSON');
  return JSON.parse(text) as JsonValue;
}

/**
 * The HUD's durable outbox. Every write is stored (with an `Idempotency-Key` fixed now) before
 * it is sent, and leaves the storage only once the server answered 2xx or refused it for good
 * (then it is a dead letter). Writes go strictly in order, one flush at a time; a failure worth
 * retrying stops the flush at that write and schedules a retry with exponential backoff. A crash
 * at any point loses nothing, and a write the server had already applied is answered with its
 * stored outcome (idempotent replay), not applied twice.
 */
export class OfflineQueue {
  /** How many writes wait to be sent (the QueueBadge). */
  readonly queueCount: ValueObservable<number>;
  /** The writes waiting, in the order they will be sent. */
  readonly pending: ValueObservable<readonly QueuedWrite[]>;
  /** Writes the server refused for good; each stays until retried or discarded. */
  readonly deadLetters: ValueObservable<readonly DeadLetter[]>;
  /** What the queue is doing. */
  readonly status: ValueObservable<QueueStatus>;

  private document: QueueDocument;
  private readonly countSubject: ValueSubject<number>;
  private readonly pendingSubject: ValueSubject<readonly QueuedWrite[]>;
  private readonly deadSubject: ValueSubject<readonly DeadLetter[]>;
  private readonly statusSubject: ValueSubject<QueueStatus>;
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;
  private readonly reportError: (error: unknown) => void;
  /** Storage writes, one after the other. */
  private writes: Promise<void> = Promise.resolve();
  private flushRun: Promise<FlushReport> | undefined;
  private flushAgain = false;
  private retryTimer: TimerHandle | undefined;
  private retryRun: Promise<void> | undefined;
  private failures = 0;
  private lastFailureHadNoAnswer = false;
  private connected: boolean;
  private closed = false;
  /** Outcomes of writes whose `submit` waits for the current flush. */
  private readonly awaited = new Map<string, WriteOutcome | null>();

  private constructor(private readonly options: OfflineQueueOptions, document: QueueDocument) {
    this.document = document;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.random = options.random ?? Math.random;
    this.reportError = options.onError ?? (() => undefined);
    this.connected = options.online ?? true;
    this.countSubject = createValueSubject(document.items.length, this.reportError);
    this.pendingSubject = createValueSubject(document.items, this.reportError);
    this.deadSubject = createValueSubject(document.deadLetters, this.reportError);
    this.statusSubject = createValueSubject<QueueStatus>(this.connected ? 'idle' : 'offline', this.reportError);
    this.queueCount = this.countSubject;
    this.pending = this.pendingSubject;
    this.deadLetters = this.deadSubject;
    this.status = this.statusSubject;
  }

  /**
   * Opens the queue over its storage, with the writes and dead letters a previous run left.
   * Rejects with `QueueStorageError` when the storage holds something unreadable. Sends nothing:
   * call `online()` (e.g. from the first NetInfo event) to flush what was left.
   */
  static async open(options: OfflineQueueOptions): Promise<OfflineQueue> {
    const document = parseQueueDocument(await options.storage.read());
    return new OfflineQueue(options, document);
  }

  /**
   * Stores a write with a new `Idempotency-Key` and resolves once it is durable. It is sent by
   * the next flush; `submit` also starts one.
   */
  async enqueue(descriptor: WriteDescriptor, identity: HudIdentity): Promise<QueuedWrite> {
    this.assertOpen();
    const body = checkDescriptor(descriptor);
    const key = this.options.randomUUID();
    const item: QueuedWrite = {
      id: key,
      idempotencyKey: key,
      kind: descriptor.kind,
      method: descriptor.method,
      path: descriptor.path,
      ...(body !== undefined ? { body } : {}),
      ...(descriptor.label !== undefined ? { label: descriptor.label } : {}),
      identity: { tenant: identity.tenant, role: identity.role, ...(identity.userId !== undefined ? { userId: identity.userId } : {}) },
      enqueuedAt: this.isoNow(),
      attempts: 0,
      lastFailure: null,
    };
    return this.change((document) => ({ document: { ...document, items: [...document.items, item] }, result: item }));
  }

  /**
   * Queues a write and, unless the queue is offline or waiting for a retry, sends it now (after
   * the writes queued before it). Resolves with where it stands: applied (with the server's
   * body), still queued (it will be retried), or dead-lettered.
   */
  async submit(descriptor: WriteDescriptor, identity: HudIdentity): Promise<WriteOutcome> {
    const item = await this.enqueue(descriptor, identity);
    return this.sendIfReady(item);
  }

  /**
   * Sends the queue now, in order, until it is empty, a write must be retried later, or the app
   * went offline. Single flight: a call while a flush runs gets that flush's report (and the
   * flush also sends what was queued meanwhile). Cancels a scheduled retry.
   */
  flush(): Promise<FlushReport> {
    if (this.flushRun) {
      this.flushAgain = true;
      return this.flushRun;
    }
    this.cancelRetry();
    const run = this.runFlush().finally(() => {
      this.flushRun = undefined;
      this.refreshStatus();
    });
    this.flushRun = run;
    this.refreshStatus();
    return run;
  }

  /** The network is back (NetInfo, the `online` event): resets the backoff and flushes now. */
  async online(): Promise<FlushReport> {
    this.assertOpen();
    this.connected = true;
    this.failures = 0;
    this.cancelRetry();
    return this.flush();
  }

  /** The network is gone: nothing more is sent until `online()`; writes are only queued. */
  offline(): void {
    this.assertOpen();
    this.connected = false;
    this.cancelRetry();
    this.refreshStatus();
  }

  /**
   * Puts a dead letter back at the end of the queue and sends it when the queue is ready, like
   * `submit`. It keeps its `Idempotency-Key` (a refused request stored nothing on the server),
   * unless `newIdempotencyKey` is set, e.g. after `IDEMPOTENCY_KEY_REUSED`.
   */
  async retryDeadLetter(id: string, options: { newIdempotencyKey?: boolean } = {}): Promise<WriteOutcome> {
    this.assertOpen();
    const key = options.newIdempotencyKey ? this.options.randomUUID() : undefined;
    const item = await this.change((document) => {
      const dead = document.deadLetters.find((letter) => letter.item.id === id);
      if (!dead) throw new Error(`no dead letter with id ${id}`);
      const revived: QueuedWrite = { ...dead.item, idempotencyKey: key ?? dead.item.idempotencyKey, attempts: 0, lastFailure: null };
      return {
        document: { items: [...document.items, revived], deadLetters: document.deadLetters.filter((letter) => letter !== dead) },
        result: revived,
      };
    });
    return this.sendIfReady(item);
  }

  /** Removes a dead letter for good (the person chose to); resolves with it. */
  async discardDeadLetter(id: string): Promise<DeadLetter> {
    this.assertOpen();
    return this.change((document) => {
      const dead = document.deadLetters.find((letter) => letter.item.id === id);
      if (!dead) throw new Error(`no dead letter with id ${id}`);
      return { document: { ...document, deadLetters: document.deadLetters.filter((letter) => letter !== dead) }, result: dead };
    });
  }

  /** Resolves when no flush and no scheduled retry is running (a retry still only scheduled does not count). */
  async idle(): Promise<void> {
    while (this.flushRun || this.retryRun) {
      await Promise.allSettled([this.flushRun, this.retryRun]);
    }
  }

  /** Stops retrying and waits for a running flush; the queue then refuses further calls. Storage keeps everything. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelRetry();
    this.refreshStatus();
    await this.idle();
    await this.writes;
  }

  private async sendIfReady(item: QueuedWrite): Promise<WriteOutcome> {
    const status = this.statusSubject.get();
    if (status !== 'idle' && status !== 'sending') return { outcome: 'queued', item };
    this.awaited.set(item.id, null);
    try {
      // A flush that fails (the storage refused a change) leaves this write stored: it is queued.
      await this.flush().catch(this.reportError);
      return this.awaited.get(item.id) ?? { outcome: 'queued', item: this.document.items.find((queued) => queued.id === item.id) ?? item };
    } finally {
      this.awaited.delete(item.id);
    }
  }

  private async runFlush(): Promise<FlushReport> {
    const report: FlushReport = { applied: [], deadLettered: [], stopped: null, remaining: 0 };
    try {
      do {
        this.flushAgain = false;
        for (;;) {
          if (this.closed) return this.finish(report, { reason: 'closed' });
          if (!this.connected) return this.finish(report, { reason: 'offline' });
          const head = this.document.items[0];
          if (!head) break;
          const verdict = classifyWriteOutcome(await this.attempt(head), this.options.clock.now());
          if (verdict.kind === 'applied') {
            await this.change((document) => ({ document: { ...document, items: document.items.filter((item) => item.id !== head.id) }, result: undefined }));
            this.failures = 0;
            const applied: AppliedWrite = { item: head, status: verdict.status, body: verdict.body, replayed: verdict.replayed };
            report.applied.push(applied);
            this.settle(head.id, { outcome: 'applied', ...applied });
          } else if (verdict.kind === 'permanent') {
            const failedAt = this.isoNow();
            const failure: FailureInfo = {
              at: failedAt,
              status: verdict.status,
              error_code: verdict.error.error_code,
              message: verdict.error.message,
              request_id: verdict.error.request_id,
            };
            const dead: DeadLetter = { item: { ...head, attempts: head.attempts + 1, lastFailure: failure }, failedAt, status: verdict.status, error: verdict.error };
            await this.change((document) => ({
              document: { items: document.items.filter((item) => item.id !== head.id), deadLetters: [...document.deadLetters, dead] },
              result: undefined,
            }));
            report.deadLettered.push(dead);
            this.settle(head.id, { outcome: 'dead_lettered', item: dead.item, deadLetter: dead });
          } else {
            const updated: QueuedWrite = { ...head, attempts: head.attempts + 1, lastFailure: verdict.failure };
            await this.change((document) => ({
              document: { ...document, items: document.items.map((item) => (item.id === head.id ? updated : item)) },
              result: undefined,
            }));
            this.failures += 1;
            this.lastFailureHadNoAnswer = verdict.noAnswer;
            if (this.closed) return this.finish(report, { reason: 'closed' });
            if (!this.connected) return this.finish(report, { reason: 'offline' });
            const retryInMs = this.scheduleRetry(verdict.retryAfterMs);
            return this.finish(report, { reason: 'retry', failure: verdict.failure, retryInMs });
          }
        }
      } while (this.flushAgain);
      return this.finish(report, null);
    } catch (error) {
      // The storage refused a change: the write stays as it was stored and is sent again later
      // (with the same key, so a write the server applied is replayed, not repeated).
      this.failures += 1;
      this.lastFailureHadNoAnswer = false;
      this.scheduleRetry(null);
      throw error;
    }
  }

  private async attempt(item: QueuedWrite): Promise<HttpOutcome> {
    try {
      return await this.options.send(item);
    } catch (error) {
      return { kind: 'network', message: error instanceof Error ? error.message : String(error) };
    }
  }

  private finish(report: FlushReport, stopped: FlushReport['stopped']): FlushReport {
    report.stopped = stopped;
    report.remaining = this.document.items.length;
    return report;
  }

  private settle(id: string, outcome: WriteOutcome): void {
    if (this.awaited.has(id)) this.awaited.set(id, outcome);
  }

  /** Schedules the next attempt; answers its delay. */
  private scheduleRetry(retryAfterMs: number | null): number {
    this.cancelRetry();
    if (this.closed || !this.connected) return 0;
    const delay = Math.max(backoffDelay(Math.max(1, this.failures), this.backoff, this.random), retryAfterMs ?? 0);
    this.retryTimer = this.options.timers.setTimeout(() => {
      this.retryTimer = undefined;
      const run: Promise<void> = this.retry()
        .catch(this.reportError)
        .finally(() => {
          if (this.retryRun === run) this.retryRun = undefined;
          this.refreshStatus();
        });
      this.retryRun = run;
      this.refreshStatus();
    }, delay);
    this.refreshStatus();
    return delay;
  }

  /** A scheduled retry: after no answer, ask `GET /health` first and flush only when it answers. */
  private async retry(): Promise<void> {
    if (this.closed || !this.connected) return;
    if (this.lastFailureHadNoAnswer) {
      let reachable: boolean;
      try {
        reachable = await this.options.probe();
      } catch {
        reachable = false;
      }
      if (this.closed || !this.connected || this.flushRun || this.retryTimer !== undefined) return;
      if (!reachable) {
        this.failures += 1;
        this.scheduleRetry(null);
        return;
      }
    }
    await this.flush();
  }

  private cancelRetry(): void {
    if (this.retryTimer === undefined) return;
    this.options.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.refreshStatus();
  }

  /** Applies a change to the document once the storage holds it; changes are made one at a time. */
  private change<R>(make: (document: QueueDocument) => { document: QueueDocument; result: R }): Promise<R> {
    const run = this.writes.then(async () => {
      const { document, result } = make(this.document);
      await this.options.storage.write(serializeQueueDocument(document));
      this.document = document;
      this.publish();
      return result;
    });
    this.writes = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private publish(): void {
    this.pendingSubject.set(this.document.items);
    this.countSubject.set(this.document.items.length);
    this.deadSubject.set(this.document.deadLetters);
  }

  private refreshStatus(): void {
    const status: QueueStatus = this.closed
      ? 'closed'
      : !this.connected
        ? 'offline'
        : this.flushRun
          ? 'sending'
          : this.retryTimer !== undefined || this.retryRun
            ? 'waiting'
            : 'idle';
    this.statusSubject.set(status);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the queue is closed');
  }

  private isoNow(): string {
    return new Date(this.options.clock.now()).toISOString();
  }
}
