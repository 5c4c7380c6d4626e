import type { ReconCandidate, ReconOutcome, ReconStatus } from '../recon/types.js';
import type { KoreanStatementDataset, StatementExpectation, StatementLabel } from './koreanStatements.js';

/**
 * How the engine's outcomes on a Korean statement data set compare with the labels.
 * - precision = correct matches / matches (1 when there are none); a match is correct when its
 *   entry is the line's one true entry and the line is not part of a split.
 * - recall = correct matches among lines expected 'auto' / lines expected 'auto'.
 * - topCandidateRate: among 'suggested' lines with a true pair, the first candidate names it.
 */
export interface StatementAccuracy {
  lines: number;
  autoLines: number;
  matched: number;
  correctMatches: number;
  wrongMatches: number;
  precision: number;
  recall: number;
  /** Lines expected 'suggest' (fee_short, partial, tie, batch, split, ambiguous...) that were matched at all. */
  suggestOnlyMatched: number;
  /** Of those, the lines whose amounts differ (fee_short, partial), ties, batches and splits: must be 0. */
  feeOrTieMatched: number;
  /** Lines expected 'blocked' that were matched. */
  blockedMatched: number;
  /** 'suggested' outcomes of lines with a true pair. */
  suggestedWithTruth: number;
  topCandidateRight: number;
  topCandidateRate: number;
  /** The same, over suggested lines not labelled a tie (for a tie the first of the tied entries is a coin toss). */
  untiedSuggested: number;
  untiedTopRight: number;
  untiedTopRate: number;
  /** Suggested ties whose true entry is among the candidates shown (the person picks among them). */
  tiesSuggested: number;
  tiesTruthShown: number;
  confusion: Record<ReconStatus, Record<StatementExpectation, number>>;
  byTag: Record<string, { lines: number; matchedRight: number; matchedWrong: number; suggested: number; topRight: number }>;
}

/** A candidate with the optional group fields of batch and split suggestions. */
type GroupCandidate = ReconCandidate & { entryIds?: string[]; transactionIds?: string[] };

/** Tags of lines that must never be matched: the amounts differ, a tie, or a group. */
const NEVER_MATCHED_TAGS: ReadonlySet<string> = new Set(['fee_short', 'partial', 'tie', 'batch', 'split']);

const STATUSES: readonly ReconStatus[] = ['matched', 'suggested', 'blocked', 'unmatched'];
const EXPECTATIONS: readonly StatementExpectation[] = ['auto', 'suggest', 'blocked', 'none'];

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((item, i) => item === b[i]);

/** Whether `candidate` names the truth of the line `transactionId` labelled `label`. */
function candidateIsRight(candidate: GroupCandidate | undefined, transactionId: string, label: StatementLabel): boolean {
  if (!candidate || label.entryIds.length === 0) return false;
  if (label.entryIds.length > 1) return sameList([...(candidate.entryIds ?? [])].sort(), label.entryIds);
  if (candidate.entryId !== label.entryIds[0]) return false;
  if (label.splitWith && candidate.transactionIds) {
    return sameList([...new Set([...candidate.transactionIds, transactionId])].sort(), label.splitWith);
  }
  return true;
}

/** Scores `outcomes` (of `reconcile` on `dataset.transactions`) against `dataset.labels`. */
export function measureStatementAccuracy(dataset: KoreanStatementDataset, outcomes: readonly ReconOutcome[]): StatementAccuracy {
  const confusion = Object.fromEntries(
    STATUSES.map((status) => [status, Object.fromEntries(EXPECTATIONS.map((expected) => [expected, 0]))]),
  ) as Record<ReconStatus, Record<StatementExpectation, number>>;
  const byTag: StatementAccuracy['byTag'] = {};
  const outcomeOf = new Map(outcomes.map((outcome) => [outcome.transactionId, outcome]));
  let autoLines = 0;
  let matched = 0;
  let correctMatches = 0;
  let correctAuto = 0;
  let suggestOnlyMatched = 0;
  let feeOrTieMatched = 0;
  let blockedMatched = 0;
  let suggestedWithTruth = 0;
  let topCandidateRight = 0;
  let untiedSuggested = 0;
  let untiedTopRight = 0;
  let tiesSuggested = 0;
  let tiesTruthShown = 0;

  for (const tx of dataset.transactions) {
    const outcome = outcomeOf.get(tx.id);
    const label = dataset.labels.get(tx.id);
    if (!outcome) throw new Error(`no outcome for transaction ${tx.id}`);
    if (!label) throw new Error(`no label for transaction ${tx.id}`);
    confusion[outcome.status][label.expected] += 1;
    const isMatched = outcome.status === 'matched';
    const right = isMatched && label.entryIds.length === 1 && !label.splitWith && outcome.entryId === label.entryIds[0];
    const suggestedTruth = outcome.status === 'suggested' && label.entryIds.length > 0;
    const topRight = suggestedTruth && candidateIsRight(outcome.candidates[0], tx.id, label);
    if (label.expected === 'auto') autoLines += 1;
    if (isMatched) matched += 1;
    if (right) correctMatches += 1;
    if (right && label.expected === 'auto') correctAuto += 1;
    if (isMatched && label.expected === 'suggest') suggestOnlyMatched += 1;
    if (isMatched && label.expected === 'suggest' && label.tags.some((tag) => NEVER_MATCHED_TAGS.has(tag))) feeOrTieMatched += 1;
    if (isMatched && label.expected === 'blocked') blockedMatched += 1;
    if (suggestedTruth) suggestedWithTruth += 1;
    if (topRight) topCandidateRight += 1;
    if (suggestedTruth && label.tags.includes('tie')) {
      tiesSuggested += 1;
      if (outcome.candidates.some((candidate) => candidateIsRight(candidate, tx.id, label))) tiesTruthShown += 1;
    } else if (suggestedTruth) {
      untiedSuggested += 1;
      if (topRight) untiedTopRight += 1;
    }
    for (const tag of label.tags) {
      const row = (byTag[tag] ??= { lines: 0, matchedRight: 0, matchedWrong: 0, suggested: 0, topRight: 0 });
      row.lines += 1;
      if (right) row.matchedRight += 1;
      else if (isMatched) row.matchedWrong += 1;
      if (outcome.status === 'suggested') row.suggested += 1;
      if (topRight) row.topRight += 1;
    }
  }
  const ratio = (part: number, whole: number): number => (whole === 0 ? 1 : part / whole);
  return {
    lines: dataset.transactions.length,
    autoLines,
    matched,
    correctMatches,
    wrongMatches: matched - correctMatches,
    precision: ratio(correctMatches, matched),
    recall: ratio(correctAuto, autoLines),
    suggestOnlyMatched,
    feeOrTieMatched,
    blockedMatched,
    suggestedWithTruth,
    topCandidateRight,
    topCandidateRate: ratio(topCandidateRight, suggestedWithTruth),
    untiedSuggested,
    untiedTopRight,
    untiedTopRate: ratio(untiedTopRight, untiedSuggested),
    tiesSuggested,
    tiesTruthShown,
    confusion,
    byTag: Object.fromEntries(Object.entries(byTag).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

/** The confusion table (outcome x expectation), the figures and the per-tag breakdown, as fixed-width text. */
export function formatStatementAccuracy(accuracy: StatementAccuracy): string {
  const pad = (text: string | number, width: number): string => String(text).padStart(width);
  const percent = (value: number): string => `${(100 * value).toFixed(2)}%`;
  const out = [`${'outcome \\ expected'.padEnd(20)}${EXPECTATIONS.map((expected) => pad(expected, 9)).join('')}${pad('total', 9)}`];
  for (const status of STATUSES) {
    const row = accuracy.confusion[status];
    const total = EXPECTATIONS.reduce((sum, expected) => sum + row[expected], 0);
    out.push(`${status.padEnd(20)}${EXPECTATIONS.map((expected) => pad(row[expected], 9)).join('')}${pad(total, 9)}`);
  }
  out.push(
    '',
    `lines ${accuracy.lines}, expected auto ${accuracy.autoLines}`,
    `precision ${percent(accuracy.precision)} (${accuracy.correctMatches} correct of ${accuracy.matched} matched, ${accuracy.wrongMatches} wrong)`,
    `recall ${percent(accuracy.recall)} of lines expected auto`,
    `matched though only to suggest: ${accuracy.suggestOnlyMatched} (fee-short, partial, tie or group: ${accuracy.feeOrTieMatched}); ` +
      `matched though blocked: ${accuracy.blockedMatched}`,
    `first candidate right: ${accuracy.topCandidateRight} of ${accuracy.suggestedWithTruth} suggested lines with a true pair (${percent(accuracy.topCandidateRate)}); ` +
      `${accuracy.untiedTopRight} of ${accuracy.untiedSuggested} without a tie (${percent(accuracy.untiedTopRate)}); ` +
      `true entry shown for ${accuracy.tiesTruthShown} of ${accuracy.tiesSuggested} ties`,
    '',
    `${'tag'.padEnd(22)}${pad('lines', 7)}${pad('right', 7)}${pad('wrong', 7)}${pad('suggest', 9)}${pad('top ok', 8)}`,
  );
  for (const [tag, row] of Object.entries(accuracy.byTag)) {
    out.push(`${tag.padEnd(22)}${pad(row.lines, 7)}${pad(row.matchedRight, 7)}${pad(row.matchedWrong, 7)}${pad(row.suggested, 9)}${pad(row.topRight, 8)}`);
  }
  return out.join('\n');
}
