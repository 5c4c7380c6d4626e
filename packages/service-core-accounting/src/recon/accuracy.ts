import { absMoney, compareMoney, parseMoney } from './money.js';
import type { ReconBankTransaction, ReconLedgerEntry, ReconOutcome, ReconRules, ReconStatus } from './types.js';

/** How the outcomes of one status split against the truth. */
export interface ConfusionRow {
  /** The line has a true entry and the outcome names it (`entryId`). */
  trueEntry: number;
  /** The line has a true entry and the outcome names another entry, or none. */
  otherEntry: number;
  /** The line has no true entry (bank-only line, duplicate, superseded pending copy). */
  noTrueEntry: number;
}

/**
 * Accuracy of auto-matches against labelled truth (docs/RECON.md "Accuracy").
 * - precision = correct auto-matches / all auto-matches (`matched`); 1 when there are none.
 * - recall = correct auto-matches / auto-matchable true pairs: pairs whose bank line is posted,
 *   in the entry's currency, of exactly its amount and within the auto-match limit, i.e. that no
 *   policy keeps from auto-matching. Late bookings, reworded names and the like stay in: missing
 *   them is the engine's miss.
 * - overallRecall = correct auto-matches / every true pair, policy-blocked ones included.
 */
export interface ReconAccuracy {
  transactions: number;
  truePairs: number;
  autoMatchablePairs: number;
  matched: number;
  correctMatches: number;
  wrongMatches: number;
  precision: number;
  recall: number;
  overallRecall: number;
  /** True pairs not auto-matched whose true entry is the first candidate shown (a person confirms with one click). */
  truePairsFirstCandidate: number;
  /** True pairs not auto-matched whose true entry is among the candidates shown. */
  truePairsAmongCandidates: number;
  confusion: Record<ReconStatus, ConfusionRow>;
  /** Outcomes by `rule`. */
  rules: Record<string, number>;
  emptyRationales: number;
}

/** The side of a true entry that decides whether its pair may auto-match. */
export type EntryAmount = Pick<ReconLedgerEntry, 'amount' | 'currency'>;

/**
 * Whether no policy keeps this true pair from auto-matching (the recall denominator): the line
 * is posted, in the entry's currency, within the auto-match limit, and of exactly the entry's
 * amount (amounts that differ are never matched).
 */
export function isAutoMatchable(tx: ReconBankTransaction, entry: EntryAmount | undefined, rules: ReconRules): boolean {
  if (!entry || tx.status !== 'posted' || tx.currency !== entry.currency) return false;
  const limitText = rules.autoMatchLimits[tx.currency];
  const amount = parseMoney(tx.amount, tx.currency);
  const entryAmount = parseMoney(entry.amount, entry.currency);
  const limit = limitText === undefined ? null : parseMoney(limitText, tx.currency);
  if (amount === null || entryAmount === null || compareMoney(amount, entryAmount) !== 0) return false;
  return limit === null || compareMoney(absMoney(amount), limit) <= 0;
}

/** Scores `outcomes` (of `reconcile` on `transactions`) against `truth` (transaction id -> entry id or null); `entries` by id. */
export function measureReconAccuracy(
  transactions: readonly ReconBankTransaction[],
  entries: ReadonlyMap<string, EntryAmount>,
  truth: ReadonlyMap<string, string | null>,
  outcomes: readonly ReconOutcome[],
  rules: ReconRules,
): ReconAccuracy {
  const row = (): ConfusionRow => ({ trueEntry: 0, otherEntry: 0, noTrueEntry: 0 });
  const confusion: Record<ReconStatus, ConfusionRow> = { matched: row(), suggested: row(), blocked: row(), unmatched: row() };
  const byRule: Record<string, number> = {};
  const outcomeOf = new Map(outcomes.map((outcome) => [outcome.transactionId, outcome]));
  let truePairs = 0;
  let autoMatchablePairs = 0;
  let correctMatches = 0;
  let correctAutoMatchable = 0;
  let matched = 0;
  let firstCandidate = 0;
  let amongCandidates = 0;
  let emptyRationales = 0;

  for (const tx of transactions) {
    const outcome = outcomeOf.get(tx.id);
    if (!outcome) throw new Error(`no outcome for transaction ${tx.id}`);
    const trueEntry = truth.get(tx.id) ?? null;
    byRule[outcome.rule] = (byRule[outcome.rule] ?? 0) + 1;
    if (outcome.rationale.trim() === '') emptyRationales += 1;
    const cell = trueEntry === null ? 'noTrueEntry' : outcome.entryId === trueEntry ? 'trueEntry' : 'otherEntry';
    confusion[outcome.status][cell] += 1;
    const correct = outcome.status === 'matched' && trueEntry !== null && outcome.entryId === trueEntry;
    if (outcome.status === 'matched') matched += 1;
    if (correct) correctMatches += 1;
    if (trueEntry === null) continue;
    truePairs += 1;
    const autoMatchable = isAutoMatchable(tx, entries.get(trueEntry), rules);
    if (autoMatchable) autoMatchablePairs += 1;
    if (correct && autoMatchable) correctAutoMatchable += 1;
    if (outcome.status !== 'matched') {
      if (outcome.candidates[0]?.entryId === trueEntry) firstCandidate += 1;
      if (outcome.candidates.some((candidate) => candidate.entryId === trueEntry)) amongCandidates += 1;
    }
  }
  const ratio = (part: number, whole: number): number => (whole === 0 ? 1 : part / whole);
  return {
    transactions: transactions.length,
    truePairs,
    autoMatchablePairs,
    matched,
    correctMatches,
    wrongMatches: matched - correctMatches,
    precision: ratio(correctMatches, matched),
    recall: ratio(correctAutoMatchable, autoMatchablePairs),
    overallRecall: ratio(correctMatches, truePairs),
    truePairsFirstCandidate: firstCandidate,
    truePairsAmongCandidates: amongCandidates,
    confusion,
    rules: Object.fromEntries(Object.entries(byRule).sort(([a], [b]) => (a < b ? -1 : 1))),
    emptyRationales,
  };
}

/** The confusion table and the figures as fixed-width text (scripts/recon_confusion.mjs). */
export function formatReconAccuracy(accuracy: ReconAccuracy): string {
  const pad = (text: string | number, width: number): string => String(text).padStart(width);
  const percent = (value: number): string => `${(100 * value).toFixed(2)}%`;
  const lines = [
    `${'outcome'.padEnd(10)}${pad('true entry', 12)}${pad('other/none', 12)}${pad('no pair', 10)}${pad('total', 9)}`,
  ];
  for (const status of ['matched', 'suggested', 'blocked', 'unmatched'] as const) {
    const cell = accuracy.confusion[status];
    const total = cell.trueEntry + cell.otherEntry + cell.noTrueEntry;
    lines.push(`${status.padEnd(10)}${pad(cell.trueEntry, 12)}${pad(cell.otherEntry, 12)}${pad(cell.noTrueEntry, 10)}${pad(total, 9)}`);
  }
  lines.push(
    '',
    `transactions ${accuracy.transactions}, true pairs ${accuracy.truePairs}, auto-matchable ${accuracy.autoMatchablePairs}`,
    `precision ${percent(accuracy.precision)} (${accuracy.correctMatches} correct of ${accuracy.matched} matched, ${accuracy.wrongMatches} wrong)`,
    `recall ${percent(accuracy.recall)} of auto-matchable pairs; ${percent(accuracy.overallRecall)} of all true pairs`,
    `true pairs left to a person: ${accuracy.truePairs - accuracy.correctMatches}, of which the true entry is the first candidate ` +
      `for ${accuracy.truePairsFirstCandidate} and among the candidates for ${accuracy.truePairsAmongCandidates}`,
    `rules: ${Object.entries(accuracy.rules).map(([rule, count]) => `${rule} ${count}`).join(', ')}`,
    `empty rationales: ${accuracy.emptyRationales}`,
  );
  return lines.join('\n');
}
