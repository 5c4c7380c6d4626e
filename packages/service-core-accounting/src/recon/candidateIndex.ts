import {
  absMoney,
  currencyMinorUnits,
  floorToMinorUnits,
  isCurrencyCode,
  parseMoney,
  signOf,
  type Money,
} from './money.js';
import { calendarOf } from './businessDays.js';
import { reconEntryWindowDays } from './rules.js';
import { extractTextFeatures, type TextFeatures, type WordRun, type WordWeight } from './textEvidence.js';
import type { ReconBankTransaction, ReconLedgerEntry, ReconRules } from './types.js';

/** Days since 1970-01-01 of a valid YYYY-MM-DD, else null. */
export function dayNumber(date: string): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const time = Date.UTC(year, month - 1, day);
  const parsed = new Date(time);
  if (parsed.getUTCFullYear() !== year || parsed.getUTCMonth() !== month - 1 || parsed.getUTCDate() !== day) return null;
  return Math.round(time / 86_400_000);
}

/** One side of a pair, parsed once. */
export interface PreparedSide {
  id: string;
  currency: string;
  money: Money;
  sign: -1 | 0 | 1;
  day: number;
  text: TextFeatures;
  counterparty: string | null;
}

export interface PreparedEntry extends PreparedSide {
  /** Position among the valid entries: a dense key for "seen" marks. */
  slot: number;
}

export interface PreparedTransaction extends PreparedSide {
  pending: boolean;
  /** The ledger names the line's name is a learned alias of (`ReconInput.aliases`); absent when none. */
  aliases?: ReadonlySet<string>;
}

/** Why a transaction cannot be reconciled, in words, or null when it can. */
export type PreparedOrInvalid = { ok: true; tx: PreparedTransaction } | { ok: false; problem: string };

function parseSide(
  id: string,
  amount: string,
  currency: string,
  date: string,
  text: string,
  counterparty: string | null,
  reference: string | null,
): PreparedSide | string {
  if (!isCurrencyCode(currency)) return `currency ${JSON.stringify(currency)} is not an ISO 4217 code`;
  const money = parseMoney(amount, currency);
  if (!money) return `amount ${JSON.stringify(amount)} is not a decimal number`;
  const day = dayNumber(date);
  if (day === null) return `date ${JSON.stringify(date)} is not a YYYY-MM-DD date`;
  return { id, currency, money, sign: signOf(money), day, text: extractTextFeatures(text, counterparty, reference), counterparty };
}

export function prepareTransaction(tx: ReconBankTransaction): PreparedOrInvalid {
  const side = parseSide(tx.id, tx.amount, tx.currency, tx.bookedDate, tx.description, tx.counterparty, tx.reference);
  if (typeof side === 'string') return { ok: false, problem: side };
  const { id, currency, money, sign, day, text, counterparty } = side;
  return { ok: true, tx: { id, currency, money, sign, day, text, counterparty, pending: tx.status !== 'posted' } };
}

/** Entries that cannot be parsed are left out: they are never candidates. */
export function prepareEntries(entries: readonly ReconLedgerEntry[]): PreparedEntry[] {
  const prepared: PreparedEntry[] = [];
  for (const entry of entries) {
    const side = parseSide(entry.id, entry.amount, entry.currency, entry.date, entry.memo, entry.counterparty, entry.reference);
    if (typeof side === 'string') continue;
    // Written out, not spread: every entry gets the same hidden class, which keeps the index's
    // binary searches fast (a spread gave each object its own and made them five times slower).
    const { id, currency, money, sign, day, text, counterparty } = side;
    prepared.push({ id, currency, money, sign, day, text, counterparty, slot: prepared.length });
  }
  return prepared;
}

/** Entries per key `nearbyByText` reads at most: a name that common within the window is no evidence of a group. */
const MAX_NEARBY = 80;
/** Shorter sounds are not indexed: too many names share them. */
const MIN_INDEXED_SOUND = 5;

/** The distinct sounds of a side's runs long enough to index (`MIN_INDEXED_SOUND`). */
function indexedSounds(runs: readonly WordRun[]): string[] {
  const sounds: string[] = [];
  for (const run of runs) if (run.sound.length >= MIN_INDEXED_SOUND && !sounds.includes(run.sound)) sounds.push(run.sound);
  return sounds;
}

/**
 * The stems of words, for finding names cut short: the first two Hangul syllables, the first
 * four Latin letters (a shorter word is its own stem). Distinct.
 */
function stemsOf(words: readonly string[]): string[] {
  const stems: string[] = [];
  for (const word of words) {
    const stem = word.slice(0, /^[a-z]/.test(word) ? 4 : 2);
    if (!stems.includes(stem)) stems.push(stem);
  }
  return stems;
}

const byDayThenId = (a: PreparedEntry, b: PreparedEntry): number =>
  a.day - b.day || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The first position in `list` (sorted by day) dated on or after `day`. */
function firstOnOrAfter(list: readonly PreparedEntry[], day: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (list[mid]!.day < day) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The positions `[start, end)` of the entries of `list` dated within `[from, to]`. */
function rangeWithinDays(list: readonly PreparedEntry[], from: number, to: number): [number, number] {
  return [firstOnOrAfter(list, from), firstOnOrAfter(list, to + 1)];
}

function push<K>(map: Map<K, PreparedEntry[]>, key: K, entry: PreparedEntry): void {
  const list = map.get(key);
  if (list) list.push(entry);
  else map.set(key, [entry]);
}

/**
 * The entries indexed three ways, so a transaction only ever meets a handful of them: by
 * currency, sign and amount bucket (one bucket = the currency's tolerance), by reference key,
 * and by significant word; every list sorted by day, then id.
 */
export class CandidateIndex {
  private readonly byAmount = new Map<string, PreparedEntry[]>();
  private readonly byReference = new Map<string, PreparedEntry[]>();
  private readonly byWord = new Map<string, PreparedEntry[]>();
  /** By the sound of a run of words (`WordRun.sound`): a name written in another script shares no word. */
  private readonly bySound = new Map<string, PreparedEntry[]>();
  /** By the stem of a word (`stemOf`): a name the bank cut short ("(주)미래" of "미래광고") shares only its start. */
  private readonly byStem = new Map<string, PreparedEntry[]>();
  private readonly byDay: PreparedEntry[];
  private readonly bucketWidths = new Map<string, bigint>();
  private readonly seen: Int32Array;
  private readonly windowDays: number;
  /** Lines of one day share their window, hence their word weights. */
  private readonly weightsByDay = new Map<number, WordWeight>();
  /** `amountSearchSpan` by currency and day. */
  private readonly spans = new Map<string, [number, number]>();
  private stamp = 0;

  constructor(readonly entries: readonly PreparedEntry[], private readonly rules: ReconRules) {
    // Pushed in date order, every list comes out sorted without sorting it.
    this.byDay = [...entries].sort(byDayThenId);
    for (const entry of this.byDay) {
      push(this.byAmount, this.amountKey(entry.currency, entry.sign, this.bucketOf(entry)), entry);
      for (const key of entry.text.referenceKeys) push(this.byReference, key, entry);
      for (const word of entry.text.words) push(this.byWord, word, entry);
      for (const sound of indexedSounds(entry.text.runs)) push(this.bySound, sound, entry);
      for (const stem of stemsOf(entry.text.words)) push(this.byStem, stem, entry);
    }
    this.seen = new Int32Array(entries.length);
    this.windowDays = reconEntryWindowDays(rules);
  }

  /**
   * Word weights for a transaction dated `day`: rare words weigh more, ln(1 + entries / (1 +
   * entries carrying the word)), counted among the entries within `reconEntryWindowDays` of
   * `day`. Counted there and not over the whole input, so a line's scores depend only on the
   * entries near it: a run given only the entries around some lines scores them as a run given
   * the whole ledger does (incremental runs, docs/RECON.md).
   */
  wordWeightAround(day: number): WordWeight {
    let weight = this.weightsByDay.get(day);
    if (!weight) {
      weight = this.countWordWeights(day);
      this.weightsByDay.set(day, weight);
    }
    return weight;
  }

  private countWordWeights(day: number): WordWeight {
    const [from, to] = [day - this.windowDays, day + this.windowDays];
    const [start, end] = rangeWithinDays(this.byDay, from, to);
    const near = end - start;
    const weights = new Map<string, number>();
    return (word) => {
      let weight = weights.get(word);
      if (weight === undefined) {
        const list = this.byWord.get(word);
        const [first, last] = list ? rangeWithinDays(list, from, to) : [0, 0];
        weight = Math.log(1 + near / (1 + last - first));
        weights.set(word, weight);
      }
      return weight;
    };
  }

  /**
   * The days searched for entries of the line's amount: one business day beyond
   * `dateWindowDays` either side of `day`, in the currency's business days, and never more than
   * `dateSearchDays` calendar days. Lines of one day and currency share it.
   */
  private amountSearchSpan(currency: string, day: number): [number, number] {
    const key = `${currency}|${day}`;
    let span = this.spans.get(key);
    if (!span) {
      const calendar = calendarOf(this.rules.holidays[currency]);
      const reach = this.rules.dateWindowDays + 1;
      const limit = this.rules.dateSearchDays;
      let back = 0;
      while (back < limit && calendar.shift(day - back - 1, day) <= reach) back += 1;
      let ahead = 0;
      while (ahead < limit && calendar.shift(day + ahead + 1, day) >= -reach) ahead += 1;
      span = [day - back, day + ahead];
      this.spans.set(key, span);
    }
    return span;
  }

  /** The tolerance of `currency` in whole minor units (at least 1): the width of an amount bucket. */
  private bucketWidth(currency: string): bigint {
    let width = this.bucketWidths.get(currency);
    if (width === undefined) {
      const tolerance = this.rules.amountTolerances[currency];
      const money = tolerance === undefined ? null : parseMoney(tolerance, currency);
      const minor = money ? floorToMinorUnits(money, currencyMinorUnits(currency)) : 0n;
      width = minor > 1n ? minor : 1n;
      this.bucketWidths.set(currency, width);
    }
    return width;
  }

  private bucketOf(side: PreparedSide): bigint {
    return floorToMinorUnits(absMoney(side.money), currencyMinorUnits(side.currency)) / this.bucketWidth(side.currency);
  }

  private amountKey(currency: string, sign: number, bucket: bigint): string {
    return `${currency}|${sign}|${bucket}`;
  }

  /**
   * Entries of `tx`'s sign sharing a reference, the stem of a word or the sound of a name with it, dated
   * from `before` days before to `after` days after it, each once, at most `MAX_NEARBY` per key
   * (the nearest in time are not preferred: a key that common says little anyway).
   */
  nearbyByText(tx: PreparedTransaction, before: number, after: number): PreparedEntry[] {
    const found: PreparedEntry[] = [];
    const stamp = ++this.stamp;
    const takeFrom = (list: readonly PreparedEntry[] | undefined): void => {
      if (!list) return;
      const [start, end] = rangeWithinDays(list, tx.day - before, tx.day + after);
      if (end - start > MAX_NEARBY) return;
      for (let i = start; i < end; i++) {
        const entry = list[i]!;
        if (entry.sign !== tx.sign || this.seen[entry.slot] === stamp) continue;
        this.seen[entry.slot] = stamp;
        found.push(entry);
      }
    };
    for (const key of tx.text.referenceKeys) takeFrom(this.byReference.get(key));
    for (const stem of stemsOf(tx.text.words)) takeFrom(this.byStem.get(stem));
    for (const sound of indexedSounds(tx.text.runs)) takeFrom(this.bySound.get(sound));
    return found;
  }

  /**
   * The entries worth scoring against `tx`, each once: same currency and sign in the
   * neighbouring amount buckets within `dateSearchDays`; sharing a reference within
   * `referenceDateWindowDays`; sharing a counterparty word within `fuzzyDateWindowDays`. A
   * reference or word carried by too many entries in its window is not searched.
   */
  candidatesFor(tx: PreparedTransaction): PreparedEntry[] {
    const rules = this.rules;
    const found: PreparedEntry[] = [];
    const stamp = ++this.stamp;
    const take = (entry: PreparedEntry): void => {
      if (this.seen[entry.slot] === stamp) return;
      this.seen[entry.slot] = stamp;
      found.push(entry);
    };

    const takeWithin = (list: readonly PreparedEntry[] | undefined, windowDays: number, maxPostings: number): void => {
      if (!list) return;
      const [start, end] = rangeWithinDays(list, tx.day - windowDays, tx.day + windowDays);
      if (end - start > maxPostings) return;
      for (let i = start; i < end; i++) {
        const entry = list[i]!;
        if (entry.sign === tx.sign) take(entry);
      }
    };

    const bucket = this.bucketOf(tx);
    const [from, to] = this.amountSearchSpan(tx.currency, tx.day);
    for (const near of [bucket - 1n, bucket, bucket + 1n]) {
      const list = this.byAmount.get(this.amountKey(tx.currency, tx.sign, near));
      if (!list) continue;
      const [start, end] = rangeWithinDays(list, from, to);
      for (let i = start; i < end; i++) take(list[i]!);
    }
    for (const key of tx.text.referenceKeys) {
      takeWithin(this.byReference.get(key), rules.referenceDateWindowDays, rules.maxReferencePostings);
    }
    for (const word of tx.text.words) {
      takeWithin(this.byWord.get(word), rules.fuzzyDateWindowDays, rules.maxWordPostings);
    }
    for (const sound of indexedSounds(tx.text.runs)) takeWithin(this.bySound.get(sound), rules.fuzzyDateWindowDays, rules.maxWordPostings);
    return found;
  }
}
