/**
 * Types of the reconciliation engine (docs/RECON.md). Amounts are decimal strings, never
 * floats. Sign convention: both sides are seen from the bank account, so a true pair has the
 * same sign: money in is positive on the bank line and on the ledger entry (a debit of the
 * bank account), money out is negative on both. Pairs of opposite sign are never candidates.
 */

/** One bank line (a synced external transaction). */
export interface ReconBankTransaction {
  id: string;
  source: string;
  accountId: string;
  /** Decimal string, negative = money out, e.g. "-12000" or "1234.50". */
  amount: string;
  /** ISO 4217 code, e.g. "KRW". */
  currency: string;
  /** YYYY-MM-DD. */
  bookedDate: string;
  status: 'pending' | 'posted';
  description: string;
  counterparty: string | null;
  reference: string | null;
}

/** One ledger entry on the bank account, with the bank's sign (money in is positive). */
export interface ReconLedgerEntry {
  id: string;
  /** Decimal string, same sign convention as the bank line. */
  amount: string;
  currency: string;
  /** YYYY-MM-DD. */
  date: string;
  memo: string;
  reference: string | null;
  counterparty: string | null;
}

export type CriterionName = 'amount' | 'currency' | 'date' | 'reference' | 'text';

/** One criterion of a candidate pair, for the UI and the rationale. */
export interface Criterion {
  name: CriterionName;
  /** 0..1, two decimals. */
  score: number;
  /** Human, e.g. "amount equal (12,000 KRW)". */
  detail: string;
}

/** Which kind of evidence ties the pair: an equal reference, amount + date, only fuzzy text, or an exact sum of a group. */
export type ReconTier = 'reference' | 'amount_date' | 'fuzzy' | 'group';

/** A ledger entry that may be the bank line's pair. */
export interface ReconCandidate {
  entryId: string;
  /** A batch candidate (rule `group`): every entry the bank line pays, sorted, `entryId` the first; absent for one entry. */
  entryIds?: string[];
  /** A split candidate (rule `group`): the other bank lines that, with this one, pay `entryId`, sorted; absent otherwise. */
  transactionIds?: string[];
  /** The fee (decimal string) a tenant's fee rule accepts as the difference, recorded with the decision; absent otherwise. */
  fee?: string;
  /** 0..1, two decimals. */
  confidence: number;
  tier: ReconTier;
  /** Always the five criteria, in the order amount, currency, date, reference, text. */
  criteria: Criterion[];
  /** The entry is already matched: confirmed elsewhere (`takenEntryIds`) or auto-matched to another line in this run. */
  taken: boolean;
}

export type ReconStatus = 'matched' | 'suggested' | 'unmatched' | 'blocked';

/** The decision for one bank line. */
export interface ReconOutcome {
  transactionId: string;
  status: ReconStatus;
  /** The matched entry, or the best suggestion/blocked candidate; null when unmatched. */
  entryId: string | null;
  confidence: number | null;
  /** Best first, at most 3, only those at or above the suggestion threshold ([] when unmatched). */
  candidates: ReconCandidate[];
  /** Of the chosen/best candidate ([] when unmatched). */
  criteria: Criterion[];
  /** Machine id of the rule that decided: one of `RECON_RULE_IDS`. */
  rule: string;
  /** One short human sentence built from the scores and the rule. */
  rationale: string;
  rulesVersion: string;
}

/** Weights of the confidence; they sum to 1. `identity` weighs the stronger of reference and text. */
export interface ReconWeights {
  amount: number;
  currency: number;
  date: number;
  identity: number;
}

/**
 * Every window, tolerance, threshold and weight of the engine, in one versioned object that is
 * recorded with every outcome. Change `version` whenever any value changes (a per-tenant
 * override included).
 */
export interface ReconRules {
  version: string;
  /** Business days (`holidays`) either side of the ledger date within which the date supports a match. */
  dateWindowDays: number;
  /** Calendar days either side searched for entries of the same amount: wide enough for `dateWindowDays` over 설날 or 추석 and two weekends. */
  dateSearchDays: number;
  /** Per currency, the holidays (YYYY-MM-DD) that are not business days besides weekends. A currency absent here has weekends only. */
  holidays: Record<string, readonly string[]>;
  /**
   * Per currency, the bank fee a tenant accepts on incoming payments: a line short of the entry by
   * `min`..`max` (decimal strings) may auto-match, the difference recorded as the candidate's `fee`.
   * Absent (the default): any difference is only suggested.
   */
  feeRules: Record<string, { min: string; max: string }>;
  /** Calendar days before a bank line searched for the open entries a batch pays, or the other lines of a split. */
  groupWindowDays: number;
  /** At most this many entries in a batch, or lines in a split. */
  groupMaxParts: number;
  /**
   * Two candidates of exactly the line's amount, both dated within the window, whose identity
   * scores (reference or text) are within this of each other are a tie: the date alone never
   * picks between them.
   */
  tieIdentityMargin: number;
  /** Confidence at or above which a single, clear candidate is matched automatically. */
  autoMatchThreshold: number;
  /** Confidence below which a candidate is not shown at all. */
  suggestThreshold: number;
  /** Two candidates (or two claimants of one entry) closer than this never auto-match. */
  tieMargin: number;
  /** Per currency, decimal strings of absolute amount: above it, no auto-match. A currency absent here has no limit. */
  autoMatchLimits: Record<string, string>;
  /** Per currency, decimal strings: an amount difference up to this still counts as the same amount (rounding). Absent = exact. */
  amountTolerances: Record<string, string>;
  /** Relative amount difference (0.02 = 2 %) a fuzzy (text) candidate may have, e.g. a deducted fee. */
  fuzzyAmountRatio: number;
  /** Days either side searched for candidates sharing a counterparty word. */
  fuzzyDateWindowDays: number;
  /** Days either side searched for candidates sharing a reference. */
  referenceDateWindowDays: number;
  /** A reference (or word) found on more entries than this within its window is not evidence, and is not searched. */
  maxReferencePostings: number;
  maxWordPostings: number;
  /** The identity score is the text score times this when both sides carry different references. */
  referenceConflictFactor: number;
  /** The identity score is the text score times this when the bank line carries a reference and the entry none. */
  referenceUnverifiedFactor: number;
  weights: ReconWeights;
}

/**
 * A counterparty alias learned from a person's decision: a bank line named `bankName` pays or
 * is paid by the ledger's `ledgerName`. Both are `aliasNameKey`s (docs/RECON.md "Aliases").
 */
export interface ReconAlias {
  bankName: string;
  ledgerName: string;
}

export interface ReconInput {
  transactions: readonly ReconBankTransaction[];
  entries: readonly ReconLedgerEntry[];
  /** Entry ids already confirmed (by a person or an earlier auto-match) for other transactions: never auto-matched again. */
  takenEntryIds?: ReadonlySet<string>;
  /** Entries auto-matched to lines outside this input (a run keeps their stored match): never part of a group. */
  matchedElsewhereEntryIds?: ReadonlySet<string>;
  /** Pairs a person declined: never suggested again. Keyed `${transactionId}|${entryId}`. */
  declinedPairs?: ReadonlySet<string>;
  /** The tenant's learned counterparty aliases. */
  aliases?: readonly ReconAlias[];
  /** Default `DEFAULT_RECON_RULES`. */
  rules?: ReconRules;
}
