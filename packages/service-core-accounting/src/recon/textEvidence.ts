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
const ABBREVIATIONS: ReadonlyMap<string, string> = new Map(Object.entries({
  intl: 'international', int: 'international', svcs: 'services', svc: 'services', serv: 'services',
  mgmt: 'management', mgt: 'management', trdg: 'trading', tech: 'technology', techn: 'technology',
  soln: 'solutions', mfg: 'manufacturing', ind: 'industries', inds: 'industries', grp: 'group', hldgs: 'holdings',
  hldg: 'holdings', elec: 'electronics', elecs: 'electronics', dept: 'department', assoc: 'associates',
  bros: 'brothers', natl: 'national', sys: 'systems', solns: 'solutions', sol: 'solutions',
  dist: 'distribution', distr: 'distribution', pharm: 'pharmaceuticals', log: 'logistics',
}));

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
    if (!/\d/.test(raw)) continue;
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
    // One Latin letter is noise; one Hangul/CJK syllable can be, too, but two carry meaning.
    if (raw.length < 2 || /\d/.test(raw)) continue;
    const word = ABBREVIATIONS.get(raw) ?? raw;
    if (LEGAL_FORMS.has(word) || GENERIC_WORDS.has(word)) continue;
    words.push(word);
  }
  return words;
}

/**
 * What the engine reads of one side's texts. Small arrays rather than sets and maps: a side has
 * a handful of words and references, and 100,000 sides must not cost 400,000 collections.
 */
export interface TextFeatures {
  /** The structured reference, normalized (null when absent or shorter than 3). */
  reference: string | null;
  /** Every reference key of this side (structured first, then tokens of the free text), distinct. */
  referenceKeys: string[];
  /** How each key was written (same positions), for rationales. */
  referenceLabels: string[];
  /** Distinct significant words of counterparty and free text. */
  words: string[];
  /** Distinct significant words of the counterparty alone. */
  nameWords: string[];
  /** The last word of the counterparty and of the free text: a bank may have cut it short. */
  lastWords: string[];
}

/** Reads references and words of one side: `text` is the description (bank) or memo (ledger). */
export function extractTextFeatures(text: string, counterparty: string | null, reference: string | null): TextFeatures {
  const referenceKeys: string[] = [];
  const referenceLabels: string[] = [];
  const structured = reference === null ? '' : normalizeReference(reference);
  const normalizedReference = structured.length >= 3 ? structured : null;
  if (normalizedReference !== null && reference !== null) {
    referenceKeys.push(normalizedReference);
    referenceLabels.push(reference.trim());
  }
  for (const token of referenceTokens(text)) {
    if (!referenceKeys.includes(token.key)) {
      referenceKeys.push(token.key);
      referenceLabels.push(token.label);
    }
  }
  const nameList = counterparty === null ? [] : significantWords(counterparty);
  const textList = significantWords(text);
  const nameWords = [...new Set(nameList)];
  const words = [...new Set([...nameWords, ...textList])];
  const lastWords = [nameList.at(-1), textList.at(-1)].filter((word): word is string => word !== undefined);
  return { reference: normalizedReference, referenceKeys, referenceLabels, words, nameWords, lastWords };
}

const labelOf = (side: TextFeatures, key: string): string => side.referenceLabels[side.referenceKeys.indexOf(key)] ?? key;

/**
 * How the references of a pair compare: `match` (one found on the other side), `conflict`
 * (both sides carry references, none shared), `unverified` (the bank line carries one, the entry
 * none) or `none` (the bank line carries none: nothing to check).
 */
export type ReferenceState = 'match' | 'conflict' | 'unverified' | 'none';

export interface ReferenceComparison {
  score: number;
  state: ReferenceState;
  /** The matching key, or the bank line's first key. */
  key: string | null;
}

/** 1 when a reference of the bank line is the entry's or found in its memo, else 0 with the state. */
export function compareReferences(bank: TextFeatures, entry: TextFeatures): ReferenceComparison {
  if (bank.reference !== null && bank.reference === entry.reference) return { score: 1, state: 'match', key: bank.reference };
  for (const key of bank.referenceKeys) {
    if (entry.referenceKeys.includes(key)) return { score: 1, state: 'match', key };
  }
  const key = bank.referenceKeys[0] ?? null;
  if (key === null) return { score: 0, state: 'none', key };
  return { score: 0, state: entry.referenceKeys.length > 0 ? 'conflict' : 'unverified', key };
}

/** The reference criterion's detail, e.g. "reference INV-2026-0042 found in memo". */
export function describeReferences(bank: TextFeatures, entry: TextFeatures, comparison: ReferenceComparison): string {
  const key = comparison.key;
  switch (comparison.state) {
    case 'match': {
      if (key === null) return 'reference equal';
      if (key === bank.reference && key === entry.reference) return `reference ${labelOf(bank, key)} equal`;
      const bankPart = key === bank.reference ? 'reference' : 'reference in the description';
      const entryPart = key === entry.reference ? 'matches the entry reference' : 'found in memo';
      return `${bankPart} ${labelOf(bank, key)} ${entryPart}`;
    }
    case 'conflict':
      return `references differ (${key === null ? '' : labelOf(bank, key)} vs ${entry.referenceLabels[0] ?? ''})`;
    case 'unverified':
      return `reference ${key === null ? '' : labelOf(bank, key)} not on the entry`;
    case 'none':
      return 'no reference on the bank line';
  }
}

/** How much a word says: rare words among the ledger entries weigh more than common ones. */
export type WordWeight = (word: string) => number;

const MIN_PREFIX_LETTERS = { latin: 4, other: 2 };
const LATIN = /^[a-z]+$/;

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
  const minimum = LATIN.test(short) ? MIN_PREFIX_LETTERS.latin : MIN_PREFIX_LETTERS.other;
  if (short.length >= minimum && short.length >= 0.6 * long.length) return 0.9;
  return isAbbreviation(short, long) ? 0.8 : 0;
}

/**
 * Whether `short` abbreviates `long` the way banks do ("sftwr", "mgm", "consultg"): Latin
 * letters, the same first letter, at least 3 letters and at most 80 % of the word, in order.
 */
function isAbbreviation(short: string, long: string): boolean {
  if (short.length < 3 || short.length > 0.8 * long.length || short[0] !== long[0] || !LATIN.test(short)) return false;
  let at = 1;
  for (let i = 1; i < short.length; i++) {
    at = long.indexOf(short[i]!, at) + 1;
    if (at === 0) return false;
  }
  return true;
}

/** How well `word` (of `from`) is found among the words of `among`. */
function bestMatch(word: string, from: TextFeatures, among: TextFeatures): number {
  if (among.words.includes(word)) return 1;
  const isLast = from.lastWords.includes(word);
  let best = 0;
  for (const other of among.words) best = Math.max(best, wordMatch(word, isLast, other, among.lastWords.includes(other)));
  return best;
}

/** Weighted share of `words` (of `from`) found among `among`'s words. */
function containment(words: readonly string[], from: TextFeatures, among: TextFeatures, weight: WordWeight): number {
  let total = 0;
  let matched = 0;
  for (const word of words) {
    const w = weight(word);
    total += w;
    matched += w * bestMatch(word, from, among);
  }
  return total > 0 ? matched / total : 0;
}

/** Which measure gave the text score (see `compareText`). */
export type TextMeasure = 'entry_counterparty' | 'bank_counterparty' | 'bank_words' | 'shared_words' | 'none';

export interface TextComparison {
  score: number;
  measure: TextMeasure;
}

const quote = (text: string): string => `"${text.trim()}"`;

/**
 * The text score of a pair: the best of (a) the entry's counterparty found on the bank line,
 * (b) the bank's counterparty found in the entry, (c) the bank line's words found in the entry,
 * (d) the words both sides share (weighted Dice). Words weigh by rarity (`weight`).
 */
export function compareText(bank: TextFeatures, entry: TextFeatures, weight: WordWeight): TextComparison {
  let best: TextComparison = { score: 0, measure: 'none' };
  const consider = (score: number, measure: TextMeasure): void => {
    if (score > best.score + 1e-12) best = { score: Math.min(1, score), measure };
  };
  if (entry.nameWords.length > 0) consider(containment(entry.nameWords, entry, bank, weight), 'entry_counterparty');
  if (bank.nameWords.length > 0) consider(containment(bank.nameWords, bank, entry, weight), 'bank_counterparty');
  if (bank.words.length > 0 && entry.words.length > 0) {
    const fromBank = containment(bank.words, bank, entry, weight);
    consider(fromBank, 'bank_words');
    let bankTotal = 0;
    let entryTotal = 0;
    for (const word of bank.words) bankTotal += weight(word);
    for (const word of entry.words) entryTotal += weight(word);
    consider((2 * fromBank * bankTotal) / (bankTotal + entryTotal), 'shared_words');
  }
  return best;
}

/** The text criterion's detail, e.g. 'counterparty "Acme Ltd" found on the bank line (1.00)'. */
export function describeText(
  bank: TextFeatures,
  bankCounterparty: string | null,
  entry: TextFeatures,
  entryCounterparty: string | null,
  comparison: TextComparison,
): string {
  const score = comparison.score.toFixed(2);
  const how = comparison.score >= 0.95 ? 'found' : 'partly found';
  const shared = (): string =>
    bank.words
      .filter((word) => bestMatch(word, bank, entry) > 0)
      .slice(0, 3)
      .map(quote)
      .join(', ');
  switch (comparison.measure) {
    case 'entry_counterparty':
      return `counterparty ${quote(entryCounterparty ?? '')} ${how} on the bank line (${score})`;
    case 'bank_counterparty':
      return `bank counterparty ${quote(bankCounterparty ?? '')} ${how} in the entry (${score})`;
    case 'bank_words':
      return `bank words ${shared()} ${how} in the entry (${score})`;
    case 'shared_words':
      return `bank line and entry share ${shared()} (${score})`;
    case 'none':
      return 'no words in common';
  }
}
