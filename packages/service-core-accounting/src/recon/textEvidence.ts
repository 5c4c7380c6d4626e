/**
 * References and words of a bank line or ledger entry, and how two of them compare. Only
 * exact, order-independent operations: the same texts always give the same scores.
 */

/** Legal forms: they say nothing about who the counterparty is. */
const LEGAL_FORMS = new Set([
  'inc', 'incorporated', 'ltd', 'limited', 'llc', 'llp', 'plc', 'corp', 'corporation', 'co', 'company',
  'gmbh', 'ag', 'sa', 'sas', 'sarl', 'srl', 'spa', 'bv', 'nv', 'kk', 'pte', 'pty', 'the',
  '주식회사', '주', '유한회사', '유', '株式会社',
]);

/** Banking and bookkeeping words that every line could carry. */
const GENERIC_WORDS = new Set([
  'payment', 'pmt', 'pymt', 'paid', 'pay', 'transfer', 'trf', 'tfr', 'xfer', 'sepa', 'ct', 'dd', 'ach', 'wire',
  'debit', 'credit', 'card', 'pos', 'purchase', 'invoice', 'inv', 'ref', 'reference', 'bill', 'order',
  'deposit', 'withdrawal', 'online', 'mobile', 'bank', 'from', 'to', 'for', 'of', 'and', 'via', 'by', 'on',
  'in', 'out', 'at', 'an', 'or', 'with',
  'received', 'sent', 'incoming', 'outgoing', 'standing', 'direct', 'recurring', 'no', 'nr', 'num', 'txn',
  'trx', 'settlement', 'remittance', 'receipt', 'customer', 'supplier', 'vendor',
  '이체', '입금', '출금', '송금', '결제', '카드', '자동이체', '대금', '지급', '수납',
]);

/** Abbreviations banks print, to the word they stand for. */
const ABBREVIATIONS: Readonly<Record<string, string>> = {
  intl: 'international', int: 'international', svcs: 'services', svc: 'services', serv: 'services',
  mgmt: 'management', mgt: 'management', trdg: 'trading', tech: 'technology', techn: 'technology',
  soln: 'solutions', mfg: 'manufacturing', ind: 'industries', inds: 'industries', grp: 'group', hldgs: 'holdings',
  hldg: 'holdings', elec: 'electronics', elecs: 'electronics', dept: 'department', assoc: 'associates',
  bros: 'brothers', natl: 'national', sys: 'systems', solns: 'solutions', sol: 'solutions',
  dist: 'distribution', distr: 'distribution', pharm: 'pharmaceuticals', log: 'logistics',
};

/** Normalized form of a reference: upper-case letters and digits only. */
export function normalizeReference(text: string): string {
  return text.normalize('NFKC').toUpperCase().replace(/[^\p{L}\p{N}]/gu, '');
}

const DATE_LIKE = /^\d{4}[-./]?\d{2}[-./]?\d{2}$/;

/**
 * The reference-like tokens of a free text (e.g. "INV-2026-0042" in a memo): at least 5
 * letters and digits with a digit, and a letter unless 8 or more digits long; dates are not.
 */
function referenceTokens(text: string): Array<{ key: string; label: string }> {
  const found: Array<{ key: string; label: string }> = [];
  for (const raw of text.normalize('NFKC').split(/[\s,;:()[\]{}<>"'|/\\#*]+/u)) {
    const label = raw.replace(/^[-.]+|[-.]+$/g, '');
    if (DATE_LIKE.test(label)) continue;
    const key = normalizeReference(label);
    if (key.length < 5 || !/\d/.test(key)) continue;
    if (!/\p{L}/u.test(key) && key.length < 8) continue;
    found.push({ key, label });
  }
  return found;
}

/** The words that may identify a counterparty, normalized, abbreviations expanded, in order. */
export function significantWords(text: string): string[] {
  const words: string[] = [];
  for (const raw of text.normalize('NFKC').toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
    if (raw === '' || /^\d+$/.test(raw) || /\d/.test(raw)) continue;
    const word = ABBREVIATIONS[raw] ?? raw;
    if (LEGAL_FORMS.has(word) || GENERIC_WORDS.has(word)) continue;
    // One Latin letter is noise; one Hangul/CJK syllable can be, too, but two carry meaning.
    if ([...word].length < 2) continue;
    words.push(word);
  }
  return words;
}

/** What the engine reads of one side's texts. */
export interface TextFeatures {
  /** The structured reference, normalized (null when absent or shorter than 3). */
  reference: string | null;
  /** Every reference key of this side (structured first, then tokens of the free text), distinct. */
  referenceKeys: string[];
  /** Key -> how it was written, for rationales. */
  referenceLabels: Map<string, string>;
  /** Keys found in the free text (memo or description), not only in the structured field. */
  textReferenceKeys: Set<string>;
  /** Distinct significant words of counterparty and free text. */
  words: string[];
  wordSet: Set<string>;
  /** Distinct significant words of the counterparty alone. */
  nameWords: string[];
  /** The last word of the counterparty and of the free text: a bank may have cut it short. */
  lastWords: Set<string>;
}

/** Reads references and words of one side: `text` is the description (bank) or memo (ledger). */
export function extractTextFeatures(text: string, counterparty: string | null, reference: string | null): TextFeatures {
  const referenceLabels = new Map<string, string>();
  const referenceKeys: string[] = [];
  const structured = reference === null ? '' : normalizeReference(reference);
  const normalizedReference = structured.length >= 3 ? structured : null;
  if (normalizedReference !== null && reference !== null) {
    referenceKeys.push(normalizedReference);
    referenceLabels.set(normalizedReference, reference.trim());
  }
  const textReferenceKeys = new Set<string>();
  for (const token of referenceTokens(text)) {
    textReferenceKeys.add(token.key);
    if (!referenceLabels.has(token.key)) {
      referenceKeys.push(token.key);
      referenceLabels.set(token.key, token.label);
    }
  }
  const nameList = counterparty === null ? [] : significantWords(counterparty);
  const textList = significantWords(text);
  const nameWords = [...new Set(nameList)];
  const words = [...new Set([...nameWords, ...textList])];
  const lastWords = new Set([nameList.at(-1), textList.at(-1)].filter((word): word is string => word !== undefined));
  return { reference: normalizedReference, referenceKeys, referenceLabels, textReferenceKeys, words, wordSet: new Set(words), nameWords, lastWords };
}

/**
 * How the references of a pair compare: `match` (one found on the other side), `conflict`
 * (both sides carry references, none shared), `unverified` (the bank line carries one, the entry
 * none) or `none` (the bank line carries none: nothing to check).
 */
export type ReferenceState = 'match' | 'conflict' | 'unverified' | 'none';

export interface ReferenceComparison {
  score: number;
  state: ReferenceState;
  detail: string;
}

/** 1 when a reference of the bank line is the entry's or found in its memo, else 0 with the state. */
export function compareReferences(bank: TextFeatures, entry: TextFeatures): ReferenceComparison {
  if (bank.reference !== null && bank.reference === entry.reference) {
    return { score: 1, state: 'match', detail: `reference ${bank.referenceLabels.get(bank.reference)} equal` };
  }
  for (const key of bank.referenceKeys) {
    if (!entry.referenceLabels.has(key)) continue;
    const bankPart = key === bank.reference ? 'reference' : 'reference in the description';
    const entryPart = key === entry.reference ? 'matches the entry reference' : 'found in memo';
    return { score: 1, state: 'match', detail: `${bankPart} ${bank.referenceLabels.get(key)} ${entryPart}` };
  }
  const [bankKey, entryKey] = [bank.referenceKeys[0], entry.referenceKeys[0]];
  if (bankKey !== undefined && entryKey !== undefined) {
    const detail = `references differ (${bank.referenceLabels.get(bankKey)} vs ${entry.referenceLabels.get(entryKey)})`;
    return { score: 0, state: 'conflict', detail };
  }
  if (bankKey !== undefined) {
    return { score: 0, state: 'unverified', detail: `reference ${bank.referenceLabels.get(bankKey)} not on the entry` };
  }
  return { score: 0, state: 'none', detail: 'no reference on the bank line' };
}

/** How much a word says: rare words among the ledger entries weigh more than common ones. */
export type WordWeight = (word: string) => number;

const MIN_PREFIX_LETTERS = { latin: 4, other: 2 };

/**
 * 1 for the same word; 0.9 when one is a truncation of the other (a bank cutting a name short):
 * at least 4 letters (2 Hangul/CJK) and 60 % of the word, or any 2 when the shorter is the last
 * word of its text; 0.8 when one abbreviates the other; else 0.
 */
function wordMatch(a: string, aIsLast: boolean, b: string, bIsLast: boolean): number {
  if (a === b) return 1;
  const [short, long, shortIsLast] = a.length <= b.length ? [a, b, aIsLast] : [b, a, bIsLast];
  if (!long.startsWith(short)) return isAbbreviation(short, long) ? 0.8 : 0;
  if (shortIsLast && short.length >= 2) return 0.9;
  const minimum = /^[a-z]+$/.test(short) ? MIN_PREFIX_LETTERS.latin : MIN_PREFIX_LETTERS.other;
  if (short.length >= minimum && short.length >= 0.6 * long.length) return 0.9;
  return isAbbreviation(short, long) ? 0.8 : 0;
}

/**
 * Whether `short` abbreviates `long` the way banks do ("sftwr", "mgm", "consultg"): Latin
 * letters, the same first letter, at least 3 letters and at most 80 % of the word, in order.
 */
function isAbbreviation(short: string, long: string): boolean {
  if (short.length < 3 || short.length > 0.8 * long.length || short[0] !== long[0] || !/^[a-z]+$/.test(short)) return false;
  let at = 1;
  for (let i = 1; i < short.length; i++) {
    at = long.indexOf(short[i]!, at) + 1;
    if (at === 0) return false;
  }
  return true;
}

/** How well `word` (of `from`) is found among the words of `among`. */
function bestMatch(word: string, from: TextFeatures, among: TextFeatures): number {
  if (among.wordSet.has(word)) return 1;
  const isLast = from.lastWords.has(word);
  let best = 0;
  for (const other of among.words) best = Math.max(best, wordMatch(word, isLast, other, among.lastWords.has(other)));
  return best;
}

/** Weighted share of `words` (of `from`) found among `among`'s words. */
function containment(
  words: readonly string[],
  from: TextFeatures,
  among: TextFeatures,
  weight: WordWeight,
): { score: number; found: string[] } {
  let total = 0;
  let matched = 0;
  const found: string[] = [];
  for (const word of words) {
    const w = weight(word);
    const match = bestMatch(word, from, among);
    total += w;
    matched += w * match;
    if (match > 0) found.push(word);
  }
  return { score: total > 0 ? matched / total : 0, found };
}

export interface TextComparison {
  score: number;
  /** The detail for the UI, built only for the pairs that are shown. */
  describe(): string;
}

const quote = (text: string): string => `"${text.trim()}"`;

/**
 * The text score of a pair: the best of (a) the entry's counterparty found on the bank line,
 * (b) the bank's counterparty found in the entry, (c) the bank line's words found in the entry,
 * (d) the words both sides share (weighted Dice). Words weigh by rarity (`weight`).
 */
export function compareText(
  bank: TextFeatures,
  bankCounterparty: string | null,
  entry: TextFeatures,
  entryCounterparty: string | null,
  weight: WordWeight,
): TextComparison {
  let best = 0;
  let describe = (): string => 'no words in common';
  const consider = (score: number, detail: (score: number) => string): void => {
    if (score > best + 1e-12) {
      best = score;
      describe = () => detail(score);
    }
  };
  const how = (score: number): string => `${score >= 0.95 ? 'found' : 'partly found'}`;
  if (entry.nameWords.length > 0 && entryCounterparty !== null) {
    const { score } = containment(entry.nameWords, entry, bank, weight);
    consider(score, (value) => `counterparty ${quote(entryCounterparty)} ${how(value)} on the bank line (${value.toFixed(2)})`);
  }
  if (bank.nameWords.length > 0 && bankCounterparty !== null) {
    const { score } = containment(bank.nameWords, bank, entry, weight);
    consider(score, (value) => `bank counterparty ${quote(bankCounterparty)} ${how(value)} in the entry (${value.toFixed(2)})`);
  }
  if (bank.words.length > 0 && entry.words.length > 0) {
    const fromBank = containment(bank.words, bank, entry, weight);
    const shared = (): string => fromBank.found.slice(0, 3).map(quote).join(', ');
    consider(fromBank.score, (value) => `bank words ${shared()} ${how(value)} in the entry (${value.toFixed(2)})`);
    const bankTotal = bank.words.reduce((sum, word) => sum + weight(word), 0);
    const entryTotal = entry.words.reduce((sum, word) => sum + weight(word), 0);
    const dice = (2 * fromBank.score * bankTotal) / (bankTotal + entryTotal);
    consider(dice, (value) => `bank line and entry share ${shared()} (${value.toFixed(2)})`);
  }
  const score = Math.min(1, best);
  return { score, describe };
}
