import { calendarOf } from './businessDays.js';
import type { PreparedEntry, PreparedTransaction } from './candidateIndex.js';
import { absDifference, compareMoney, formatMoney, moneyToNumber, parseMoney, type Money } from './money.js';
import {
  compareReferences,
  compareText,
  describeReferences,
  describeText,
  type ReferenceComparison,
  type TextComparison,
  type WordWeight,
} from './textEvidence.js';
import type { Criterion, ReconRules, ReconTier } from './types.js';

/** A scored pair; details are built only for the pairs that are shown. */
export interface ScoredPair {
  entry: PreparedEntry;
  /** Two decimals. */
  confidence: number;
  tier: ReconTier;
  amount: number;
  currency: number;
  date: number;
  reference: ReferenceComparison;
  text: TextComparison;
  /** The stronger of reference and text, as weighed into the confidence. */
  identity: number;
  /** Bank date minus ledger date, in calendar days. */
  dayShift: number;
  /** Bank date minus ledger date, in business days of the line's currency. */
  businessShift: number;
  amountDifference: Money;
  /** The difference, when the tenant's fee rule accepts it as a bank fee (`ReconRules.feeRules`); else null. */
  fee: Money | null;
}

/** Rounds a score to the two decimals outcomes carry, half up (the nudge keeps 0.435, summed as 0.43499..., at 0.44). */
export const twoDecimals = (value: number): number => Math.round(value * 100 + 1e-9) / 100;

/** Parsed tolerances per rules object and currency: parsed once, not once per pair. */
const parsedTolerances = new WeakMap<ReconRules, Map<string, Money | null>>();

function toleranceOf(currency: string, rules: ReconRules): Money | null {
  let byCurrency = parsedTolerances.get(rules);
  if (!byCurrency) {
    byCurrency = new Map();
    parsedTolerances.set(rules, byCurrency);
  }
  let tolerance = byCurrency.get(currency);
  if (tolerance === undefined) {
    const text = rules.amountTolerances[currency];
    tolerance = text === undefined ? null : parseMoney(text, currency);
    byCurrency.set(currency, tolerance);
  }
  return tolerance;
}

/**
 * Amount score: 1 when equal; 0.9 down to 0.7 within the currency's tolerance; 0.5 down to 0
 * within `fuzzyAmountRatio` of the larger amount; else 0. Compared exactly, as numbers (the
 * currency is its own criterion).
 */
function amountScore(tx: PreparedTransaction, entry: PreparedEntry, difference: Money, rules: ReconRules): number {
  if (difference.units === 0n) return 1;
  const tolerance = toleranceOf(tx.currency, rules);
  if (tolerance && tolerance.units > 0n && compareMoney(difference, tolerance) <= 0) {
    return 0.9 - (0.2 * moneyToNumber(difference)) / moneyToNumber(tolerance);
  }
  const larger = Math.max(Math.abs(moneyToNumber(tx.money)), Math.abs(moneyToNumber(entry.money)));
  const ratio = moneyToNumber(difference) / larger;
  return rules.fuzzyAmountRatio > 0 && ratio <= rules.fuzzyAmountRatio ? 0.5 * (1 - ratio / rules.fuzzyAmountRatio) : 0;
}

/** The amount score of a difference the fee rule accepts: as good as a rounding step. */
const FEE_AMOUNT_SCORE = 0.9;

/** Parsed fee rules per rules object and currency. */
const parsedFeeRules = new WeakMap<ReconRules, Map<string, { min: Money; max: Money } | null>>();

/**
 * The difference as a bank fee, when the tenant's fee rule for the currency accepts it: an
 * incoming payment short of the entry by `min`..`max`. Else null.
 */
function acceptedFee(tx: PreparedTransaction, entry: PreparedEntry, difference: Money, rules: ReconRules): Money | null {
  if (difference.units === 0n || tx.sign <= 0 || tx.currency !== entry.currency || compareMoney(tx.money, entry.money) >= 0) return null;
  let byCurrency = parsedFeeRules.get(rules);
  if (!byCurrency) {
    byCurrency = new Map();
    parsedFeeRules.set(rules, byCurrency);
  }
  let rule = byCurrency.get(tx.currency);
  if (rule === undefined) {
    const text = rules.feeRules[tx.currency];
    const [min, max] = text ? [parseMoney(text.min, tx.currency), parseMoney(text.max, tx.currency)] : [null, null];
    rule = min && max ? { min, max } : null;
    byCurrency.set(tx.currency, rule);
  }
  return rule && compareMoney(difference, rule.min) >= 0 && compareMoney(difference, rule.max) <= 0 ? difference : null;
}

/**
 * Date score by business days: 1 on the same day, down to 0.7 at the window's edge; 0.4 a day
 * beyond, 0 five days beyond; a line two or more business days before its entry 0.4 and less.
 */
function dateScore(shift: number, rules: ReconRules): number {
  const days = Math.abs(shift);
  const window = rules.dateWindowDays;
  // A line booked days before its entry is dated: a payment seldom precedes its invoice.
  if (shift < -1) return Math.max(0, 0.6 - 0.1 * days);
  if (days <= window) return window === 0 ? 1 : 1 - (0.3 * days) / window;
  return Math.max(0, 0.5 - 0.1 * (days - window));
}

/**
 * Identity: 1 when the references match; else the text score, times `referenceConflictFactor`
 * when the two sides carry different references and `referenceUnverifiedFactor` when only the
 * bank line carries one.
 */
function identityScore(reference: ReferenceComparison, text: number, rules: ReconRules): number {
  switch (reference.state) {
    case 'match':
      return 1;
    case 'conflict':
      return text * rules.referenceConflictFactor;
    case 'unverified':
      return text * rules.referenceUnverifiedFactor;
    case 'none':
      return text;
  }
}

/**
 * Scores a pair (same sign, checked by the caller's index) or returns null when it is no
 * candidate: the amounts neither match (score 0) nor share a reference.
 */
export function scorePair(tx: PreparedTransaction, entry: PreparedEntry, rules: ReconRules, wordWeight: WordWeight): ScoredPair | null {
  if (tx.sign !== entry.sign) return null;
  const amountDifference = absDifference(tx.money, entry.money);
  const fee = acceptedFee(tx, entry, amountDifference, rules);
  const amount = fee ? FEE_AMOUNT_SCORE : amountScore(tx, entry, amountDifference, rules);
  const reference = compareReferences(tx.text, entry.text);
  if (amount === 0 && reference.score < 1) return null;
  const currency = tx.currency === entry.currency ? 1 : 0;
  const dayShift = tx.day - entry.day;
  const businessShift = calendarOf(rules.holidays[tx.currency]).shift(entry.day, tx.day);
  const date = dateScore(businessShift, rules);
  const text = compareText(tx.text, entry.text, wordWeight, tx.aliases);
  const identity = identityScore(reference, text.score, rules);
  const { weights } = rules;
  const confidence = twoDecimals(
    weights.amount * amount + weights.currency * currency + weights.date * date + weights.identity * identity,
  );
  const tier: ReconTier =
    reference.score >= 1
      ? 'reference'
      : amount > 0.5 && currency === 1 && Math.abs(businessShift) <= rules.dateWindowDays // above 0.5: within the tolerance
        ? 'amount_date'
        : 'fuzzy';
  return { entry, confidence, tier, amount, currency, date, reference, text, identity, dayShift, businessShift, amountDifference, fee };
}

const plural = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;

/** The five criteria of a pair, in the order amount, currency, date, reference, text. */
export function describeCriteria(tx: PreparedTransaction, pair: ScoredPair, rules: ReconRules): Criterion[] {
  const { entry } = pair;
  const money = (value: Money): string => formatMoney(value, tx.currency);
  let amountDetail: string;
  if (tx.currency !== entry.currency) {
    amountDetail = `amount ${formatMoney(tx.money, tx.currency)} vs ${formatMoney(entry.money, entry.currency)}`;
  } else if (pair.amountDifference.units === 0n) {
    amountDetail = `amount equal (${money(tx.money)})`;
  } else {
    const tolerance = toleranceOf(tx.currency, rules);
    const within = tolerance !== null && compareMoney(pair.amountDifference, tolerance) <= 0;
    const percent = ((100 * moneyToNumber(pair.amountDifference)) / Math.abs(moneyToNumber(entry.money))).toFixed(1);
    amountDetail = pair.fee
      ? `amount short by ${money(pair.fee)}, accepted as a bank fee`
      : within
        ? `amount differs by ${money(pair.amountDifference)}, within the ${money(tolerance)} rounding tolerance`
        : `amount differs by ${money(pair.amountDifference)} (${percent}%)`;
  }
  const window = `${rules.dateWindowDays}-business-day window`;
  const shift = pair.businessShift;
  const calendarDays = Math.abs(pair.dayShift) === Math.abs(shift) ? '' : ` (${plural(Math.abs(pair.dayShift), 'calendar day')})`;
  const dateDetail =
    pair.dayShift === 0
      ? 'same date'
      : `date ${shift >= 0 ? '+' : '-'}${plural(Math.abs(shift), 'business day')}${calendarDays} ${Math.abs(shift) <= rules.dateWindowDays ? 'within' : 'outside'} ${window}`;
  return [
    { name: 'amount', score: twoDecimals(pair.amount), detail: amountDetail },
    {
      name: 'currency',
      score: pair.currency,
      detail: pair.currency === 1 ? `same currency (${tx.currency})` : `currency differs (${tx.currency} vs ${entry.currency})`,
    },
    { name: 'date', score: twoDecimals(pair.date), detail: dateDetail },
    { name: 'reference', score: twoDecimals(pair.reference.score), detail: describeReferences(tx.text, entry.text, pair.reference) },
    {
      name: 'text',
      score: twoDecimals(pair.text.score),
      detail: describeText(tx.text, tx.counterparty, entry.text, entry.counterparty, pair.text),
    },
  ];
}
