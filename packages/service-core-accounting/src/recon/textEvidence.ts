import { consonantFrame, isHangulWord, isLatinWord, soundSkeletons } from './nameKeys.js';

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
  // Korean bank channels: firm banking, CMS, internet/mobile banking, other/own bank, counter, card types.
  'fb', 'cms', 'atm', 'cd', '인터넷', '인뱅', '인터넷뱅킹', '모바일', '모바일뱅킹', '스마트뱅킹', '폰뱅킹', '펌뱅킹', '타행',
  '당행', '타행이체', '당행이체', '대체', '창구', '체크카드', '신용카드', '체크', '자동납부', '승인', '일시불',
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

const DIGIT = /\d/;
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

/**
 * Invoice numbers made of a year and a sequence, however written: "INV-2026-0042",
 * "INV20260042", "inv 2026/42", "2026-0042" all give the key "Y2026-42". A date (a third
 * number group, or a month and day) is not one.
 */
const YEAR_SEQUENCE = /(?<![\p{L}\p{N}])([A-Za-z]{1,4}[\s#.:_-]*)?((?:19|20)\d{2})([\s/._-]*)(\d{1,6})(?![\p{N}])([-./]\d)?/gu;

function yearSequenceKeys(text: string): Array<{ key: string; label: string }> {
  const found: Array<{ key: string; label: string }> = [];
  for (const match of text.normalize('NFKC').matchAll(YEAR_SEQUENCE)) {
    const [label, prefix, year = '', separator = '', sequence = '', dateTail] = match;
    if (dateTail !== undefined) continue;
    // A bare "20260305" is a date, not year 2026 and number 305.
    if (prefix === undefined && separator === '' && sequence.length === 4 && isMonthDay(sequence)) continue;
    const number = Number(sequence);
    if (number === 0) continue;
    found.push({ key: `Y${year}-${number}`, label: label.trim() }, { key: `S${number}`, label: label.trim() });
  }
  return found;
}

/** A bare invoice number of 3-6 digits standing alone ("0042"): the sequence key "S42". */
const BARE_SEQUENCE = /(?<![\p{L}\p{N}\-./])(\d{3,6})(?![\p{L}\p{N}\-./])/gu;

function bareSequenceKeys(text: string): Array<{ key: string; label: string }> {
  const found: Array<{ key: string; label: string }> = [];
  for (const [label, digits = ''] of text.normalize('NFKC').matchAll(BARE_SEQUENCE)) {
    const number = Number(digits);
    if (number > 0 && digits.startsWith('0')) found.push({ key: `S${number}`, label });
  }
  return found;
}

const isMonthDay = (digits: string): boolean => {
  const [month, day] = [Number(digits.slice(0, 2)), Number(digits.slice(2))];
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
};

/** The words that may identify a counterparty, normalized, abbreviations expanded, in order. */
export function significantWords(text: string): string[] {
  const words: string[] = [];
  // Latin next to Hangul is two words ("FB출금", "SK에너지").
  const lower = text.normalize('NFKC').toLowerCase();
  const spaced = HANGUL.test(lower) ? lower.replace(/([a-z])(?=[\uac00-\ud7a3])|([\uac00-\ud7a3])(?=[a-z])/g, '$1$2 ') : lower;
  for (const raw of spaced.split(/[^\p{L}\p{N}]+/u)) {
    // One Latin letter is noise; one Hangul/CJK syllable can be, too, but two carry meaning.
    // Digits make a reference or an amount, unless a short brand carries them ("gs25").
    if (raw.length < 2 || (/\d/.test(raw) && !BRAND_WITH_DIGITS.test(raw))) continue;
    const word = withoutHangulLegalForm(ABBREVIATIONS.get(raw) ?? raw);
    if (word.length < 2 || LEGAL_FORMS.has(word) || GENERIC_WORDS.has(word) || ACCOUNT_TITLES.has(word) || isBranch(word)) continue;
    words.push(word);
  }
  return words;
}

const BRAND_WITH_DIGITS = /^[a-z]{2,}\d{1,3}$/;

/** Korean legal forms written onto the name: 주식회사한빛상사, 한빛상사주식회사. */
const HANGUL_LEGAL_FORM = /^(?:주식회사|유한회사|합자회사|사단법인|재단법인)|(?:주식회사|유한회사)$/;

function withoutHangulLegalForm(word: string): string {
  return word.length > 4 && HANGUL.test(word) ? word.replace(HANGUL_LEGAL_FORM, '') : word;
}

const HANGUL = /[\uac00-\ud7a3]/;

/** A card terminal's branch ("강남대로점", "광화문점"): where, not who. */
const isBranch = (word: string): boolean => word.length >= 3 && word.endsWith('점') && /^[\uac00-\ud7a3]+$/.test(word);

/**
 * Korean account titles and bookkeeping words (계정과목): a memo's "회의비 투썸플레이스" names
 * the expense, then the counterparty; only the latter identifies anyone.
 */
const ACCOUNT_TITLES = new Set([
  '회의비', '복리후생비', '소모품비', '사무용품비', '차량유지비', '지급수수료', '광고선전비', '수선비', '도서인쇄비', '접대비',
  '기업업무추진비', '여비교통비', '통신비', '수도광열비', '전력비', '임차료', '보험료', '세금과공과', '운반비', '교육훈련비',
  '외주비', '외주용역비', '급여', '상여', '예수금', '미지급금', '미수금', '선급금', '선수금', '부가세', '부가가치세',
  '이자', '이자비용', '이자수익', '수수료', '납부', '매출', '매입', '상품매출', '제품매출', '용역매출', '상품매입', '원재료',
  '원재료비', '소모품', '구입', '구매', '대금입금', '취소', '환불', '월분', '정산', '관리비', '임대료', '월세', '사용료',
  '외상매출금', '외상매입금', '받을어음', '지급어음', '미지급비용', '선급비용', '가수금', '가지급금', '잡이익', '잡손실', '회수',
  '상환', '청구', '청구서', '계산서', '세금계산서', '거래', '거래대금', '결제대금', '물품대금', '용역대금', '공사대금', '잔금',
  '계약금', '중도금', '선금', '월정액', '정기결제', '구독료', '비용', '경비',
]);

/**
 * The key a learned counterparty alias is stored under (docs/RECON.md "Aliases"): the
 * significant words of a name, space-separated (legal forms, bank words and numbers left out),
 * e.g. "(주)한빛상사" and "한빛상사 주식회사" both give "한빛상사". Empty when no word is left.
 */
export function aliasNameKey(text: string): string {
  return significantWords(text).join(' ');
}

/**
 * The alias key of one side: of its counterparty, else of its free text (description or memo).
 * What a line is looked up by (`TextFeatures.aliasKey`) and what a confirm learns.
 */
export function sideAliasKey(counterparty: string | null, text: string): string {
  return aliasNameKey(counterparty ?? text);
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
  /** Runs of adjacent words of one script, joined, for names spaced or written differently (`compareRuns`); shared, never changed. */
  runs: readonly WordRun[];
  /** `sideAliasKey`: of the counterparty, or of the free text when there is none. */
  aliasKey: string;
  /** `aliasNameKey` of the free text. */
  textKey: string;
}

/** One or two adjacent words of one script, joined ("hanbitsangsa" of "HANBIT SANGSA"), with its sound skeleton. */
export interface WordRun {
  text: string;
  sound: string;
  /** `consonantFrame(sound)`: loanwords keep their consonants across scripts, not their vowels. */
  frame: string;
  hangul: boolean;
  words: number;
}

const MAX_RUN_WORDS = 2;
/** Shortest run compared within one script: Hangul syllables carry more than Latin letters. */
const MIN_RUN = { hangul: 3, latin: 5 };
/** Shortest run kept at all (a two-syllable Hangul name still has a sound to compare across scripts). */
const MIN_KEPT = { hangul: 2, latin: 4 };

/**
 * Runs of a word list, cached by the list: a ledger repeats its names thousands of times, and
 * their skeletons are the costliest part of reading a side. The cache is dropped when full.
 */
const runsCache = new Map<string, readonly WordRun[]>();
const RUNS_CACHE_SIZE = 20_000;

function runsOf(words: readonly string[]): readonly WordRun[] {
  const key = words.join(' ');
  let runs = runsCache.get(key);
  if (!runs) {
    if (runsCache.size >= RUNS_CACHE_SIZE) runsCache.clear();
    runs = computeRuns(words);
    runsCache.set(key, runs);
  }
  return runs;
}

function computeRuns(words: readonly string[]): WordRun[] {
  const into: WordRun[] = [];
  for (let start = 0; start < words.length; start++) {
    const first = words[start]!;
    const hangul = isHangulWord(first);
    if (!hangul && !isLatinWord(first)) continue;
    let text = '';
    for (let end = start; end < words.length && end - start < MAX_RUN_WORDS; end++) {
      const word = words[end]!;
      if (hangul ? !isHangulWord(word) : !isLatinWord(word)) break;
      text += word;
      if (text.length < (hangul ? MIN_KEPT.hangul : MIN_KEPT.latin)) continue;
      for (const sound of soundSkeletons(text)) {
        if (!into.some((run) => run.text === text && run.sound === sound)) {
          into.push({ text, sound, frame: consonantFrame(sound), hangul, words: end - start + 1 });
        }
      }
    }
  }
  return into;
}

/** How well two runs name the same thing: 0.95 (one script) or 0.9 (two) when equal, 0.8 when one begins the other, else 0. */
function runMatch(a: WordRun, b: WordRun): number {
  if (a.hangul === b.hangul) {
    // One word against one word is the word measures' job.
    if (a.words === 1 && b.words === 1) return 0;
    const minimum = a.hangul ? MIN_RUN.hangul : MIN_RUN.latin;
    return a.text.length < minimum || b.text.length < minimum ? 0 : prefixMatch(a.text, b.text, minimum, 0.95);
  }
  const bySound = prefixMatch(a.sound, b.sound, SOUND_MIN, 0.9);
  if (bySound > 0) return bySound;
  // Loanwords ("투썸플레이스" / "twosome place") differ in vowels, keep the consonants.
  return a.frame.length >= FRAME_MIN && a.frame === b.frame ? 0.85 : prefixMatch(a.frame, b.frame, FRAME_MIN, 0.85);
}

/** Shortest consonant frame compared (shorter ones are shared by too many names). */
const FRAME_MIN = 4;

/** Sounds shorter than this say too little to compare across scripts. */
const SOUND_MIN = 5;

function prefixMatch(a: string, b: string, minimum: number, equal: number): number {
  if (a === b) return a.length >= minimum - 1 ? equal : 0;
  const short = a.length <= b.length ? a : b;
  const long = short === a ? b : a;
  return short.length >= minimum && short.length >= 0.6 * long.length && long.startsWith(short) ? 0.8 : 0;
}

/** The best `runMatch` of any run of the bank line with any run of the entry. */
export function compareRuns(bank: TextFeatures, entry: TextFeatures): number {
  let best = 0;
  for (const a of bank.runs) {
    for (const b of entry.runs) {
      const score = runMatch(a, b);
      if (score > best) best = score;
    }
  }
  return best;
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
  const fromReference = reference === null || !DIGIT.test(reference) ? [] : [...yearSequenceKeys(reference), ...bareSequenceKeys(reference)];
  const fromText = DIGIT.test(text) ? [...referenceTokens(text), ...yearSequenceKeys(text), ...bareSequenceKeys(text)] : [];
  for (const token of [...fromReference, ...fromText]) {
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
  const [nameRuns, textRuns] = [runsOf(nameList), runsOf(textList)];
  const runs = nameRuns.length === 0 ? textRuns : textRuns.length === 0 ? nameRuns : [...nameRuns, ...textRuns];
  const textKey = textList.join(' ');
  const aliasKey = counterparty === null ? textKey : nameList.join(' ');
  return { reference: normalizedReference, referenceKeys, referenceLabels, words, nameWords, lastWords, runs, aliasKey, textKey };
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
export type TextMeasure =
  | 'entry_counterparty'
  | 'bank_counterparty'
  | 'bank_words'
  | 'entry_words'
  | 'shared_words'
  | 'name_runs'
  | 'alias'
  | 'none';

export interface TextComparison {
  score: number;
  measure: TextMeasure;
}

const quote = (text: string): string => `"${text.trim()}"`;

/**
 * The text score of a pair: the best of (a) the entry's counterparty found on the bank line,
 * (b) the bank's counterparty found in the entry, (c) the bank line's words found in the entry,
 * (c') the entry's words found on the bank line, (d) the words both sides share (weighted
 * Dice), (e) runs of words spaced or written in another script (`compareRuns`). Words weigh by rarity (`weight`). A learned alias of the bank
 * line's name (`aliases`: the ledger names it stands for) that names the entry scores 1.
 */
export function compareText(
  bank: TextFeatures,
  entry: TextFeatures,
  weight: WordWeight,
  aliases?: ReadonlySet<string>,
): TextComparison {
  if (aliases && knownByAlias(entry, aliases)) return { score: 1, measure: 'alias' };
  let best: TextComparison = { score: 0, measure: 'none' };
  const consider = (score: number, measure: TextMeasure): void => {
    if (score > best.score + 1e-12) best = { score: Math.min(1, score), measure };
  };
  if (entry.nameWords.length > 0) consider(containment(entry.nameWords, entry, bank, weight), 'entry_counterparty');
  if (bank.nameWords.length > 0) consider(containment(bank.nameWords, bank, entry, weight), 'bank_counterparty');
  if (bank.words.length > 0 && entry.words.length > 0) {
    const fromBank = containment(bank.words, bank, entry, weight);
    consider(fromBank, 'bank_words');
    consider(containment(entry.words, entry, bank, weight), 'entry_words');
    let bankTotal = 0;
    let entryTotal = 0;
    for (const word of bank.words) bankTotal += weight(word);
    for (const word of entry.words) entryTotal += weight(word);
    consider((2 * fromBank * bankTotal) / (bankTotal + entryTotal), 'shared_words');
  }
  if (best.score < 0.9) consider(compareRuns(bank, entry), 'name_runs');
  return best;
}

/** Whether the entry is named by one of the ledger names a bank name is known to stand for: its name, or whole words of its text. */
function knownByAlias(entry: TextFeatures, ledgerNames: ReadonlySet<string>): boolean {
  if (ledgerNames.has(entry.aliasKey) || ledgerNames.has(entry.textKey)) return true;
  const text = ` ${entry.textKey} `;
  for (const name of ledgerNames) if (name !== '' && text.includes(` ${name} `)) return true;
  return false;
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
  const entryShared = (): string =>
    entry.words
      .filter((word) => bestMatch(word, entry, bank) > 0)
      .slice(0, 3)
      .map(quote)
      .join(', ');
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
    case 'entry_words':
      return `entry words ${entryShared()} ${how} on the bank line (${score})`;
    case 'shared_words':
      return `bank line and entry share ${shared()} (${score})`;
    case 'name_runs':
      return `the same name written differently (spacing, script or romanisation) (${score})`;
    case 'alias':
      return `counterparty known by a learned alias (${score})`;
    case 'none':
      return 'no words in common';
  }
}
