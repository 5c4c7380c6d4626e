import { dayNumber } from './candidateIndex.js';
import { currencyMinorUnits } from './money.js';
import { Random } from './seededRandom.js';
import type { ReconBankTransaction, ReconLedgerEntry } from './types.js';

/**
 * Seeded generator of labelled reconciliation data: ledger entries and bank lines with the
 * true pairs known, and the noise of real bank feeds (docs/RECON.md "Labelled data"). The same
 * options always give the same data set; nothing reads the clock or Math.random.
 */

/** Shares (0..1) of each kind of noise; see `DEFAULT_DATASET_NOISE` for what each means. */
export interface DatasetNoise {
  /** Bank lines with no ledger entry (bank fees, interest, unrecorded card spend). */
  unmatchedTransactions: number;
  /** Ledger entries with no bank line (outstanding cheques, other periods), per bank line. */
  unmatchedEntries: number;
  /** True pairs whose bank line is still pending. */
  pending: number;
  /** Posted lines whose earlier pending copy is still in the feed (a separate line, no pair). */
  supersededPending: number;
  /** The bank lists the same line twice (the copy has no pair). */
  duplicateTransactions: number;
  /** The ledger holds an entry twice (the copy has no pair). */
  duplicateEntries: number;
  /** Per true pair: an extra entry with the same amount dated within 4 days of it. */
  decoys: number;
  /** Share of decoys from the same counterparty (another invoice of the same size). */
  decoySameCounterparty: number;
  /** The bank line carries no reference anywhere. */
  missingBankReference: number;
  /** The ledger entry carries no structured reference. */
  missingEntryReference: number;
  /** The bank line has no counterparty field (only a description). */
  missingBankCounterparty: number;
  /** The ledger entry has no counterparty field. */
  missingEntryCounterparty: number;
  /** The bank abbreviates and truncates the name (beyond upper-casing and dropping the legal form). */
  rewordedDescription: number;
  /** The description names no one (a card terminal, a batch id) and there is no counterparty or reference. */
  unrecognizableDescription: number;
  /** The amounts differ by a rounding step within the tolerance (VAT rounding, FX cents). */
  rounding: number;
  /** The bank deducted a transfer fee from an incoming payment. */
  feeDeducted: number;
  /** The bank books 4 to 8 days after the ledger date (outside the window). */
  lateBooking: number;
  /** The ledger entry was booked in the wrong currency with the same number (USD and EUR pairs only). */
  currencyMismatch: number;
  /** Amount strings carry extra zeros ("12000.00" KRW) or drop one ("1234.5" USD). */
  amountFormatting: number;
}

export const DEFAULT_DATASET_NOISE: Readonly<DatasetNoise> = Object.freeze({
  unmatchedTransactions: 0.06,
  unmatchedEntries: 0.05,
  pending: 0.03,
  supersededPending: 0.02,
  duplicateTransactions: 0.005,
  duplicateEntries: 0.005,
  decoys: 0.1,
  decoySameCounterparty: 0.25,
  missingBankReference: 0.4,
  missingEntryReference: 0.1,
  missingBankCounterparty: 0.3,
  missingEntryCounterparty: 0.1,
  rewordedDescription: 0.3,
  unrecognizableDescription: 0.015,
  rounding: 0.03,
  feeDeducted: 0.01,
  lateBooking: 0.01,
  currencyMismatch: 0.005,
  amountFormatting: 0.1,
});

export interface LabelledDatasetOptions {
  seed: number;
  /** Number of bank lines (exact). */
  transactions: number;
  /** First ledger date, YYYY-MM-DD (default 2026-01-01). */
  startDate?: string;
  /** Days the ledger dates spread over (default 365). */
  days?: number;
  noise?: Partial<DatasetNoise>;
}

export interface LabelledDataset {
  transactions: ReconBankTransaction[];
  entries: ReconLedgerEntry[];
  /** Every transaction id -> its true entry id, or null when it has none. */
  truth: Map<string, string | null>;
  /** Every transaction id -> the noise applied to it (e.g. "no_reference", "date_shift_2"), for breakdowns. */
  tags: Map<string, readonly string[]>;
}

const LATIN_FIRST = [
  'Acme', 'Blue River', 'Nordwind', 'Summit', 'Orion', 'Pacific', 'Silverline', 'Greenfield', 'Redwood', 'Atlas',
  'Northstar', 'Bright', 'Harbor', 'Evergreen', 'Crescent', 'Falcon', 'Granite', 'Horizon', 'Ironbridge', 'Juniper',
  'Keystone', 'Lakeside', 'Meridian', 'Nimbus', 'Oakridge', 'Pinnacle', 'Quantum', 'Riverside', 'Sterling', 'Trident',
  'Unity', 'Vertex', 'Westwind', 'Zenith', 'Aurora', 'Beacon', 'Cobalt', 'Delta', 'Ember', 'Frontier', 'Golden Gate',
  'Hanbit', 'Daehan', 'Mirae', 'Sejong', 'Kumgang', 'Haneul', 'Seoul', 'Busan', 'Incheon', 'Jeju',
];
const LATIN_KIND = [
  'Trading', 'Logistics', 'Foods', 'Systems', 'Technology', 'Services', 'Partners', 'Consulting', 'Media',
  'Electronics', 'Pharmaceuticals', 'Holdings', 'Industries', 'Manufacturing', 'Solutions', 'Design', 'Energy',
  'Motors', 'Textiles', 'Retail', 'International', 'Management', 'Properties', 'Software', 'Supplies',
];
const LATIN_LEGAL = ['Co., Ltd.', 'Inc.', 'GmbH', 'LLC', 'Corp.', 'Ltd', '', '', 'Corporation', 'Company'];
const KOREAN_FIRST = ['한빛', '대한', '미래', '세종', '푸른', '동방', '새솔', '금강', '하늘', '태양', '바다', '누리', '온누리', '다온'];
const KOREAN_KIND = ['상사', '물산', '테크', '식품', '무역', '전자', '물류', '건설', '디자인', '컨설팅', '유통', '소프트'];
/** How banks shorten words: some abbreviations a reader knows, some it does not. */
const BANK_ABBREVIATIONS: Readonly<Record<string, string>> = {
  TRADING: 'TRDG', INTERNATIONAL: 'INTL', SERVICES: 'SVCS', MANAGEMENT: 'MGMT', TECHNOLOGY: 'TECH',
  ELECTRONICS: 'ELEC', INDUSTRIES: 'IND', MANUFACTURING: 'MFG', HOLDINGS: 'HLDGS', SOLUTIONS: 'SOLNS',
  CONSULTING: 'CONSULTG', PHARMACEUTICALS: 'PHARMA', PROPERTIES: 'PPTYS', SUPPLIES: 'SUPPL', SOFTWARE: 'SFTWR',
};
const UNRECOGNIZABLE = ['CARD PURCHASE {n}', 'POS {n} TERMINAL', 'BATCH {n}', 'ATM {n}', '체크카드 {n}', 'VAN {n}'];
const BANK_ONLY = [
  ['MONTHLY ACCOUNT FEE', -1], ['INTEREST CREDIT', 1], ['WIRE FEE', -1], ['CARD ANNUAL FEE', -1], ['이자입금', 1],
  ['FX CONVERSION FEE', -1], ['CASH DEPOSIT', 1], ['ATM WITHDRAWAL', -1], ['CHARGEBACK', 1],
] as const;
const PURPOSES_OUT = ['Supplies', 'Office rent', 'Software subscription', 'Consulting fees', 'Freight', 'Maintenance', 'Marketing', 'Raw materials', 'Utilities', 'Insurance'];
const PURPOSES_IN = ['Sales', 'Services rendered', 'Project milestone', 'License fees', 'Consulting', 'Deposit', 'Subscription'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

interface Counterparty {
  name: string;
  korean: boolean;
  /** A fixed amount (per currency) for recurring counterparties: subscriptions, rent. */
  recurring: boolean;
  currency: string;
  /** Money out (a supplier) or in (a customer). */
  sign: -1 | 1;
  typicalMinor: bigint | null;
}

interface Pair {
  entry: ReconLedgerEntry;
  tx: ReconBankTransaction;
  tags: string[];
}

const CURRENCIES: readonly (readonly [string, number])[] = [['KRW', 0.55], ['USD', 0.25], ['EUR', 0.12], ['JPY', 0.08]];
/** log10 of the smallest and largest absolute amount, in major units, per currency. */
const AMOUNT_RANGE: Readonly<Record<string, readonly [number, number]>> = {
  KRW: [3.5, 6.9], JPY: [2.5, 5.9], USD: [0.7, 3.9], EUR: [0.7, 3.9],
};
const FEES: Readonly<Record<string, bigint>> = { KRW: 5_000n, JPY: 1_500n, USD: 1_500n, EUR: 1_000n };

/** Minor units as a decimal string of the currency. */
function formatMinor(minor: bigint, currency: string, style: 'plain' | 'padded' | 'short'): string {
  const scale = currencyMinorUnits(currency);
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(scale + 1, '0');
  let text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  if (style === 'padded' && scale === 0) text += '.00';
  if (style === 'short' && scale > 0) text = text.replace(/0+$/, '').replace(/\.$/, '');
  return `${negative ? '-' : ''}${text}`;
}

function dateOf(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

/** Generates a labelled data set: `transactions` bank lines, their entries, decoys and the truth. */
export function generateLabelledDataset(options: LabelledDatasetOptions): LabelledDataset {
  const noise: DatasetNoise = { ...DEFAULT_DATASET_NOISE, ...options.noise };
  const random = new Random(options.seed);
  const start = dayNumber(options.startDate ?? '2026-01-01');
  if (start === null) throw new Error('startDate must be YYYY-MM-DD');
  const spanDays = options.days ?? 365;
  const total = Math.max(0, Math.floor(options.transactions));

  const counterparties = makeCounterparties(random, Math.max(40, Math.round(total / 12)));
  // Zipf-like: a few counterparties carry many lines, most carry few.
  const pickCounterparty = random.weightedPicker(counterparties.map((party, rank) => [party, 1 / (rank + 1) ** 0.8] as const));
  let referenceSerial = 0;
  const nextReference = (party: Counterparty): string => {
    referenceSerial += random.int(1, 3);
    const serial = String(referenceSerial).padStart(5, '0');
    if (party.sign > 0) return `INV-2026-${serial}`;
    // A supplier's own invoice number, or ours (a bill, a purchase order).
    const supplierPrefix = party.korean ? 'KR' : party.name.slice(0, 2).toUpperCase();
    return random.weighted([[`BILL-${serial}`, 2], [`PO-${serial}${random.int(0, 9)}`, 1], [`${supplierPrefix}-${serial}`, 1]]);
  };
  // A recurring counterparty (rent, a subscription) bills its usual amount about once a month.
  const usualAmountDays = new Map<Counterparty, number[]>();
  const amountFor = (party: Counterparty, currency: string, day: number): bigint => {
    const days = usualAmountDays.get(party) ?? [];
    const recent = days.some((used) => Math.abs(used - day) < 25);
    if (party.typicalMinor !== null && party.currency === currency && !recent && random.chance(0.9)) {
      usualAmountDays.set(party, [...days, day]);
      return party.typicalMinor;
    }
    return randomAmount(random, currency);
  };
  const amountText = (minor: bigint, currency: string): string =>
    formatMinor(minor, currency, random.chance(noise.amountFormatting) ? (currencyMinorUnits(currency) === 0 ? 'padded' : 'short') : 'plain');

  const entries: ReconLedgerEntry[] = [];
  const lines: Array<{ tx: ReconBankTransaction; truth: ReconLedgerEntry | null; tags: string[] }> = [];

  const makeEntry = (party: Counterparty, currency: string, minor: bigint, day: number, reference: string | null): ReconLedgerEntry => {
    const purposes = minor < 0n ? PURPOSES_OUT : PURPOSES_IN;
    const purpose = random.pick(purposes);
    const month = MONTHS[new Date(day * 86_400_000).getUTCMonth()]!;
    const memoParts = [purpose, random.chance(0.3) ? month : null, reference !== null && random.chance(0.5) ? reference : null, party.name];
    const entry: ReconLedgerEntry = {
      id: '',
      amount: amountText(minor, currency),
      currency,
      date: dateOf(day),
      memo: memoParts.filter((part) => part !== null).join(' - '),
      reference,
      counterparty: random.chance(noise.missingEntryCounterparty) ? null : party.name,
    };
    entries.push(entry);
    return entry;
  };

  const makePair = (): Pair => {
    const party = pickCounterparty();
    const currency = party.currency;
    const tags: string[] = [];
    const day = start + random.int(0, spanDays - 1);
    let minor = amountFor(party, currency, day) * BigInt(party.sign);
    const reference = random.chance(noise.missingEntryReference) ? null : nextReference(party);
    if (reference === null) tags.push('no_entry_reference');

    let bankMinor = minor;
    if (random.chance(noise.rounding)) {
      tags.push('rounding');
      if (currencyMinorUnits(currency) === 0 && currency === 'KRW') {
        // VAT on the invoice leaves units the bank rounds away.
        minor += BigInt(party.sign * random.int(1, 9));
        bankMinor = (minor / 10n) * 10n;
      } else {
        bankMinor = minor + BigInt(random.pick([-2, -1, 1, 2]));
      }
    }
    if (party.sign > 0 && random.chance(noise.feeDeducted)) {
      tags.push('fee_deducted');
      bankMinor -= FEES[currency] ?? 0n;
    }
    // Only between currencies of the same minor units, so the number written stays the same.
    const swapped = currency === 'USD' ? 'EUR' : currency === 'EUR' ? 'USD' : null;
    const mismatch = swapped !== null && random.chance(noise.currencyMismatch);
    if (mismatch) tags.push('currency_mismatch');
    const entryCurrency = mismatch && swapped !== null ? swapped : currency;
    const entry = makeEntry(party, entryCurrency, minor, day, reference);

    let shift: number = random.weighted([[0, 0.35], [1, 0.3], [2, 0.2], [3, 0.1], [-1, 0.05]] as const);
    if (random.chance(noise.lateBooking)) {
      shift = random.int(4, 8);
      tags.push('late_booking');
    }
    tags.push(`date_shift_${shift}`);
    const tx = makeBankLine(random, noise, party, currency, bankMinor, day + shift, reference, tags, amountText);
    const pair = { entry, tx, tags };

    if (random.chance(noise.decoys)) {
      const sameParty = random.chance(noise.decoySameCounterparty);
      const decoyParty = sameParty ? party : pickCounterparty();
      tags.push(sameParty ? 'decoy_same_counterparty' : 'decoy');
      makeEntry(decoyParty, currency, minor, day + random.int(-4, 4), random.chance(noise.missingEntryReference) ? null : nextReference(decoyParty));
    }
    if (random.chance(noise.duplicateEntries)) {
      tags.push('duplicate_entry');
      entries.push({ ...entry });
    }
    return pair;
  };

  const posted: Pair[] = [];
  while (lines.length < total) {
    const roll = random.float();
    if (roll < noise.unmatchedTransactions) {
      const tx = makeUnmatchedLine(random, pickCounterparty, start + random.int(0, spanDays - 1), amountFor, amountText);
      lines.push({ tx, truth: null, tags: ['unmatched'] });
    } else if (roll < noise.unmatchedTransactions + noise.duplicateTransactions && posted.length > 0) {
      const original = random.pick(posted);
      lines.push({ tx: { ...original.tx }, truth: null, tags: ['duplicate_transaction'] });
    } else if (roll < noise.unmatchedTransactions + noise.duplicateTransactions + noise.supersededPending && posted.length > 0) {
      const original = random.pick(posted);
      const earlier = dayNumber(original.tx.bookedDate)! - random.int(0, 2);
      lines.push({ tx: { ...original.tx, status: 'pending', bookedDate: dateOf(earlier) }, truth: null, tags: ['superseded_pending'] });
    } else {
      const pair = makePair();
      if (random.chance(noise.pending)) {
        pair.tx.status = 'pending';
        pair.tags.push('pending');
      } else {
        posted.push(pair);
      }
      lines.push({ tx: pair.tx, truth: pair.entry, tags: pair.tags });
    }
  }

  const unmatchedEntries = Math.round(total * noise.unmatchedEntries);
  for (let i = 0; i < unmatchedEntries; i++) {
    const party = pickCounterparty();
    const day = start + random.int(0, spanDays - 1);
    makeEntry(party, party.currency, amountFor(party, party.currency, day) * BigInt(party.sign), day, nextReference(party));
  }

  // Ids are given after shuffling, so neither side's order or ids say anything about the pairs.
  random.shuffle(lines);
  random.shuffle(entries);
  entries.forEach((entry, i) => {
    entry.id = `le_${String(i + 1).padStart(6, '0')}`;
  });
  const truth = new Map<string, string | null>();
  const tags = new Map<string, readonly string[]>();
  const transactions = lines.map((line, i) => {
    const tx = { ...line.tx, id: `bt_${String(i + 1).padStart(6, '0')}` };
    truth.set(tx.id, line.truth ? line.truth.id : null);
    tags.set(tx.id, line.tags);
    return tx;
  });
  return { transactions, entries, truth, tags };
}

function randomAmount(random: Random, currency: string): bigint {
  const [low, high] = AMOUNT_RANGE[currency] ?? [0.7, 3.9];
  const major = 10 ** (low + random.float() * (high - low));
  const scale = currencyMinorUnits(currency);
  if (scale === 0) {
    const step = currency === 'KRW' ? random.weighted([[1000, 0.6], [100, 0.25], [10, 0.15]] as const) : random.weighted([[100, 0.5], [10, 0.4], [1, 0.1]] as const);
    return BigInt(Math.max(step, Math.round(major / step) * step));
  }
  const cents = random.chance(0.5) ? Math.round(major) * 100 : Math.round(major * 100);
  return BigInt(Math.max(100, cents));
}

function makeCounterparties(random: Random, count: number): Counterparty[] {
  const names = new Set<string>();
  const parties: Counterparty[] = [];
  let attempts = 0;
  while (parties.length < count && attempts++ < count * 20) {
    const korean = random.chance(0.35);
    const name = korean
      ? `${random.pick(['(주)', '주식회사 ', ''])}${random.pick(KOREAN_FIRST)}${random.pick(KOREAN_KIND)}`
      : `${random.pick(LATIN_FIRST)} ${random.pick(LATIN_KIND)} ${random.pick(LATIN_LEGAL)}`.trim();
    const key = name.replace(/\(주\)|주식회사 /g, '');
    if (names.has(key)) continue;
    names.add(key);
    const currency = korean ? 'KRW' : random.weighted(CURRENCIES);
    const recurring = random.chance(0.3);
    parties.push({ name, korean, recurring, currency, sign: random.chance(0.55) ? -1 : 1, typicalMinor: recurring ? randomAmount(random, currency) : null });
  }
  return parties;
}

/** How a bank prints a name: upper case, no legal form, sometimes abbreviated and cut short. */
function bankName(random: Random, name: string, reworded: boolean): string {
  let words = name
    .replace(/\(주\)|주식회사\s*/g, '')
    .toUpperCase()
    .replace(/[.,]/g, '')
    .split(/\s+/)
    .filter((word) => word !== '' && !['CO', 'LTD', 'INC', 'GMBH', 'LLC', 'CORP', 'CORPORATION', 'COMPANY'].includes(word));
  if (reworded) {
    words = words.map((word) => BANK_ABBREVIATIONS[word] ?? word);
    const cut = random.int(10, 16);
    const joined = words.join(' ');
    return joined.length > cut ? joined.slice(0, cut).trim() : joined;
  }
  return words.join(' ');
}

function makeBankLine(
  random: Random,
  noise: DatasetNoise,
  party: Counterparty,
  currency: string,
  minor: bigint,
  day: number,
  reference: string | null,
  tags: string[],
  amountText: (minor: bigint, currency: string) => string,
): ReconBankTransaction {
  const base = {
    id: '',
    source: 'bank_sbx',
    accountId: `acc_${currency.toLowerCase()}`,
    amount: amountText(minor, currency),
    currency,
    bookedDate: dateOf(day),
    status: 'posted' as const,
  };
  if (random.chance(noise.unrecognizableDescription)) {
    tags.push('unrecognizable');
    const description = random.pick(UNRECOGNIZABLE).replace('{n}', String(random.int(1000, 99999)));
    return { ...base, description, counterparty: null, reference: null };
  }
  const reworded = random.chance(noise.rewordedDescription);
  if (reworded) tags.push('reworded');
  const printed = bankName(random, party.name, reworded);
  const missingReference = reference === null || random.chance(noise.missingBankReference);
  if (missingReference) tags.push('no_bank_reference');
  const inDescription = !missingReference && random.chance(0.4);
  const prefix = party.korean ? random.pick(['이체', '입금', '출금', '']) : party.sign > 0 ? random.pick(['SEPA CT', 'ACH CREDIT', 'WIRE IN', '']) : random.pick(['SEPA DD', 'ACH DEBIT', 'WIRE OUT', 'CARD']);
  const description = [prefix, printed, inDescription ? reference : null].filter((part) => part !== null && part !== '').join(' ');
  const counterparty = random.chance(noise.missingBankCounterparty) ? null : printed;
  if (counterparty === null) tags.push('no_bank_counterparty');
  return { ...base, description, counterparty, reference: missingReference || inDescription ? null : reference };
}

function makeUnmatchedLine(
  random: Random,
  pickCounterparty: () => Counterparty,
  day: number,
  amountFor: (party: Counterparty, currency: string, day: number) => bigint,
  amountText: (minor: bigint, currency: string) => string,
): ReconBankTransaction {
  const currency = random.weighted(CURRENCIES);
  const base = { id: '', source: 'bank_sbx', accountId: `acc_${currency.toLowerCase()}`, currency, bookedDate: dateOf(day), status: 'posted' as const };
  if (random.chance(0.5)) {
    const [description, sign] = random.pick(BANK_ONLY);
    const minor = randomAmount(random, currency) / 10n;
    return { ...base, amount: amountText(minor * BigInt(sign), currency), description, counterparty: null, reference: null };
  }
  // Money from or to a known counterparty that the ledger has not recorded (yet), often of its usual amount.
  const party = pickCounterparty();
  const printed = bankName(random, party.name, false);
  const minor = amountFor(party, party.currency, day) * BigInt(party.sign);
  const line = { ...base, currency: party.currency, accountId: `acc_${party.currency.toLowerCase()}` };
  return { ...line, amount: amountText(minor, party.currency), description: printed, counterparty: random.chance(0.5) ? printed : null, reference: null };
}
