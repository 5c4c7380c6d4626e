import { ValidationError } from '../errors.js';
import { CandidateIndex, prepareEntries, prepareTransaction, type PreparedTransaction } from './candidateIndex.js';
import { absMoney, compareMoney, formatMoney, parseMoney, toDecimalString } from './money.js';
import { groupCandidate } from './groupCandidate.js';
import { findBatch, findSplits, groupPartsOf, type GroupFinding, type GroupParts, type OpenLine } from './groups.js';
import { evidenceOf, rationales } from './rationale.js';
import { DEFAULT_RECON_RULES, parseReconRules } from './rules.js';
import { describeCriteria, scorePair, type ScoredPair } from './scorePair.js';
import type { ReconAlias, ReconBankTransaction, ReconCandidate, ReconInput, ReconOutcome, ReconRules, ReconStatus } from './types.js';

export { DEFAULT_RECON_RULES } from './rules.js';

/** Every `ReconOutcome.rule` the engine writes (docs/RECON.md "Outcomes"). */
export const RECON_RULE_IDS = [
  'auto_match',
  'unique_amount',
  'below_threshold',
  'tie',
  'amount_differs',
  'reference_conflict',
  'group',
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
  | { kind: 'claim'; chosen: ScoredPair; unique: boolean };

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
  /** The entries it may be grouped with, found on first use (only lines left open need them). */
  parts: () => GroupParts;
  /** The batch or split it is suggested as, if any (`assignGroups`). */
  group: GroupFinding | null;
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
  const wonByReference = new Set<string>();
  const contested = new Set<string>();
  for (const draft of drafts) decide(draft, rules, taken, wonBy, wonByReference);
  resolveClaims(drafts, rules, wonBy, wonByReference, contested);
  for (let round = 0; round < MAX_ELIMINATION_ROUNDS; round++) {
    const again = drafts.filter(
      (draft) =>
        draft.decision.kind === 'final' &&
        (((draft.decision.rule === 'tie' || draft.decision.rule === 'contested') &&
          draft.shown.some((pair) => isTakenByOther(pair.entry.id, draft.tx.id, wonBy))) ||
          (draft.decision.rule === 'below_threshold' &&
            draft.scored.some((pair) => pair.amountDifference.units === 0n && isTakenByOther(pair.entry.id, draft.tx.id, wonBy)))),
    );
    if (again.length === 0) break;
    for (const draft of again) decide(draft, rules, taken, wonBy, wonByReference);
    resolveClaims(again, rules, wonBy, wonByReference, contested);
  }
  assignGroups(drafts, rules, (entryId) => taken.has(entryId) || wonBy.has(entryId) || (input.matchedElsewhereEntryIds?.has(entryId) ?? false));
  return { rules, drafts, taken, wonBy };
}

const NO_PARTS: GroupParts = { smaller: [], larger: [] };

/** Rules of a suggestion or non-match that a group (an exact sum) outranks. */
const GROUP_OUTRANKS: ReadonlySet<ReconRuleId> = new Set(['no_candidate', 'below_threshold', 'fuzzy_only', 'amount_differs', 'reference_conflict']);

/**
 * Suggests lines left open (unmatched, or suggested on weak or differing evidence) as a batch
 * or a split (`findBatch`, `findSplits`) over entries not `excluded`: confirmed, matched in this
 * run, or held by an auto-match of a line outside the run.
 */
function assignGroups(drafts: readonly Draft[], rules: ReconRules, excluded: (entryId: string) => boolean): void {
  const open: (Draft & { prepared: PreparedTransaction })[] = [];
  for (const draft of drafts) {
    const { prepared, decision } = draft;
    if (!prepared || prepared.pending || decision.kind !== 'final' || !GROUP_OUTRANKS.has(decision.rule)) continue;
    open.push(draft as Draft & { prepared: PreparedTransaction });
  }
  const unbatched: OpenLine[] = [];
  for (const draft of open) {
    const line = { tx: draft.prepared, parts: draft.parts() };
    draft.group = findBatch(line, rules, excluded);
    if (!draft.group) unbatched.push(line);
  }
  const splits = findSplits(unbatched, rules, excluded);
  for (const draft of open) draft.group ??= splits.get(draft.tx.id) ?? null;
}

/**
 * Only the first step of `reconcile`: each transaction's candidate trace (as `reconcileTraced`
 * answers it), in input order, without deciding anything.
 */
export function candidateTraces(input: ReconInput): CandidateTrace[] {
  const { rules, drafts } = scoreAll(input);
  return drafts.map((draft) => traceOf(draft, rules));
}

/**
 * Group parts are left out of the trace: a group is only ever suggested, and following every
 * line's parts would pull most of a ledger into each incremental run (docs/RECON.md "Groups").
 */
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
  const aliases = aliasesByBankName(input.aliases ?? []);
  return { rules, drafts: input.transactions.map((tx) => scoreTransaction(tx, index, rules, declined, aliases)) };
}

/** Learned aliases by bank name: the ledger names each stands for. */
function aliasesByBankName(aliases: readonly ReconAlias[]): Map<string, Set<string>> {
  const byBankName = new Map<string, Set<string>>();
  for (const { bankName, ledgerName } of aliases) {
    if (bankName === '' || ledgerName === '') continue;
    const names = byBankName.get(bankName);
    if (names) names.add(ledgerName);
    else byBankName.set(bankName, new Set([ledgerName]));
  }
  return byBankName;
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
function scoreTransaction(
  tx: ReconBankTransaction,
  index: CandidateIndex,
  rules: ReconRules,
  declined: ReadonlySet<string>,
  aliases: ReadonlyMap<string, ReadonlySet<string>>,
): Draft {
  const parsed = prepareTransaction(tx);
  if (parsed.ok) {
    const known = aliases.get(parsed.tx.text.aliasKey);
    if (known) parsed.tx.aliases = known;
  }
  const draft: Draft = {
    tx,
    prepared: parsed.ok ? parsed.tx : null,
    scored: [],
    declinedCount: 0,
    shown: [],
    decision: final('unmatched', 'invalid_transaction', null, () => rationales.invalid(parsed.ok ? '' : parsed.problem)),
    passedOver: [],
    parts: () => NO_PARTS,
    group: null,
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
  const prepared = draft.prepared;
  let parts: GroupParts | undefined;
  draft.parts = () => (parts ??= groupPartsOf(prepared, index, rules, prepared.aliases));
  return draft;
}

/**
 * Decides one transaction on its own, leaving out entries auto-matched to other lines in this
 * run (`wonBy`); an auto-match is only a claim until `resolveClaims` settles it. An entry another
 * line won on its reference (`wonByReference`) is no twin of this line's best: one won on amount,
 * date and name alone still is, so a tie is never settled by another guess.
 */
function decide(
  draft: Draft,
  rules: ReconRules,
  taken: ReadonlySet<string>,
  wonBy: ReadonlyMap<string, string>,
  wonByReference: ReadonlySet<string>,
): void {
  const prepared = draft.prepared;
  if (!prepared) return;
  const available = draft.scored.filter((pair) => !isTakenByOther(pair.entry.id, draft.tx.id, wonBy));
  const rivals = draft.scored.filter(
    (pair) => !taken.has(pair.entry.id) && (!isTakenByOther(pair.entry.id, draft.tx.id, wonBy) || !wonByReference.has(pair.entry.id)),
  );
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
    const why = draft.declinedCount > 0 ? rationales.allDeclined(draft.declinedCount) : rationales.noCandidate(rules.dateSearchDays);
    return decision(final('unmatched', 'no_candidate', null, () => why));
  }
  const best = shown[0];
  if (!best) {
    return decision(final('unmatched', 'no_candidate', null, () => rationales.weakCandidates(strongest, rules.suggestThreshold)));
  }
  if (!settlesAmount(best)) {
    return decision(final('suggested', 'amount_differs', best, (evidence) => rationales.amountDiffers(evidence, best.confidence)));
  }
  const unique = !atLeast(best.confidence, rules.autoMatchThreshold) && isOnlyOpenAmount(best, available, draft.parts, rules);
  if (!atLeast(best.confidence, rules.autoMatchThreshold) && !unique) {
    return decision(
      final('suggested', 'below_threshold', best, (evidence) => rationales.belowThreshold(evidence, best.confidence, rules.autoMatchThreshold)),
    );
  }
  const second = shown[1];
  if (second && best.confidence - second.confidence < rules.tieMargin - EPSILON) {
    return decision(final('suggested', 'tie', best, () => rationales.tie(best, second, rules.tieMargin)));
  }
  const twin = identityTwin(best, rivals, rules);
  if (twin) return decision(final('suggested', 'tie', best, () => rationales.identityTie(best, twin, rules.dateWindowDays)));
  if (best.tier === 'fuzzy') {
    return decision(final('suggested', 'fuzzy_only', best, (evidence) => rationales.fuzzyOnly(evidence, best.confidence)));
  }
  if (best.reference.state === 'conflict') {
    return decision(final('suggested', 'reference_conflict', best, (evidence) => rationales.referenceConflict(evidence, best.confidence)));
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
  return decision({ kind: 'claim', chosen: best, unique });
}

/**
 * Whether `best`, though nothing names it, is the only open entry of exactly the line's amount
 * that the date allows: within the window, dated at most one business day after the line, no
 * conflicting reference, no other candidate of that amount (one matched to another line in
 * this run is not open), and no entry of another amount identified with the line (`parts`). A
 * card terminal or a payment gateway names no one; the amount and the day do, when nothing
 * else has them.
 */
function isOnlyOpenAmount(best: ScoredPair, available: readonly ScoredPair[], parts: () => GroupParts, rules: ReconRules): boolean {
  if (!settlesAmount(best) || best.currency < 1 || best.reference.state === 'conflict') return false;
  if (best.businessShift > rules.dateWindowDays || best.businessShift < -1) return false;
  if (available.some((other) => other !== best && settlesAmount(other))) return false;
  // The line names a counterparty whose entries are of other amounts: not a nameless payment.
  const { smaller, larger } = parts();
  return smaller.length === 0 && larger.length === 0;
}

/** Whether the line pays exactly the entry's amount, or all but a fee the tenant's rule accepts. */
const settlesAmount = (pair: ScoredPair): boolean => pair.amountDifference.units === 0n || pair.fee !== null;

/**
 * Another candidate the date alone would have to pick against: of exactly the line's amount
 * too, both within the date window, and identified as well (within `tieIdentityMargin`), unless
 * the best one's reference matches and the other's does not. Two open invoices of one supplier
 * for the same sum, paid without a reference, are a person's call however close the dates.
 */
function identityTwin(best: ScoredPair, available: readonly ScoredPair[], rules: ReconRules): ScoredPair | null {
  const inWindow = (pair: ScoredPair): boolean => Math.abs(pair.businessShift) <= rules.dateWindowDays;
  if (!settlesAmount(best) || !inWindow(best)) return null;
  for (const other of available) {
    // An entry dated days after the payment is not one it could have paid.
    if (other === best || !settlesAmount(other) || other.currency < 1 || !inWindow(other) || other.businessShift < -1) continue;
    if (best.reference.state === 'match' && other.reference.state !== 'match') continue;
    if (other.identity >= best.identity - rules.tieIdentityMargin - EPSILON) return other;
  }
  return null;
}

/**
 * One entry, one transaction: the auto-match claims on each entry are ranked by confidence,
 * then transaction id. A clear winner is matched (recorded in `wonBy`) and the others are
 * blocked (`blocked_entry_taken`); when the first two are within `tieMargin`, no one is matched
 * and every claimant is suggested (`contested`). An entry once contested stays contested in
 * later rounds, so a late claimant never takes it from the lines that disputed it.
 */
function resolveClaims(
  drafts: readonly Draft[],
  rules: ReconRules,
  wonBy: Map<string, string>,
  wonByReference: Set<string>,
  contestedEntries: Set<string>,
): void {
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
    else {
      wonBy.set(entryId, first.tx.id);
      if (first.decision.kind === 'claim' && first.decision.chosen.reference.state === 'match') wonByReference.add(entryId);
    }
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
        draft.decision = draft.decision.unique
          ? final('matched', 'unique_amount', chosen, (evidence) => rationales.uniqueAmount(evidence, chosen.confidence, rules.dateWindowDays))
          : final('matched', 'auto_match', chosen, (evidence) => rationales.matched(evidence, chosen.confidence, passedOver));
      } else {
        draft.decision = final('blocked', 'blocked_entry_taken', chosen, () => rationales.entryWonBy(chosen, winner));
      }
    }
  }
}

function toOutcome(draft: Draft, rules: ReconRules, taken: ReadonlySet<string>, wonBy: ReadonlyMap<string, string>): ReconOutcome {
  const { tx, prepared, decision } = draft;
  if (decision.kind !== 'final') throw new Error(`transaction ${tx.id} has an unresolved claim`);
  if (prepared && draft.group) return groupOutcome(draft, prepared, draft.group, rules, taken, wonBy);
  const candidates: ReconCandidate[] = prepared ? draft.shown.map((pair) => candidateOf(prepared, pair, rules, taken, wonBy)) : [];
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

/** A shown pair as the outcome carries it: criteria, `taken` (confirmed or matched elsewhere in this run), the accepted fee. */
function candidateOf(
  tx: PreparedTransaction,
  pair: ScoredPair,
  rules: ReconRules,
  taken: ReadonlySet<string>,
  wonBy: ReadonlyMap<string, string>,
): ReconCandidate {
  return {
    entryId: pair.entry.id,
    confidence: pair.confidence,
    tier: pair.tier,
    criteria: describeCriteria(tx, pair, rules),
    taken: taken.has(pair.entry.id) || isTakenByOther(pair.entry.id, tx.id, wonBy),
    ...(pair.fee ? { fee: toDecimalString(pair.fee, tx.currency) } : {}),
  };
}

/** The outcome of a line suggested as a batch or split: the group first, then up to two single candidates. */
function groupOutcome(
  draft: Draft,
  tx: PreparedTransaction,
  group: GroupFinding,
  rules: ReconRules,
  taken: ReadonlySet<string>,
  wonBy: ReadonlyMap<string, string>,
): ReconOutcome {
  const candidate = groupCandidate(tx, group, rules);
  const singles = draft.shown.slice(0, SHOWN_CANDIDATES - 1).map((pair) => candidateOf(tx, pair, rules, taken, wonBy));
  return {
    transactionId: tx.id,
    status: 'suggested',
    entryId: candidate.entryId,
    confidence: candidate.confidence,
    candidates: [candidate, ...singles],
    criteria: candidate.criteria.map((criterion) => ({ ...criterion })),
    rule: 'group',
    rationale: rationales.group(group, formatMoney(absMoney(tx.money), tx.currency)),
    rulesVersion: rules.version,
  };
}
