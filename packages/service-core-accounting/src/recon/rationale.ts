import type { GroupFinding } from './groups.js';
import type { ScoredPair } from './scorePair.js';
import type { Criterion } from './types.js';

/**
 * The one-sentence rationales of docs/RECON.md "Rationale": "<evidence> -> <outcome>" or
 * "<rule>: <why> -> <outcome>". Built from the scores and the rule only.
 */

const score = (value: number): string => value.toFixed(2);

/** "amount equal (12,000 KRW); date +1 day within 3-day window; reference INV-1 found in memo". */
export function evidenceOf(pair: ScoredPair, criteria: readonly Criterion[]): string {
  const detail = (name: Criterion['name']): string => criteria.find((criterion) => criterion.name === name)?.detail ?? '';
  const parts = [detail('amount')];
  if (pair.currency < 1) parts.push(detail('currency'));
  parts.push(detail('date'));
  if (pair.reference.score >= 1) {
    parts.push(detail('reference'));
  } else {
    if (pair.reference.state === 'conflict' || pair.reference.state === 'unverified' || pair.text.score === 0) parts.push(detail('reference'));
    parts.push(detail('text'));
  }
  return parts.join('; ');
}

export const rationales = {
  matched: (evidence: string, confidence: number, passedOver: readonly { entryId: string; transactionId: string }[]): string => {
    const after = passedOver
      .slice(0, 2)
      .map((taken) => `${taken.entryId} went to ${taken.transactionId}`)
      .join(', ');
    return `${evidence}${after === '' ? '' : `; ${after}`} -> matched (${score(confidence)})`;
  },
  uniqueAmount: (evidence: string, confidence: number, windowDays: number): string =>
    `${evidence}; the only open entry of this amount within ${windowDays} business days -> matched (${score(confidence)}, unique amount)`,
  belowThreshold: (evidence: string, confidence: number, threshold: number): string =>
    `${evidence} -> suggested (${score(confidence)}, below the auto-match threshold ${score(threshold)})`,
  tie: (first: ScoredPair, second: ScoredPair, margin: number): string =>
    `tie: entries ${first.entry.id} (${score(first.confidence)}) and ${second.entry.id} (${score(second.confidence)}) ` +
    `score within ${score(margin)} of each other -> suggested, both shown`,
  identityTie: (first: ScoredPair, second: ScoredPair, windowDays: number): string =>
    `tie: entries ${first.entry.id} and ${second.entry.id} both have the amount, both lie within ${windowDays} business days ` +
    `and are identified as well (${score(first.identity)} vs ${score(second.identity)}) -> suggested, both shown`,
  referenceConflict: (evidence: string, confidence: number): string =>
    `${evidence} -> suggested (${score(confidence)}; the two sides carry different references: never auto-matched)`,
  amountDiffers: (evidence: string, confidence: number): string =>
    `${evidence} -> suggested (${score(confidence)}; the amounts differ: never auto-matched)`,
  group: (group: GroupFinding, amount: string): string => {
    const ambiguity = group.combinations > 1 ? ' (other combinations add up too: check which)' : '';
    return group.kind === 'batch'
      ? `group: ${amount} is the sum of ${group.entries.length} open entries of the same counterparty ` +
          `(${group.entries.map((entry) => entry.id).join(', ')})${ambiguity} -> suggested as a batch`
      : `group: ${group.transactionIds.length} lines (${group.transactionIds.join(', ')}) add up to entry ` +
          `${group.entries[0]?.id ?? ''}${ambiguity} -> suggested as a split`;
  },
  fuzzyOnly: (evidence: string, confidence: number): string =>
    `${evidence} -> suggested (${score(confidence)}, outside the window or tolerance and no reference: never auto-matched)`,
  contested: (entryId: string, others: readonly { transactionId: string; confidence: number }[], confidence: number): string => {
    const named = others
      .slice(0, 2)
      .map((other) => `${other.transactionId} (${score(other.confidence)})`)
      .join(' and ');
    const more = others.length > 2 ? ` and ${others.length - 2} more` : '';
    const by = named === '' ? 'was disputed by other transactions' : `is also the best match of transaction ${named}${more}`;
    return `contested: entry ${entryId} ${by}, this one ${score(confidence)} -> suggested`;
  },
  pending: (pair: ScoredPair): string =>
    `blocked: the transaction is pending; best candidate ${pair.entry.id} (${score(pair.confidence)}) -> manual review`,
  currencyMismatch: (transactionCurrency: string, pair: ScoredPair): string =>
    `blocked: transaction in ${transactionCurrency}, entry ${pair.entry.id} in ${pair.entry.currency} -> manual review`,
  amountLimit: (amount: string, limit: string): string =>
    `blocked: ${amount} is above the auto-match limit of ${limit} -> manual review`,
  entryTaken: (pair: ScoredPair): string =>
    `blocked: entry ${pair.entry.id} is already matched to another transaction -> manual review`,
  entryWonBy: (pair: ScoredPair, winner: { transactionId: string; confidence: number }): string =>
    `blocked: entry ${pair.entry.id} was auto-matched to transaction ${winner.transactionId} ` +
    `(${score(winner.confidence)} vs ${score(pair.confidence)}) -> manual review`,
  noCandidate: (windowDays: number): string =>
    `no entry with the same amount within ${windowDays} calendar days, a shared reference or counterparty -> unmatched`,
  allDeclined: (count: number): string =>
    `${count === 1 ? 'the only candidate was' : `all ${count} candidates were`} declined -> unmatched`,
  weakCandidates: (pair: ScoredPair, threshold: number): string =>
    `best candidate ${pair.entry.id} scored ${score(pair.confidence)}, below the suggestion threshold ${score(threshold)} -> unmatched`,
  invalid: (problem: string): string => `${problem} -> unmatched`,
};
