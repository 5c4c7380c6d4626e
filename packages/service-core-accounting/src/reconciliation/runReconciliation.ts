import {
  completeReconPass,
  autoMatchedEntriesWithin,
  confirmedEntryIdsWithin,
  declinedPairs,
  declinedPairsOf,
  listLedgerEntries,
  pendingDayMarks,
  pendingLineMarks,
  readReconState,
  reconAliasesOf,
  reconLinesBookedWithin,
  reconLinesByKey,
  reconLinesByStoredEntries,
  setReconRunMode,
  storeSuggestionChunk,
  type DateInterval,
  type Db,
  type ReconLineKey,
  type ReconLineRow,
  type ReconRunFence,
  type ReconRunMode,
} from '@accounting/data-pg';
import { createHash } from 'node:crypto';
import { DEFAULT_RECON_RULES, parseReconRules, reconEntryWindowDays, type CandidateTrace, type ReconRules } from '../recon/index.js';
import type { ReconEngine } from './ReconEngine.js';

export { reconTransactionId } from './engineProtocol.js';

const FAR_PAST = '0001-01-01';
const FAR_FUTURE = '9999-12-31';
/** Rows per read statement: short statements, so PGlite (one connection, in-process) keeps answering between them. */
const PAGE_ROWS = 2_000;
/** Suggestions per write statement. */
const WRITE_CHUNK = 500;
/** Keys or ids per lookup statement. */
const KEY_BATCH = 5_000;

/** Per-tenant overrides of the default rules, by tenant id (`RECON_*_JSON`, docs/RECON.md "Rules"). */
export interface TenantReconOverrides {
  /** Auto-match limits by currency, over the defaults. */
  autoMatchLimits?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Holidays by currency, replacing the defaults' list of that currency. */
  holidays?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** The bank fee accepted on incoming payments, by currency (none by default). */
  feeRules?: Readonly<Record<string, Readonly<Record<string, { min: string; max: string }>>>>;
}

/**
 * The rules for a tenant: the defaults with the tenant's overrides, if any. The version names
 * a digest of what was overridden, so a stored suggestion says exactly which rules made it and
 * a change of overrides makes the next run full.
 */
export function rulesForTenant(overrides: TenantReconOverrides, tenant: string): ReconRules {
  const limits = overrides.autoMatchLimits?.[tenant];
  const holidays = overrides.holidays?.[tenant];
  const feeRules = overrides.feeRules?.[tenant];
  if (!limits && !holidays && !feeRules) return DEFAULT_RECON_RULES;
  const changed = {
    autoMatchLimits: { ...DEFAULT_RECON_RULES.autoMatchLimits, ...limits },
    holidays: { ...DEFAULT_RECON_RULES.holidays, ...holidays },
    feeRules: { ...DEFAULT_RECON_RULES.feeRules, ...feeRules },
  };
  // Sorted at every level (holiday lists too), so the same overrides always give the same version.
  const sortedValue = (value: unknown): unknown => (Array.isArray(value) ? [...(value as string[])].sort() : value);
  const canonical = JSON.stringify(
    Object.entries(changed).map(([key, value]) => [key, Object.entries(value).sort().map(([name, item]) => [name, sortedValue(item)])]),
  );
  const digest = createHash('sha256').update(canonical).digest('hex').slice(0, 8);
  return parseReconRules({ ...DEFAULT_RECON_RULES, ...changed, version: `${DEFAULT_RECON_RULES.version}+tenant:${digest}` });
}

/** What a run did: the bank lines it decided (by status) and the ledger entries it read. */
export interface ReconRunSummary {
  rules_version: string;
  transactions: number;
  entries: number;
  written: number;
  by_status: Record<'matched' | 'suggested' | 'unmatched' | 'blocked', number>;
}

export interface ReconPassOptions {
  /** The tenant's rules (the pass reads the tenant's learned aliases itself). */
  rules: ReconRules;
  /** Bank booked dates; absent: the lines that changed (or every line, see `ReconRunMode`). */
  range?: { from?: string | undefined; to?: string | undefined } | undefined;
  /** The run this pass is; every write checks it is still the owner's (else `ReconRunLostError`, nothing consumed). */
  fence: ReconRunFence;
  /** Stops the pass between statements (its replica is stopping, or lost the run). */
  signal?: AbortSignal | undefined;
}

const DAY_MS = 86_400_000;
const dayOf = (date: string): number => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
const dateOf = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const [FIRST_DAY, LAST_DAY] = [dayOf(FAR_PAST), dayOf(FAR_FUTURE)];

/** Day intervals already read, so a run reads each entry once however its lines' windows overlap. */
class CoveredDays {
  private readonly spans: [number, number][] = [];

  /** Adds the windows of `days` ± `window` and answers the parts not covered before, merged. */
  addAround(dates: Iterable<string>, window: number): DateInterval[] {
    const days = [...new Set(dates)].map(dayOf).sort((a, b) => a - b);
    const added: [number, number][] = [];
    for (const day of days) {
      const [from, to] = [Math.max(FIRST_DAY, day - window), Math.min(LAST_DAY, day + window)];
      const last = added.at(-1);
      if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
      else added.push([from, to]);
    }
    const fresh = added.flatMap(([from, to]) => this.subtract(from, to));
    for (const span of fresh) this.insert(span);
    return fresh.map(([from, to]) => ({ from: dateOf(from), to: dateOf(to) }));
  }

  private subtract(from: number, to: number): [number, number][] {
    const parts: [number, number][] = [];
    let start = from;
    for (const [coveredFrom, coveredTo] of this.spans) {
      if (coveredTo < start) continue;
      if (coveredFrom > to) break;
      if (coveredFrom > start) parts.push([start, coveredFrom - 1]);
      start = Math.max(start, coveredTo + 1);
      if (start > to) return parts;
    }
    if (start <= to) parts.push([start, to]);
    return parts;
  }

  private insert(span: [number, number]): void {
    this.spans.push(span);
    this.spans.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [from, to] of this.spans) {
      const last = merged.at(-1);
      if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
      else merged.push([from, to]);
    }
    this.spans.splice(0, this.spans.length, ...merged);
  }
}

const lineKey = (line: ReconLineKey): string => `${line.source}\u0000${line.external_id}`;

function* batches<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

async function* linesBookedWithin(db: Db, tenant: string, interval: DateInterval): AsyncGenerator<ReconLineRow[]> {
  let after: ReconLineRow | null = null;
  for (;;) {
    const rows: ReconLineRow[] = await reconLinesBookedWithin(db, tenant, interval, after, PAGE_ROWS);
    if (rows.length > 0) yield rows;
    if (rows.length < PAGE_ROWS) return;
    after = rows[rows.length - 1] as ReconLineRow;
  }
}

/** The marks the pass consumes at its end, read before any data (009_recon_runs.sql). */
async function readMarks(db: Db, tenant: string): Promise<{ lines: (ReconLineKey & { seq: string })[]; days: { day: string; seq: string }[] }> {
  const lines: (ReconLineKey & { seq: string })[] = [];
  for (let after = '0'; ; ) {
    const page = await pendingLineMarks(db, tenant, after, PAGE_ROWS);
    lines.push(...page);
    if (page.length < PAGE_ROWS) break;
    after = (page[page.length - 1] as { seq: string }).seq;
  }
  return { lines, days: await pendingDayMarks(db, tenant) };
}

/**
 * One reconciliation pass of a run: reads what it needs in short statements, has the engine
 * thread decide, and stores the outcomes, while the run stays `fence.owner`'s.
 *
 * - `full` (the tenant's first run, or its rules changed): every live line without a confirmed
 *   match, against the entries within `reconEntryWindowDays` of them.
 * - `incremental`: the lines marked since (new, changed, removed, decided; 009_recon_runs.sql)
 *   and the lines within `reconEntryWindowDays` of a ledger date that changed.
 * - `range`: the lines booked within the range.
 *
 * Incremental and range runs also take the lines that meet those on claimable entries (see
 * below), so their outcomes are those of a full run on the same data; every line of a run
 * reads the entries within `reconEntryWindowDays` of it, no others (docs/RECON.md "Runs").
 *
 * A line a person decided while the pass ran keeps the decision (see `storeSuggestionChunk`).
 * The tenant's learned aliases go to the engine in every mode; they are no part of the rules
 * version: learning or removing one marks the lines it may change (`markLinesNamed`). They are
 * read after the marks, so a run that misses an alias learned meanwhile leaves its marks for the
 * next run.
 */
export async function reconcileTenant(db: Db, engine: ReconEngine, options: ReconPassOptions): Promise<ReconRunSummary & { mode: ReconRunMode }> {
  const { fence, signal } = options;
  const { tenant } = fence;
  const { rules } = options;
  const window = reconEntryWindowDays(rules);
  const state = await readReconState(db, tenant);
  const mode: ReconRunMode = options.range ? 'range' : state === rules.version ? 'incremental' : 'full';
  await setReconRunMode(db, fence, mode);
  const marks = mode === 'range' ? { lines: [], days: [] } : await readMarks(db, tenant);
  const summary: ReconRunSummary & { mode: ReconRunMode } = {
    mode,
    rules_version: rules.version,
    transactions: 0,
    entries: 0,
    written: 0,
    by_status: { matched: 0, suggested: 0, unmatched: 0, blocked: 0 },
  };

  if (mode !== 'incremental' || marks.lines.length + marks.days.length > 0) {
    const aliases = await reconAliasesOf(db, tenant);
    Object.assign(
      summary,
      await engine.session(rules, async (job) => {
        await job.aliases(aliases);
        const closure = mode !== 'full';
        /** The lines of the run (only when it closes over shared entries), with their current traces. */
        const inRun = new Map<string, CandidateTrace>();
        /** Lines sent since the last `score`, in order. */
        let unscored: string[] = [];
        /** Entries some line of the run could claim, or could claim before this run. */
        const claimed = new Set<string>();
        const covered = new CoveredDays();
        const sendLines = async (rows: readonly ReconLineRow[]): Promise<ReconLineRow[]> => {
          signal?.throwIfAborted();
          const fresh = closure ? [...new Map(rows.filter((row) => !inRun.has(lineKey(row))).map((row) => [lineKey(row), row])).values()] : rows;
          if (fresh.length === 0) return [];
          if (closure) {
            for (const row of fresh) {
              inRun.set(lineKey(row), { scored: row.scored, claimable: row.claimable });
              unscored.push(lineKey(row));
            }
          }
          await job.lines(fresh);
          await sendEntriesAround(fresh.map((row) => row.booked_date));
          if (closure) for (const batch of batches(fresh, KEY_BATCH)) await job.declined(await declinedPairsOf(db, tenant, batch));
          return [...fresh];
        };
        const sendEntriesAround = async (dates: readonly string[]): Promise<void> => {
          for (const interval of covered.addAround(dates, window)) {
            for (let after: { date: string; entryId: string } | null = null; ; ) {
              signal?.throwIfAborted();
              const page = await listLedgerEntries(db, tenant, { from: interval.from, to: interval.to, limit: PAGE_ROWS, after });
              await job.entries(page.items);
              if (!page.next) break;
              after = page.next;
            }
            await job.taken(await confirmedEntryIdsWithin(db, tenant, interval));
            await job.matched(await autoMatchedEntriesWithin(db, tenant, interval));
          }
        };
        /** Adds the lines whose stored `column` meets `entryIds`, then those theirs meet, until none is left. */
        const closeOver = async (column: 'scored' | 'claimable', entryIds: Set<string>, next: (trace: CandidateTrace) => string[]): Promise<void> => {
          let frontier = [...entryIds];
          while (frontier.length > 0) {
            const found: ReconLineRow[] = [];
            for (const batch of batches(frontier, KEY_BATCH)) found.push(...(await reconLinesByStoredEntries(db, tenant, column, batch)));
            frontier = [];
            for (const row of await sendLines(found)) {
              for (const id of next(row)) {
                if (entryIds.has(id)) continue;
                entryIds.add(id);
                frontier.push(id);
              }
            }
          }
        };

        if (mode === 'full') {
          for await (const page of linesBookedWithin(db, tenant, { from: FAR_PAST, to: FAR_FUTURE })) await sendLines(page);
          await job.declined(await declinedPairs(db, tenant));
        } else if (mode === 'range') {
          const interval = { from: options.range?.from ?? FAR_PAST, to: options.range?.to ?? FAR_FUTURE };
          for await (const page of linesBookedWithin(db, tenant, interval)) await sendLines(page);
        } else {
          for (const batch of batches(marks.lines, KEY_BATCH)) {
            const rows = await reconLinesByKey(db, tenant, batch);
            // A removed or confirmed line leaves the run, but what it could claim may now go to others.
            for (const row of rows) for (const id of row.claimable) claimed.add(id);
            await sendLines(rows.filter((row) => row.live));
          }
          for (const interval of new CoveredDays().addAround(
            marks.days.map((mark) => mark.day),
            window,
          )) {
            for await (const page of linesBookedWithin(db, tenant, interval)) await sendLines(page);
          }
        }

        if (closure) {
          // Lines meet only on an entry one of them could claim (`reconcileTraced`). The lines
          // decided again may now claim other entries, or no longer those they could: every line
          // scored against such an entry may decide differently, and so on. Then, so that each
          // of them decides as in a full run, every line that could claim an entry one of them
          // was scored against joins too, and so on. Lines not marked have the traces stored
          // with their suggestion: nothing near them changed.
          for (const trace of inRun.values()) for (const id of trace.claimable) claimed.add(id);
          const traces = unscored.length > 0 ? await job.score() : [];
          unscored.forEach((key, i) => {
            const trace = traces[i] as CandidateTrace;
            inRun.set(key, trace);
            for (const id of trace.claimable) claimed.add(id);
          });
          unscored = [];
          await closeOver('scored', claimed, (row) => row.claimable);
          const scoredInRun = new Set([...inRun.values()].flatMap((trace) => trace.scored));
          await closeOver('claimable', scoredInRun, (row) => row.scored);
        }

        signal?.throwIfAborted();
        const counts = await job.reconcile();
        let written = 0;
        for (let start = 0; start < counts.transactions; start += WRITE_CHUNK) {
          signal?.throwIfAborted();
          written += await storeSuggestionChunk(db, fence, await job.chunk(start, WRITE_CHUNK));
        }
        return { transactions: counts.transactions, entries: counts.entries, written, by_status: counts.byStatus };
      }),
    );
  }

  signal?.throwIfAborted();
  await completeReconPass(db, fence, {
    lineSeqs: marks.lines.map((mark) => mark.seq),
    daySeqs: marks.days.map((mark) => mark.seq),
    rulesVersion: mode === 'full' ? rules.version : mode === 'range' && state !== null && state !== rules.version ? null : undefined,
  });
  return summary;
}
