import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  claimNextReconRun,
  createReconRun,
  failAbandonedReconRun,
  findReconRun,
  finishReconRun,
  heartbeatReconRun,
  ReconRunLostError,
  requeueReconRun,
  unavailableReason,
  type Db,
  type ReconRunFence,
  type ReconRunRow,
  type ReconRunStatus,
} from '@accounting/data-pg';
import { DomainError, NotFoundError } from '../errors.js';
import type { ReconRules } from '../recon/types.js';
import { ReconEngine, ReconEngineError } from './ReconEngine.js';
import { reconcileTenant, type ReconRunSummary } from './runReconciliation.js';

/** A run as the API shows it. */
export interface ReconRunView
  extends Pick<ReconRunRow, 'tenant' | 'run_id' | 'status' | 'mode' | 'from' | 'to' | 'created_at' | 'started_at' | 'finished_at'> {
  /** When `succeeded`. */
  summary: ReconRunSummary | null;
  /** When `failed`: a code and a sentence, never a stack. */
  error: { code: string; message: string } | null;
}

/** Where the runner reports (a pino logger fits). */
export interface ReconRunLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface ReconRunnerOptions {
  db: Db;
  rulesFor: (tenant: string) => ReconRules;
  /** Default: a new one, stopped with the runner. */
  engine?: ReconEngine;
  log?: ReconRunLog;
  /** A running run whose heartbeat is older than this is ABANDONED. Default 60 s; heartbeats every quarter of it. */
  leaseMs?: number;
  /** How often a started runner looks for queued runs (another replica's, or ones it could not take yet). Default 5 s. */
  pollMs?: number;
}

const DEFAULT_LEASE_MS = 60_000;
const DEFAULT_POLL_MS = 5_000;
const FINAL: ReadonlySet<ReconRunStatus> = new Set(['succeeded', 'failed']);
const silent: ReconRunLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

function view(row: ReconRunRow): ReconRunView {
  return {
    tenant: row.tenant,
    run_id: row.run_id,
    status: row.status,
    mode: row.mode,
    from: row.from,
    to: row.to,
    created_at: row.created_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
    summary: row.status === 'succeeded' ? (row.summary as unknown as ReconRunSummary) : null,
    error: row.status === 'failed' ? { code: row.error_code ?? 'INTERNAL', message: row.error_message ?? '' } : null,
  };
}

/** The code and sentence a failed run records: never a stack, SQL or secret. */
function failureOf(err: unknown, runId: string): { code: string; message: string } {
  const reason = unavailableReason(err);
  if (reason) return { code: 'DATABASE_UNAVAILABLE', message: `the database was unavailable (${reason}); post a new run` };
  if (err instanceof ReconEngineError) return { code: err.code, message: err.message };
  if (err instanceof DomainError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: `the run failed unexpectedly; the service log has the details (run ${runId})` };
}

/**
 * Reconciliation runs, off the request path: `submit` queues a run in the database
 * (`recon_runs`) and answers at once; the runner of each replica takes queued runs one at a
 * time (any tenant's, one running run per tenant across replicas), reads and writes in short
 * statements on the event loop and leaves the CPU work to the engine thread (`ReconEngine`).
 * Any replica answers `find`. While a run works, its replica refreshes its heartbeat; a run
 * whose heartbeat is older than the lease belonged to a replica that died and is failed with
 * ABANDONED (not run again: a run that kills its replica would kill the next one too). A
 * replica that stops (`stop`) puts its run back in the queue.
 */
export class ReconRunner {
  private readonly db: Db;
  private readonly engine: ReconEngine;
  private readonly ownsEngine: boolean;
  private readonly log: ReconRunLog;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private draining: Promise<void> | null = null;
  private again = false;
  private stopping = false;
  private timer: NodeJS.Timeout | null = null;
  private current: { fence: ReconRunFence; abort: AbortController } | null = null;
  /** The queue could not be read at the last attempt: logged once when it starts and once when it ends. */
  private queueUnreadable = false;

  constructor(private readonly options: ReconRunnerOptions) {
    this.db = options.db;
    this.engine = options.engine ?? new ReconEngine();
    this.ownsEngine = options.engine === undefined;
    this.log = options.log ?? silent;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  }

  /**
   * Queues a run of the tenant (bank booked dates `from`/`to`, or what changed) and answers it
   * `queued`; a queued run of the tenant with the same range is answered instead of a new one.
   */
  async submit(request: { tenant: string; from?: string | undefined; to?: string | undefined; requestedBy: string; requestId?: string | undefined }): Promise<ReconRunView> {
    const row = await createReconRun(this.db, request.tenant, {
      from: request.from ?? null,
      to: request.to ?? null,
      requestedBy: request.requestedBy,
      requestId: request.requestId ?? null,
    });
    this.kick();
    return view(row);
  }

  /** The tenant's run `runId`; `NotFoundError` for an unknown id or another tenant's. */
  async find(tenant: string, runId: string): Promise<ReconRunView> {
    let row = await findReconRun(this.db, tenant, runId);
    if (row?.status === 'running' && (await failAbandonedReconRun(this.db, tenant, this.leaseMs))) row = await findReconRun(this.db, tenant, runId);
    if (!row) throw new NotFoundError('no such reconciliation run');
    return view(row);
  }

  /** Polls the tenant's run until it has succeeded or failed. */
  async waitFor(tenant: string, runId: string, pollMs = 100): Promise<ReconRunView> {
    for (;;) {
      const run = await this.find(tenant, runId);
      if (FINAL.has(run.status)) return run;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Also takes queued runs every `pollMs` (another replica's, or those left after a failure). */
  start(): void {
    if (this.timer || this.stopping) return;
    this.timer = setInterval(() => this.kick(), this.pollMs);
    this.timer.unref();
    this.kick();
  }

  /** Stops taking runs; the run in progress goes back to the queue for another replica. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const current = this.current;
    if (current) {
      // Abort first: the pass must not consume its marks once the run is back in the queue (its
      // writes would fail the fence anyway; this stops it before its next statement).
      current.abort.abort(new Error('the replica is stopping'));
      await requeueReconRun(this.db, current.fence).catch(() => false);
    }
    if (this.ownsEngine || current) await this.engine.stop();
    await this.draining;
  }

  private kick(): void {
    if (this.stopping) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopping) {
      let run: ReconRunRow | null;
      try {
        run = await claimNextReconRun(this.db, this.owner, this.leaseMs);
      } catch (err) {
        if (!this.queueUnreadable) {
          this.queueUnreadable = true;
          this.log.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'reconciliation runs: could not read the queue');
        }
        return;
      }
      if (this.queueUnreadable) {
        this.queueUnreadable = false;
        this.log.info({}, 'reconciliation runs: reading the queue again');
      }
      if (!run) return;
      await this.execute(run);
    }
  }

  private async execute(run: ReconRunRow): Promise<void> {
    const fence: ReconRunFence = { tenant: run.tenant, runId: run.run_id, owner: this.owner };
    const abort = new AbortController();
    this.current = { fence, abort };
    const started = performance.now();
    const heartbeat = setInterval(() => {
      heartbeatReconRun(this.db, fence)
        .then((ours) => {
          if (!ours) abort.abort(new Error('the run is no longer this replica’s'));
        })
        .catch(() => undefined); // the database is away: the pass fails on its own
    }, Math.max(1, Math.floor(this.leaseMs / 4)));
    heartbeat.unref();
    const fields = { tenant: run.tenant, run_id: run.run_id };
    try {
      const summary = await reconcileTenant(this.db, this.engine, {
        rules: this.options.rulesFor(run.tenant),
        range: run.from || run.to ? { from: run.from ?? undefined, to: run.to ?? undefined } : undefined,
        fence,
        signal: abort.signal,
      });
      const { mode, ...result } = summary;
      if (!(await finishReconRun(this.db, fence, { status: 'succeeded', summary: result }))) {
        this.log.warn({ ...fields, mode }, 'reconciliation run ended, but it was no longer this replica’s: its outcome is not recorded');
        return;
      }
      this.log.info(
        { ...fields, mode, transactions: result.transactions, entries: result.entries, written: result.written, ms: Math.round(performance.now() - started) },
        'reconciliation run succeeded',
      );
    } catch (err) {
      if (this.stopping || abort.signal.aborted || err instanceof ReconRunLostError) {
        const reason = err instanceof ReconRunLostError ? err.message : String(abort.signal.reason ?? 'stopping');
        this.log.warn({ ...fields, reason }, 'reconciliation run stopped before its end; what it did not finish stays marked');
        return;
      }
      const failure = failureOf(err, run.run_id);
      this.log.error({ ...fields, err, error_code: failure.code }, 'reconciliation run failed');
      await finishReconRun(this.db, fence, { status: 'failed', ...failure }).catch(() => undefined);
    } finally {
      clearInterval(heartbeat);
      this.current = null;
    }
  }
}
