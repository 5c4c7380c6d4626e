import type { LedgerEntry, ReconLineRow } from '@accounting/data-pg';
import type { ReconAlias, ReconRules, ReconStatus } from '../recon/types.js';

/** The engine's transaction id for a bank transaction: unique across the tenant's sources. */
export const reconTransactionId = (source: string, externalId: string): string => `${source}|${externalId}`;

/** A declined pair as the database holds it. */
export interface DeclinedPairRow {
  source: string;
  external_id: string;
  entry_id: string;
}

/** What the engine decided over a run's lines. */
export interface EngineRunCounts {
  transactions: number;
  entries: number;
  byStatus: Record<ReconStatus, number>;
}

/**
 * A request to the engine thread (`engineThread.ts`). A run is one session: `begin`, the
 * tenant's aliases, then its lines, entries, taken entries and declined pairs in any number of
 * messages (rows as the database gave them, so the main thread does no per-row work), `score`
 * and more rows as the run needs, then `reconcile` and its outcomes fetched as JSON chunks ready
 * for the database, `end`.
 */
export type EngineRequest =
  | { kind: 'begin'; rules: ReconRules }
  | { kind: 'lines'; lines: readonly ReconLineRow[] }
  | { kind: 'entries'; entries: readonly LedgerEntry[] }
  | { kind: 'taken'; entryIds: readonly string[] }
  /** Entries stored suggestions auto-matched, with their lines: no group of another line takes them. */
  | { kind: 'matched'; rows: readonly { entry_id: string; source: string; external_id: string }[] }
  | { kind: 'declined'; pairs: readonly DeclinedPairRow[] }
  | { kind: 'aliases'; aliases: readonly ReconAlias[] }
  /** Answers the `CandidateTrace` of each line added since the last `score`. */
  | { kind: 'score' }
  /** Decides every line of the session; answers `EngineRunCounts`. */
  | { kind: 'reconcile' }
  /** Answers outcomes `start` to `start + size` as a JSON array of `SuggestionWrite` (data-pg). */
  | { kind: 'chunk'; start: number; size: number }
  | { kind: 'end' };

export type EngineReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { name: string; message: string } };
