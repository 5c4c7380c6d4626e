import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LedgerEntry, ReconLineRow } from '@accounting/data-pg';
import type { CandidateTrace } from '../recon/reconcile.js';
import type { ReconAlias, ReconRules } from '../recon/types.js';
import type { DeclinedPairRow, EngineReply, EngineRequest, EngineRunCounts } from './engineProtocol.js';

/** The engine thread failed (it threw, ran out of memory or was stopped); the run it served fails. */
export class ReconEngineError extends Error {
  readonly code = 'ENGINE_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'ReconEngineError';
  }
}

/**
 * The engine thread's entry: `engineThread.js` beside this module when it runs from dist/ (the
 * service, the image), else the package's compiled one, for the TypeScript sources that vitest
 * runs in-process (`pnpm build` first, as for the tests that spawn the built BFF).
 */
export function engineThreadEntry(): URL {
  const beside = new URL('./engineThread.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../../dist/reconciliation/engineThread.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new ReconEngineError(`the reconciliation engine thread ${fileURLToPath(built)} is missing: run "pnpm build"`);
}

/** One run's use of the engine thread (see `EngineRequest`). */
export interface EngineSession {
  lines(rows: readonly ReconLineRow[]): Promise<void>;
  entries(rows: readonly LedgerEntry[]): Promise<void>;
  taken(entryIds: readonly string[]): Promise<void>;
  /** Entries stored suggestions auto-matched, with their lines (`autoMatchedEntriesWithin`). */
  matched(rows: readonly { entry_id: string; source: string; external_id: string }[]): Promise<void>;
  declined(pairs: readonly DeclinedPairRow[]): Promise<void>;
  /** The tenant's learned counterparty aliases; send them before the first `score`. */
  aliases(aliases: readonly ReconAlias[]): Promise<void>;
  /** The candidate trace of each line added since the last call, in order. */
  score(): Promise<CandidateTrace[]>;
  reconcile(): Promise<EngineRunCounts>;
  /** Outcomes `start` to `start + size` as one JSON array of data-pg's `SuggestionWrite`. */
  chunk(start: number, size: number): Promise<string>;
}

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/**
 * The reconciliation engine in a `node:worker_threads` Worker, one per process: the pure CPU
 * work of a run (`reconcileTraced`) happens there, so the event loop only moves rows between
 * the database and the thread. Sessions run one at a time, in the order asked for. The thread
 * starts with the first session and does not keep the process alive while idle; if it dies,
 * the session it served fails and the next one starts a new thread.
 */
export class ReconEngine {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private queue: Promise<unknown> = Promise.resolve();

  /** Runs `fn` with the engine to itself, after the sessions asked for before. */
  session<T>(rules: ReconRules, fn: (session: EngineSession) => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await this.request({ kind: 'begin', rules });
      try {
        return await fn(this.api);
      } finally {
        if (this.worker) await this.request({ kind: 'end' }).catch(() => undefined);
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Stops the thread at once: the session in progress fails with `ReconEngineError`. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.fail(worker, new ReconEngineError('the engine thread was stopped'));
    await worker.terminate();
  }

  private readonly api: EngineSession = {
    lines: async (lines) => void (await this.request({ kind: 'lines', lines })),
    entries: async (entries) => void (await this.request({ kind: 'entries', entries })),
    taken: async (entryIds) => void (await this.request({ kind: 'taken', entryIds })),
    matched: async (rows) => void (await this.request({ kind: 'matched', rows })),
    declined: async (pairs) => void (await this.request({ kind: 'declined', pairs })),
    aliases: async (aliases) => void (await this.request({ kind: 'aliases', aliases })),
    score: async () => (await this.request({ kind: 'score' })) as CandidateTrace[],
    reconcile: async () => (await this.request({ kind: 'reconcile' })) as EngineRunCounts,
    chunk: async (start, size) => (await this.request({ kind: 'chunk', start, size })) as string,
  };

  private request(request: EngineRequest): Promise<unknown> {
    const worker = this.thread();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Kept alive only while it owes an answer: an idle thread never holds the process open.
      worker.ref();
      worker.postMessage({ id, request });
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(engineThreadEntry());
    worker.on('message', (reply: EngineReply) => {
      const waiting = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (!waiting) return;
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(new ReconEngineError(`${reply.error.name}: ${reply.error.message}`));
    });
    worker.on('error', (err) => this.fail(worker, new ReconEngineError(`the engine thread failed: ${err.message}`)));
    worker.on('exit', (code) => this.fail(worker, new ReconEngineError(`the engine thread exited (code ${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private fail(worker: Worker, err: ReconEngineError): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const { reject } of waiting) reject(err);
  }
}
