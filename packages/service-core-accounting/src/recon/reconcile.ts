import { ValidationError } from '../errors.js';
import { CandidateIndex, prepareEntries, prepareTransaction, type PreparedTransaction } from './candidateIndex.js';
import { absMoney, compareMoney, formatMoney, parseMoney } from './money.js';
import { evidenceOf, rationales } from './rationale.js';
import { DEFAULT_RECON_RULES, parseReconRules } from './rules.js';
import { describeCriteria, scorePair, type ScoredPair } from './scorePair.js';
import type { ReconBankTransaction, ReconCandidate, ReconInput, ReconOutcome, ReconRules, ReconStatus } from './types.js';

export { DEFAULT_RECON_RULES } from './rules.js';

/** Every `ReconOutcome.rule` the engine writes (docs/RECON.md "Outcomes"). */
export const RECON_RULE_IDS = [
  'auto_match',
  'below_threshold',
  'tie',
  'contested',
  'no_candidate',
  'invalid_transaction',
  'blocked_pending',
  'blocked_currency_mismatch',
  'blocked_amount_limit',
  'blocked_entry_taken',
] as const;
export type ReconRuleId = (typeof RECON_RULE_IDS)[number];

/** At most this many candidates are shown per bank line. */
const SHOWN_CANDIDATES = 3;
/** Scores carry two decimals; comparisons allow for float noise below that. */
const EPSILON = 1e-9;
const atLeast = (value: number, threshold: number): boolean => value >= threshold - EPSILON;

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byConfidenceThenEntry = (a: ScoredPair, b: ScoredPair): number => b.confidence - a.confidence || byId(a.entry.id, b.entry.id);

type Decision =
  | { kind: 'final'; status: ReconStatus; rule: ReconRuleId; chosen: ScoredPair | null; explain: (evidence: string) => string }
  | { kind: 'claim'; chosen: ScoredPair };

interface Draft {
  tx: ReconBankTransaction;
  prepared: PreparedTransaction | null;
  /** Best first, at most three, all at or above the suggestion threshold. */
  shown: ScoredPair[];
  decision: Decision;
}

const final = (
  status: ReconStatus,
  rule: ReconRuleId,
  chosen: ScoredPair | null,
  explain: (evidence: string) => string,
): Decision => ({ kind: 'final', status, rule, chosen, explain });

/**
 * Reconciles bank lines against ledger entries: one outcome per transaction, in input order.
 * Pure and deterministic: the outcome of a transaction depends on the input sets, never on
 * their order, the clock or chance. Throws `ValidationError` for invalid rules or repeated
 * transaction or entry ids; a transaction it cannot read is `unmatched` (`invalid_transaction`)
 * and an entry it cannot read is never a candidate. Tiers, scores, rules and outcomes:
 * docs/RECON.md.
 */
export function reconcile(input: ReconInput): ReconOutcome[] {
  const rules = input.rules === undefined || input.rules === DEFAULT_RECON_RULES ? DEFAULT_RECON_RULES : parseReconRules(input.rules);
  assertUniqueIds(input);
  const taken = input.takenEntryIds ?? new Set<string>();
  const declined = input.declinedPairs ?? new Set<string>();
  const index = new CandidateIndex(prepareEntries(input.entries), rules);

  const drafts = input.transactions.map((tx) => decide(tx, index, rules, taken, declined));
  const wonBy = resolveClaims(drafts, rules);
  return drafts.map((draft) => toOutcome(draft, rules, taken, wonBy));
}

function assertUniqueIds(input: ReconInput): void {
  const issues = [
    ...repeated(input.transactions.map((tx) => tx.id)).map((id) => ({ path: 'transactions', message: `transaction id ${id} appears more than once` })),
    ...repeated(input.entries.map((entry) => entry.id)).map((id) => ({ path: 'entries', message: `entry id ${id} appears more than once` })),
  ];
  if (issues.length > 0) throw new ValidationError('reconciliation input repeats ids', issues.slice(0, 20));
}

function repeated(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const id of ids) (seen.has(id) ? twice : seen).add(id);
  return [...twice].sort(byId);
}

/** The decision for one transaction on its own; auto-match claims are settled by `resolveClaims`. */
function decide(
  tx: ReconBankTransaction,
  index: CandidateIndex,
  rules: ReconRules,
  taken: ReadonlySet<string>,
  declined: ReadonlySet<string>,
): Draft {
  const parsed = prepareTransaction(tx);
  if (!parsed.ok) {
    const problem = parsed.problem;
    return { tx, prepared: null, shown: [], decision: final('unmatched', 'invalid_transaction', null, () => rationales.invalid(problem)) };
  }
  const prepared = parsed.tx;
  let declinedCount = 0;
  const scored: ScoredPair[] = [];
  for (const entry of index.candidatesFor(prepared)) {
    if (declined.has(`${tx.id}|${entry.id}`)) {
      declinedCount += 1;
      continue;
    }
    const pair = scorePair(prepared, entry, rules, index.wordWeight);
    if (pair) scored.push(pair);
  }
  scored.sort(byConfidenceThenEntry);
  const shown = scored.filter((pair) => atLeast(pair.confidence, rules.suggestThreshold)).slice(0, SHOWN_CANDIDATES);
  const draft = (decision: Decision): Draft => ({ tx, prepared, shown, decision });

  const weakest = scored[0];
  if (!weakest) {
    const why = declinedCount > 0 ? rationales.allDeclined(declinedCount) : rationales.noCandidate(rules.dateWindowDays);
    return draft(final('unmatched', 'no_candidate', null, () => why));
  }
  const best = shown[0];
  if (!best) {
    return draft(final('unmatched', 'no_candidate', null, () => rationales.weakCandidates(weakest, rules.suggestThreshold)));
  }
  if (!atLeast(best.confidence, rules.autoMatchThreshold)) {
    return draft(
      final('suggested', 'below_threshold', best, (evidence) => rationales.belowThreshold(evidence, best.confidence, rules.autoMatchThreshold)),
    );
  }
  const second = shown[1];
  if (second && best.confidence - second.confidence < rules.tieMargin - EPSILON) {
    return draft(final('suggested', 'tie', best, () => rationales.tie(best, second, rules.tieMargin)));
  }
  if (prepared.pending) return draft(final('blocked', 'blocked_pending', best, () => rationales.pending(best)));
  if (best.currency < 1) {
    return draft(final('blocked', 'blocked_currency_mismatch', best, () => rationales.currencyMismatch(prepared.currency, best)));
  }
  const limitText = rules.autoMatchLimits[prepared.currency];
  const limit = limitText === undefined ? null : parseMoney(limitText, prepared.currency);
  const amount = absMoney(prepared.money);
  if (limit && compareMoney(amount, limit) > 0) {
    const [shownAmount, shownLimit] = [formatMoney(amount, prepared.currency), formatMoney(limit, prepared.currency)];
    return draft(final('blocked', 'blocked_amount_limit', best, () => rationales.amountLimit(shownAmount, shownLimit)));
  }
  if (taken.has(best.entry.id)) return draft(final('blocked', 'blocked_entry_taken', best, () => rationales.entryTaken(best)));
  return draft({ kind: 'claim', chosen: best });
}

/**
 * One entry, one transaction: the auto-match claims on each entry are ranked by confidence,
 * then transaction id. A clear winner is matched and the others are blocked
 * (`blocked_entry_taken`); when the first two are within `tieMargin`, no one is matched and
 * every claimant is suggested (`contested`). Returns entry id -> the transaction matched to it.
 */
function resolveClaims(drafts: Draft[], rules: ReconRules): Map<string, string> {
  const claims = new Map<string, Draft[]>();
  for (const draft of drafts) {
    if (draft.decision.kind !== 'claim') continue;
    const entryId = draft.decision.chosen.entry.id;
    const list = claims.get(entryId);
    if (list) list.push(draft);
    else claims.set(entryId, [draft]);
  }
  const confidenceOf = (draft: Draft): number => (draft.decision.kind === 'claim' ? draft.decision.chosen.confidence : 0);
  const wonBy = new Map<string, string>();
  for (const [entryId, list] of claims) {
    list.sort((a, b) => confidenceOf(b) - confidenceOf(a) || byId(a.tx.id, b.tx.id));
    const [first, second] = list;
    if (!first) continue;
    const contested = second !== undefined && confidenceOf(first) - confidenceOf(second) < rules.tieMargin - EPSILON;
    if (!contested) wonBy.set(entryId, first.tx.id);
    for (const draft of list) {
      if (draft.decision.kind !== 'claim') continue;
      const chosen = draft.decision.chosen;
      if (contested) {
        const others = list
          .filter((other) => other !== draft)
          .map((other) => ({ transactionId: other.tx.id, confidence: confidenceOf(other) }));
        draft.decision = final('suggested', 'contested', chosen, () => rationales.contested(entryId, others, chosen.confidence));
      } else if (draft === first) {
        draft.decision = final('matched', 'auto_match', chosen, (evidence) => rationales.matched(evidence, chosen.confidence));
      } else {
        const winner = { transactionId: first.tx.id, confidence: confidenceOf(first) };
        draft.decision = final('blocked', 'blocked_entry_taken', chosen, () => rationales.entryWonBy(chosen, winner));
      }
    }
  }
  return wonBy;
}

function toOutcome(draft: Draft, rules: ReconRules, taken: ReadonlySet<string>, wonBy: ReadonlyMap<string, string>): ReconOutcome {
  const { tx, prepared, decision } = draft;
  if (decision.kind !== 'final') throw new Error(`transaction ${tx.id} has an unresolved claim`);
  const candidates: ReconCandidate[] = prepared
    ? draft.shown.map((pair) => ({
        entryId: pair.entry.id,
        confidence: pair.confidence,
        tier: pair.tier,
        criteria: describeCriteria(prepared, pair, rules),
        taken: taken.has(pair.entry.id) || (wonBy.get(pair.entry.id) ?? tx.id) !== tx.id,
      }))
    : [];
  const chosen = decision.chosen;
  const chosenCandidate = chosen ? candidates.find((candidate) => candidate.entryId === chosen.entry.id) : undefined;
  const criteria = chosenCandidate ? chosenCandidate.criteria.map((criterion) => ({ ...criterion })) : [];
  return {
    transactionId: tx.id,
    status: decision.status,
    entryId: chosen ? chosen.entry.id : null,
    confidence: chosen ? chosen.confidence : null,
    candidates: decision.status === 'unmatched' ? [] : candidates,
    criteria,
    rule: decision.rule,
    rationale: decision.explain(chosen ? evidenceOf(chosen, criteria) : ''),
    rulesVersion: rules.version,
  };
}
