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
  'fuzzy_only',
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
  /** Every candidate, best first. */
  scored: ScoredPair[];
  declinedCount: number;
  /** Best first, at most three, at or above the suggestion threshold, none matched to another line when decided. */
  shown: ScoredPair[];
  decision: Decision;
  /** Entries auto-matched to other lines in this run that this decision left out (see `reconcile`). */
  passedOver: { entryId: string; transactionId: string }[];
}

const final = (
  status: ReconStatus,
  rule: ReconRuleId,
  chosen: ScoredPair | null,
  explain: (evidence: string) => string,
): Decision => ({ kind: 'final', status, rule, chosen, explain });

/** Rounds of "decide again without the entries just matched" after the first (see `reconcile`). */
const MAX_ELIMINATION_ROUNDS = 3;

/**
 * Reconciles bank lines against ledger entries: one outcome per transaction, in input order.
 * Pure and deterministic: the outcome of a transaction depends on the input sets, never on
 * their order, the clock or chance. Throws `ValidationError` for invalid rules or repeated
 * transaction or entry ids; a transaction it cannot read is `unmatched` (`invalid_transaction`)
 * and an entry it cannot read is never a candidate.
 *
 * Each line is decided on its own, then auto-match claims on the same entry are settled
 * (`resolveClaims`). A line left on a tie or a contested claim whose candidates include an
 * entry just auto-matched elsewhere is decided again without that entry, up to
 * `MAX_ELIMINATION_ROUNDS` times: two invoices of the same size from one supplier are told
 * apart once the other payment has taken its invoice. Tiers, scores, rules and outcomes:
 * docs/RECON.md.
 */
export function reconcile(input: ReconInput): ReconOutcome[] {
  const { rules, drafts, taken, wonBy } = decideAll(input);
  return drafts.map((draft) => toOutcome(draft, rules, taken, wonBy));
}

/** Which entries a transaction was scored against, and which of them it could claim. */
export interface CandidateTrace {
  /** Every entry it was scored against (declined pairs left out), sorted. */
  scored: string[];
  /** Those at or above the auto-match threshold: the only entries it can ever claim, sorted. */
  claimable: string[];
}

/** What `reconcile` decided, and each transaction's `CandidateTrace`. */
export interface TracedReconciliation {
  /** One outcome per transaction, in input order. */
  outcomes: ReconOutcome[];
  /** One trace per transaction, in input order. */
  traces: CandidateTrace[];
}

/**
 * `reconcile`, also answering each transaction's candidate trace. Transactions meet only on an
 * entry one of them claims: the outcome of a transaction depends on its own data, the entries
 * near it and the transactions that could claim an entry it was scored against (and, in turn,
 * theirs), never on any other. An incremental run uses the traces to know which stored
 * suggestions a change can reach (docs/RECON.md "Runs").
 */
export function reconcileTraced(input: ReconInput): TracedReconciliation {
  const { rules, drafts, taken, wonBy } = decideAll(input);
  return { outcomes: drafts.map((draft) => toOutcome(draft, rules, taken, wonBy)), traces: drafts.map((draft) => traceOf(draft, rules)) };
}

/** Scores every transaction, decides each, settles the claims and runs the elimination rounds. */
function decideAll(input: ReconInput): { rules: ReconRules; drafts: Draft[]; taken: ReadonlySet<string>; wonBy: ReadonlyMap<string, string> } {
  const { rules, drafts } = scoreAll(input);
  const taken = input.takenEntryIds ?? new Set<string>();
  const wonBy = new Map<string, string>();
  const contested = new Set<string>();
  for (const draft of drafts) decide(draft, rules, taken, wonBy);
  resolveClaims(drafts, rules, wonBy, contested);
  for (let round = 0; round < MAX_ELIMINATION_ROUNDS; round++) {
    const again = drafts.filter(
      (draft) =>
        draft.decision.kind === 'final' &&
        (draft.decision.rule === 'tie' || draft.decision.rule === 'contested') &&
        draft.shown.some((pair) => isTakenByOther(pair.entry.id, draft.tx.id, wonBy)),
    );
    if (again.length === 0) break;
    for (const draft of again) decide(draft, rules, taken, wonBy);
    resolveClaims(again, rules, wonBy, contested);
  }
  return { rules, drafts, taken, wonBy };
}

/**
 * Only the first step of `reconcile`: each transaction's candidate trace (as `reconcileTraced`
 * answers it), in input order, without deciding anything.
 */
export function candidateTraces(input: ReconInput): CandidateTrace[] {
  const { rules, drafts } = scoreAll(input);
  return drafts.map((draft) => traceOf(draft, rules));
}

function traceOf(draft: Draft, rules: ReconRules): CandidateTrace {
  return {
    scored: draft.scored.map((pair) => pair.entry.id).sort(byId),
    claimable: draft.scored
      .filter((pair) => atLeast(pair.confidence, rules.autoMatchThreshold))
      .map((pair) => pair.entry.id)
      .sort(byId),
  };
}

function scoreAll(input: ReconInput): { rules: ReconRules; drafts: Draft[] } {
  const rules = input.rules === undefined || input.rules === DEFAULT_RECON_RULES ? DEFAULT_RECON_RULES : parseReconRules(input.rules);
  assertUniqueIds(input);
  const declined = input.declinedPairs ?? new Set<string>();
  const index = new CandidateIndex(prepareEntries(input.entries), rules);
  return { rules, drafts: input.transactions.map((tx) => scoreTransaction(tx, index, rules, declined)) };
}

const isTakenByOther = (entryId: string, transactionId: string, wonBy: ReadonlyMap<string, string>): boolean =>
  (wonBy.get(entryId) ?? transactionId) !== transactionId;

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

/** Finds and scores the candidates of one transaction (declined pairs left out), best first. */
function scoreTransaction(tx: ReconBankTransaction, index: CandidateIndex, rules: ReconRules, declined: ReadonlySet<string>): Draft {
  const parsed = prepareTransaction(tx);
  const draft: Draft = {
    tx,
    prepared: parsed.ok ? parsed.tx : null,
    scored: [],
    declinedCount: 0,
    shown: [],
    decision: final('unmatched', 'invalid_transaction', null, () => rationales.invalid(parsed.ok ? '' : parsed.problem)),
    passedOver: [],
  };
  if (!draft.prepared) return draft;
  const wordWeight = index.wordWeightAround(draft.prepared.day);
  for (const entry of index.candidatesFor(draft.prepared)) {
    if (declined.has(`${tx.id}|${entry.id}`)) {
      draft.declinedCount += 1;
      continue;
    }
    const pair = scorePair(draft.prepared, entry, rules, wordWeight);
    if (pair) draft.scored.push(pair);
  }
  draft.scored.sort(byConfidenceThenEntry);
  return draft;
}

/**
 * Decides one transaction on its own, leaving out entries auto-matched to other lines in this
 * run (`wonBy`); an auto-match is only a claim until `resolveClaims` settles it.
 */
function decide(draft: Draft, rules: ReconRules, taken: ReadonlySet<string>, wonBy: ReadonlyMap<string, string>): void {
  const prepared = draft.prepared;
  if (!prepared) return;
  const available = draft.scored.filter((pair) => !isTakenByOther(pair.entry.id, draft.tx.id, wonBy));
  draft.passedOver = draft.scored
    .filter((pair) => !available.includes(pair) && atLeast(pair.confidence, rules.suggestThreshold))
    .map((pair) => ({ entryId: pair.entry.id, transactionId: wonBy.get(pair.entry.id) ?? '' }));
  const shown = available.filter((pair) => atLeast(pair.confidence, rules.suggestThreshold)).slice(0, SHOWN_CANDIDATES);
  draft.shown = shown;
  const decision = (decided: Decision): void => {
    draft.decision = decided;
  };

  const strongest = available[0];
  if (!strongest) {
    const why = draft.declinedCount > 0 ? rationales.allDeclined(draft.declinedCount) : rationales.noCandidate(rules.dateWindowDays);
    return decision(final('unmatched', 'no_candidate', null, () => why));
  }
  const best = shown[0];
  if (!best) {
    return decision(final('unmatched', 'no_candidate', null, () => rationales.weakCandidates(strongest, rules.suggestThreshold)));
  }
  if (!atLeast(best.confidence, rules.autoMatchThreshold)) {
    return decision(
      final('suggested', 'below_threshold', best, (evidence) => rationales.belowThreshold(evidence, best.confidence, rules.autoMatchThreshold)),
    );
  }
  const second = shown[1];
  if (second && best.confidence - second.confidence < rules.tieMargin - EPSILON) {
    return decision(final('suggested', 'tie', best, () => rationales.tie(best, second, rules.tieMargin)));
  }
  if (best.tier === 'fuzzy') {
    return decision(final('suggested', 'fuzzy_only', best, (evidence) => rationales.fuzzyOnly(evidence, best.confidence)));
  }
  if (prepared.pending) return decision(final('blocked', 'blocked_pending', best, () => rationales.pending(best)));
  if (best.currency < 1) {
    return decision(final('blocked', 'blocked_currency_mismatch', best, () => rationales.currencyMismatch(prepared.currency, best)));
  }
  const limitText = rules.autoMatchLimits[prepared.currency];
  const limit = limitText === undefined ? null : parseMoney(limitText, prepared.currency);
  const amount = absMoney(prepared.money);
  if (limit && compareMoney(amount, limit) > 0) {
    const [shownAmount, shownLimit] = [formatMoney(amount, prepared.currency), formatMoney(limit, prepared.currency)];
    return decision(final('blocked', 'blocked_amount_limit', best, () => rationales.amountLimit(shownAmount, shownLimit)));
  }
  if (taken.has(best.entry.id)) return decision(final('blocked', 'blocked_entry_taken', best, () => rationales.entryTaken(best)));
  return decision({ kind: 'claim', chosen: best });
}

/**
 * One entry, one transaction: the auto-match claims on each entry are ranked by confidence,
 * then transaction id. A clear winner is matched (recorded in `wonBy`) and the others are
 * blocked (`blocked_entry_taken`); when the first two are within `tieMargin`, no one is matched
 * and every claimant is suggested (`contested`). An entry once contested stays contested in
 * later rounds, so a late claimant never takes it from the lines that disputed it.
 */
function resolveClaims(drafts: readonly Draft[], rules: ReconRules, wonBy: Map<string, string>, contestedEntries: Set<string>): void {
  const claims = new Map<string, Draft[]>();
  for (const draft of drafts) {
    if (draft.decision.kind !== 'claim') continue;
    const entryId = draft.decision.chosen.entry.id;
    const list = claims.get(entryId);
    if (list) list.push(draft);
    else claims.set(entryId, [draft]);
  }
  const confidenceOf = (draft: Draft): number => (draft.decision.kind === 'claim' ? draft.decision.chosen.confidence : 0);
  for (const [entryId, list] of claims) {
    list.sort((a, b) => confidenceOf(b) - confidenceOf(a) || byId(a.tx.id, b.tx.id));
    const [first, second] = list;
    if (!first) continue;
    const contested =
      contestedEntries.has(entryId) || (second !== undefined && confidenceOf(first) - confidenceOf(second) < rules.tieMargin - EPSILON);
    if (contested) contestedEntries.add(entryId);
    else wonBy.set(entryId, first.tx.id);
    const winner = { transactionId: first.tx.id, confidence: confidenceOf(first) };
    const claimants = list.map((draft) => ({ transactionId: draft.tx.id, confidence: confidenceOf(draft) }));
    for (const draft of list) {
      if (draft.decision.kind !== 'claim') continue;
      const chosen = draft.decision.chosen;
      if (contested) {
        const others = claimants.filter((claimant) => claimant.transactionId !== draft.tx.id);
        draft.decision = final('suggested', 'contested', chosen, () => rationales.contested(entryId, others, chosen.confidence));
      } else if (draft === first) {
        const passedOver = draft.passedOver;
        draft.decision = final('matched', 'auto_match', chosen, (evidence) => rationales.matched(evidence, chosen.confidence, passedOver));
      } else {
        draft.decision = final('blocked', 'blocked_entry_taken', chosen, () => rationales.entryWonBy(chosen, winner));
      }
    }
  }
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
