import type { ReconBankTransaction, ReconLedgerEntry } from '../recon/types.js';
import { BusinessCalendar, KOREAN_PUBLIC_HOLIDAYS, fromDay, toDay } from './koreanHolidays.js';
import {
  COMPANY_KINDS,
  COMPANY_STEMS,
  CUSTOMER_PURPOSES,
  ENGLISH_SPELLINGS,
  FAMILY_NAMES,
  GIVEN_NAMES,
  INSTITUTIONS,
  KIND_TRANSLATIONS,
  MERCHANTS,
  SUBSCRIPTIONS,
  SUPPLIER_PURPOSES,
  romanize,
  truncateBytes,
  type MerchantSpec,
} from './koreanNames.js';
import { Random } from '../recon/seededRandom.js';
import { labelLines, type EntryDraft, type LineDraft, type Party, type Reference } from './statementLabels.js';

export { KRW_AUTO_MATCH_LIMIT } from './statementLabels.js';

/**
 * Seeded generator of labelled bank statements and ledger entries shaped like a Korean SME's:
 * KRW transfers named in Korean, romanized, truncated or not at all, card purchases, 4대보험,
 * taxes, rent and salaries, fees deducted, batches, splits, ties, refunds, duplicates, pending
 * lines, business-day lags over Korean holidays. Each bank line carries the honest label of
 * what a careful person would do with it. Test data only: production code never imports it.
 * The same options always give the same data set; nothing reads the clock or Math.random.
 */

export interface KoreanStatementOptions {
  seed: number;
  /** Bank lines, approximately (a batch or split may add a line or two); default 2000. */
  bankLines?: number;
  /** First ledger date, YYYY-MM-DD; default 2026-01-02. */
  startDate?: string;
  /** Days the ledger dates spread over; default 120. */
  days?: number;
}

export type StatementExpectation = 'auto' | 'suggest' | 'blocked' | 'none';

export interface StatementLabel {
  /** The true ledger entries this bank line pays or receives: 1 for a one-to-one pair, 2+ for a batch payment, [] for none. For a split payment (several lines pay one entry) each line lists that one entry. */
  entryIds: string[];
  /** For a split payment: every bank line of the split (this one included), sorted; else absent. */
  splitWith?: string[];
  /** What a careful person would do with this line: 'auto' = auto-match is right (amounts exactly equal, posted, within the limit, one clearly identifiable entry); 'suggest' = a true pair exists but must only be suggested (fee deducted, partial, a tie, a batch or split); 'blocked' = a true pair that policy keeps from auto-matching (pending, over the limit); 'none' = no entry. See `labelLines`. */
  expected: StatementExpectation;
  /** Every phenomenon applied to this line, e.g. ['holiday_shift', 'memo_counterparty', 'romanized']. */
  tags: string[];
}

export interface KoreanStatementDataset {
  transactions: ReconBankTransaction[];
  entries: ReconLedgerEntry[];
  /** Every transaction id -> its label. */
  labels: Map<string, StatementLabel>;
  /** The Korean public holidays (YYYY-MM-DD) the generator used to compute business days. */
  holidays: string[];
}

/** Transfer fees Korean banks deduct from an incoming payment. */
export const REMITTANCE_FEES: readonly number[] = [500, 1_000, 1_500, 2_000];

const withVat = (supply: number): number => supply + Math.floor(supply / 10);

const formatReference = (ref: Reference): string => `${ref.prefix}-${ref.year}-${String(ref.serial).padStart(4, '0')}`;

/** The ways a reference is written on a bank line, with the tag of each. */
function referenceVariant(random: Random, ref: Reference): [string, string] {
  const serial = String(ref.serial).padStart(4, '0');
  return random.weighted<[string, string]>([
    [[formatReference(ref), 'ref_exact'], 3],
    [[`${ref.prefix}${ref.year}${serial}`, 'ref_compact'], 2],
    [[`${ref.prefix.toLowerCase()} ${ref.year}/${ref.serial}`, 'ref_loose'], 1],
    [[`${ref.year}-${serial}`, 'ref_bare'], 1.5],
    [[serial, 'ref_short'], 1],
  ]);
}

const OUT_PREFIXES = ['FB출금', '인터넷뱅킹', '타행이체', '모바일', '펌뱅킹', '인터넷', ''];
const IN_PREFIXES = ['타행입금', '인터넷입금', 'FB입금', '모바일입금', '입금', ''];
const PAYMENT_GATEWAYS = ['KG이니시스', 'NHN KCP', '토스페이먼츠', 'NICE결제'];

/** Generates the data set of `options.seed`: about `bankLines` labelled bank lines and their ledger. */
export function generateKoreanStatements(options: KoreanStatementOptions): KoreanStatementDataset {
  return new StatementBuilder(options).build();
}

class StatementBuilder {
  private readonly random: Random;
  private readonly calendar = new BusinessCalendar(KOREAN_PUBLIC_HOLIDAYS);
  private readonly start: number;
  private readonly end: number;
  private readonly target: number;
  private readonly entries: EntryDraft[] = [];
  private readonly lines: LineDraft[] = [];
  private readonly serials = { INV: 0, PO: 0 };
  private readonly suppliers: Party[];
  private readonly customers: Party[];
  private readonly merchants: Party[];
  private readonly companies: Party[] = [];
  private readonly companyNames = new Set<string>();
  private readonly personNames = new Set<string>();
  private readonly pickSupplier: () => Party;
  private readonly pickCustomer: () => Party;
  private readonly pickMerchant: () => Party;

  constructor(options: KoreanStatementOptions) {
    this.random = new Random(options.seed);
    this.start = toDay(options.startDate ?? '2026-01-02');
    this.end = this.start + Math.max(1, options.days ?? 120) - 1;
    this.target = Math.max(1, Math.floor(options.bankLines ?? 2000));
    const scale = Math.max(0.3, this.target / 2000);
    const companies = this.makeCompanies(Math.round(300 * scale));
    const supplierCount = Math.round(companies.length * 0.55);
    this.suppliers = companies.slice(0, supplierCount).map((party) => ({ ...party, kind: 'supplier' as const }));
    this.customers = companies.slice(supplierCount).map((party) => ({ ...party, kind: 'customer' as const }));
    this.merchants = MERCHANTS.map((merchant) => ({
      kind: 'merchant' as const, name: merchant.korean, legal: merchant.korean, stem: merchant.korean, business: '',
      latin: merchant.english, latinStyle: 'english' as const, merchant,
    }));
    this.pickSupplier = this.zipf(this.suppliers);
    this.pickCustomer = this.zipf(this.customers);
    this.pickMerchant = this.zipf(this.merchants);
  }

  build(): KoreanStatementDataset {
    this.addSchedules();
    const events: (readonly [() => void, number])[] = [
      [() => this.supplierPayment(), 0.3],
      [() => this.customerReceipt(), 0.2],
      [() => this.cardPurchase(), 0.2],
      [() => this.batchPayment(), 0.022],
      [() => this.splitPayment(), 0.012],
      [() => this.tie(), 0.025],
      [() => this.bankFee(), 0.035],
      [() => this.unrecorded(), 0.02],
      [() => this.refund(), 0.016],
      [() => this.duplicateLine(), 0.006],
      [() => this.unpaidInvoice(), 0.07],
      [() => this.decoy(), 0.05],
    ];
    while (this.lines.length < this.target) this.random.weighted(events)();
    this.markPending();
    return this.finish();
  }

  /** Zipf-like: a few counterparties carry many lines, most carry few. */
  private zipf(parties: readonly Party[]): () => Party {
    const list = parties.map((party, rank) => [party, 1 / (rank + 1) ** 0.7] as const);
    return () => this.random.weighted(list);
  }

  // ---- counterparties -------------------------------------------------------------------

  private makeCompanies(count: number): Party[] {
    const seen = this.companyNames;
    const parties: Party[] = [];
    for (let attempts = 0; parties.length < count && attempts < count * 30; attempts++) {
      const stem = this.random.pick(COMPANY_STEMS);
      const business = this.random.pick(COMPANY_KINDS);
      const name = stem + business;
      if (seen.has(name)) continue;
      seen.add(name);
      const legal = this.random.weighted([
        [`주식회사 ${name}`, 3], [`(주)${name}`, 3], [`${name}(주)`, 2], [name, 2], [`유한회사 ${name}`, 0.5],
      ] as const);
      const style = ENGLISH_SPELLINGS[stem] !== undefined ? 'english' : this.random.chance(0.15) ? 'mccune' : 'rr';
      const stemLatin = ENGLISH_SPELLINGS[stem] ?? romanize(stem, style === 'mccune' ? 'mccune' : 'rr').toUpperCase();
      const kindLatin =
        ENGLISH_SPELLINGS[business] ?? (KIND_TRANSLATIONS[business] !== undefined && this.random.chance(0.4)
          ? KIND_TRANSLATIONS[business]!
          : romanize(business, style === 'mccune' ? 'mccune' : 'rr').toUpperCase());
      const owner = this.random.pick(FAMILY_NAMES) + this.random.pick(GIVEN_NAMES);
      parties.push({ kind: 'supplier', name, legal, stem, business, latin: `${stemLatin} ${kindLatin}`, latinStyle: style, owner });
    }
    this.companies.push(...parties);
    return parties;
  }

  /** A person of a name no other person in the books has (two 신정훈 on one payroll are two people no one could tell apart). */
  private person(kind: 'employee' | 'landlord'): Party {
    let name = this.random.pick(FAMILY_NAMES) + this.random.pick(GIVEN_NAMES);
    while (this.personNames.has(name)) name = this.random.pick(FAMILY_NAMES) + this.random.pick(GIVEN_NAMES);
    this.personNames.add(name);
    return { kind, name, legal: name, stem: name, business: '', latin: romanize(name).toUpperCase(), latinStyle: 'rr' };
  }

  // ---- days -----------------------------------------------------------------------------

  /** A ledger date: mostly a business day. */
  private entryDay(from = this.start, to = this.end): number {
    const day = this.random.int(from, to);
    return this.random.chance(0.93) ? this.calendar.rollForward(day) : day;
  }

  /** The bank date of a transfer for an entry of `day`, 0-4 business days later. */
  private payDay(day: number, tags: string[], lags: readonly (readonly [number, number])[] = [[0, 0.25], [1, 0.3], [2, 0.2], [3, 0.15], [4, 0.1]]): number {
    const lag = this.random.weighted(lags);
    const bankDay = this.calendar.addBusinessDays(day, lag);
    this.tagLag(day, bankDay, tags);
    return bankDay;
  }

  private tagLag(day: number, bankDay: number, tags: string[]): void {
    if (bankDay === day) tags.push('same_day');
    if (this.calendar.holidayBetween(day - 1, bankDay)) tags.push('holiday_shift');
    if (bankDay - day > 3) tags.push('gap_4plus_days');
  }

  // ---- entries and lines ----------------------------------------------------------------

  private addEntry(party: Party, amount: number, day: number, memo: string, reference: string | null, counterparty: string | null): EntryDraft {
    const entry: ReconLedgerEntry = { id: '', amount: String(amount), currency: 'KRW', date: fromDay(day), memo, reference, counterparty };
    const draft: EntryDraft = { entry, day, amount, party, ref: null };
    this.entries.push(draft);
    return draft;
  }

  /** An invoice of a supplier (money out) or customer (money in). */
  private invoice(party: Party, amount: number, day: number): EntryDraft {
    const sign = party.kind === 'customer' ? 1 : -1;
    const prefix = sign > 0 ? 'INV' : 'PO';
    let ref: Reference | null = null;
    if (this.random.chance(0.8)) {
      this.serials[prefix] += 1;
      ref = { prefix, year: new Date(day * 86_400_000).getUTCFullYear(), serial: this.serials[prefix] };
    }
    const purpose = this.random.pick(sign > 0 ? CUSTOMER_PURPOSES : SUPPLIER_PURPOSES);
    const memoName = this.random.chance(0.3) ? party.legal : party.name;
    const refInMemo = ref !== null && this.random.chance(0.25) ? ` (${formatReference(ref)})` : '';
    const memo = `${purpose} - ${memoName}${refInMemo}`;
    const counterparty = this.random.chance(0.4) ? null : this.random.pick([party.legal, party.name]);
    const draft = this.addEntry(party, sign * amount, day, memo, ref ? formatReference(ref) : null, counterparty);
    draft.ref = ref;
    return draft;
  }

  /** A VAT-inclusive invoice total; a few are above the auto-match limit. */
  private invoiceAmount(): number {
    const supply = this.random.chance(0.07) ? this.random.amount(4_700_000, 28_000_000, 10_000) : this.random.amount(20_000, 3_600_000, this.random.pick([1_000, 10_000]));
    return withVat(supply);
  }

  /**
   * Whether a reader can tell the company from the printed name: once legal forms and spaces
   * are dropped, it begins exactly one company's name (Korean or Latin). "(주)일신" is not
   * enough when 일신물류 and 일신인쇄 both exist.
   */
  private recognizable(printed: string): boolean {
    const core = printed.replace(/\(주\)|주식회사|유한회사|CO\.,LTD|CO LTD|CORP|\s/g, '');
    if (core.length < 2) return false;
    const latin = /^[A-Z0-9.,*]+$/.test(core);
    const matches = this.companies.filter((party) => (latin ? party.latin.replace(/ /g, '') : party.name).startsWith(core));
    return matches.length === 1;
  }

  /** How the bank prints a company's name: legal-form variants, spacing, truncation, romanization. */
  private bankName(party: Party, tags: string[]): string {
    const printed = this.printedName(party, tags);
    if (party.kind !== 'employee' && party.kind !== 'landlord' && !this.recognizable(printed)) tags.push('ambiguous_name');
    return printed;
  }

  private printedName(party: Party, tags: string[]): string {
    if (party.kind === 'employee' || party.kind === 'landlord') return party.name;
    if (this.random.chance(0.17)) {
      tags.push('romanized');
      if (party.latinStyle === 'mccune') tags.push('mccune');
      if (party.latinStyle === 'english') tags.push('english_name');
      const compact = party.latin.replace(/ /g, '');
      const latin = this.random.weighted([
        [party.latin, 3], [compact, 2], [`${compact} CO LTD`, 1], [`${party.latin} CO.,LTD`, 1], [`${party.latin} CORP`, 0.5],
      ] as const);
      if (latin.length > 16 && this.random.chance(0.3)) {
        tags.push('truncated');
        return truncateBytes(latin, 16);
      }
      return latin;
    }
    const full = party.name;
    const form = this.random.weighted([
      [full, 3], [`(주)${full}`, 2], [`${full}(주)`, 1], [`주식회사${full}`, 1], [`(주)${party.stem}`, 0.7],
      [`${party.stem} ${party.business}`, 0.6], [`${full} 주식회사`, 0.4],
    ] as const);
    if (form !== full && form !== party.legal) tags.push('name_variant');
    if (form.includes(' ') && !party.legal.includes(' ')) tags.push('spacing');
    if (this.random.chance(0.35)) {
      const cut = truncateBytes(form, this.random.pick([10, 12, 14]));
      if (cut !== form && cut.includes(party.stem)) {
        tags.push('truncated');
        return cut;
      }
    }
    return form;
  }

  private addLine(party: Party | null, amount: number, day: number, description: string, counterparty: string | null, reference: string | null, tags: string[], truth: EntryDraft[], named: boolean, referenced: boolean): LineDraft {
    const tx: ReconBankTransaction = {
      id: '', source: 'bank_kr', accountId: 'acc_krw_operating', amount: String(amount), currency: 'KRW',
      bookedDate: fromDay(day), status: 'posted', description: description.trim(), counterparty, reference,
    };
    const line: LineDraft = { tx, day, amount, party, truth, tags, named, referenced, suggestOnly: false };
    this.lines.push(line);
    return line;
  }

  /** A transfer line paying or receiving `amount` from `party`, with the reference written some way or not at all. */
  private transfer(party: Party, amount: number, day: number, truth: EntryDraft[], ref: Reference | null, tags: string[], refShare: number): LineDraft {
    const byOwner = party.kind === 'customer' && party.owner !== undefined && this.random.chance(0.06);
    if (byOwner) tags.push('payer_person');
    const name = byOwner ? party.owner! : this.bankName(party, tags);
    const prefix = this.random.pick(amount < 0 ? OUT_PREFIXES : IN_PREFIXES);
    let reference: string | null = null;
    let inDescription = '';
    if (ref !== null && this.random.chance(refShare)) {
      const [text, variant] = referenceVariant(this.random, ref);
      tags.push(variant);
      if (this.random.chance(0.5)) {
        reference = text;
        tags.push('ref_field');
      } else {
        inDescription = ` ${text}`;
        tags.push('ref_in_description');
      }
    } else {
      tags.push(ref === null ? 'no_entry_ref' : 'no_bank_ref');
    }
    const counterparty = this.random.chance(0.55) ? name : null;
    if (counterparty === null) tags.push('no_bank_counterparty');
    if (truth.length > 0 && truth.every((draft) => draft.entry.counterparty === null)) tags.push('memo_counterparty');
    const named = !byOwner && !tags.includes('ambiguous_name');
    return this.addLine(party, amount, day, `${prefix} ${name}${inDescription}`, counterparty, reference, tags, truth, named, reference !== null || inDescription !== '');
  }

  // ---- scheduled items: rent, salaries, 4대보험, taxes, utilities, subscriptions ---------

  private addSchedules(): void {
    const landlord = this.person('landlord');
    const rent = this.random.pick([2_200_000, 3_300_000, 4_400_000]);
    const management: Party = { ...this.makeCompanies(1)[0]!, kind: 'supplier' };
    const employees = Array.from({ length: this.random.int(14, 22) }, () => this.person('employee'));
    const salaries = employees.map(() => this.random.pick([2_450_000, 2_800_000, 3_050_000, 3_400_000, 3_900_000, 4_600_000, 5_800_000]));
    const institutions: Party[] = INSTITUTIONS.map((spec) => ({
      kind: 'institution', name: spec.korean, legal: spec.korean, stem: spec.korean, business: '', latin: '', latinStyle: 'rr',
      bankNames: spec.bank, purpose: spec.purpose, range: spec.range, dayOfMonth: spec.dayOfMonth,
    }));
    const subscriptions: Party[] = SUBSCRIPTIONS.map((spec) => ({
      kind: 'subscription', name: spec.korean, legal: spec.korean, stem: spec.korean, business: '', latin: spec.english, latinStyle: 'english',
      purpose: spec.purpose, fixedAmount: spec.amount, dayOfMonth: this.random.int(1, 28),
    }));
    const weekly: Party[] = [
      { ...this.makeCompanies(1)[0]!, kind: 'weekly', purpose: '생수 배달', fixedAmount: 33_000 },
      { ...this.makeCompanies(1)[0]!, kind: 'weekly', purpose: '청소용역비', fixedAmount: 220_000 },
    ];
    const first = new Date(this.start * 86_400_000);
    for (let month = 0; ; month++) {
      const monthStart = toDay(new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + month, 1)).toISOString().slice(0, 10));
      if (monthStart > this.end) break;
      const dayOf = (dayOfMonth: number): number => monthStart + dayOfMonth - 1;
      const label = `${new Date(monthStart * 86_400_000).getUTCMonth() + 1}월분`;
      const inSpan = (day: number): boolean => day >= this.start && day <= this.end;
      const rentDay = this.calendar.rollForward(dayOf(25));
      if (inSpan(rentDay)) {
        const entry = this.addEntry(landlord, -rent, rentDay, `임차료 ${label} - ${landlord.name}`, null, this.random.chance(0.5) ? landlord.name : null);
        const tags = ['rent'];
        this.transfer(landlord, -rent, this.payDay(rentDay, tags, [[0, 0.8], [1, 0.2]]), [entry], null, tags, 0);
        const fee = this.random.amount(380_000, 620_000, 10);
        const bill = this.addEntry(management, -fee, rentDay, `관리비 ${label} - ${management.name}`, null, null);
        const billTags = ['management_fee'];
        this.transfer(management, -fee, this.payDay(rentDay, billTags), [bill], null, billTags, 0);
      }
      const payday = this.calendar.addBusinessDays(dayOf(26), -1);
      if (inSpan(payday)) {
        employees.forEach((employee, i) => {
          const amount = -salaries[i]!;
          const entry = this.addEntry(employee, amount, payday, `급여 ${label} - ${employee.name}`, null, this.random.chance(0.5) ? employee.name : null);
          const tags = ['salary', 'same_day'];
          this.addLine(employee, amount, payday, `급여이체 ${employee.name}`, this.random.chance(0.5) ? employee.name : null, null, tags, [entry], true, false);
        });
      }
      for (const institution of institutions) {
        const day = this.calendar.rollForward(dayOf(institution.dayOfMonth ?? 10));
        if (!inSpan(day)) continue;
        const [low, high] = institution.range ?? [10_000, 100_000];
        const amount = -this.random.amount(low, high, 10);
        const entry = this.addEntry(institution, amount, day, `${institution.purpose} ${label}`, null, this.random.chance(0.5) ? institution.name : null);
        const name = this.random.pick(institution.bankNames ?? [institution.name]);
        const tags = ['institution', 'same_day'];
        if (entry.entry.counterparty === null) tags.push('memo_counterparty');
        this.addLine(institution, amount, day, `자동이체 ${name}`, null, null, tags, [entry], true, false);
      }
      for (const subscription of subscriptions) {
        const day = dayOf(subscription.dayOfMonth ?? 1);
        if (!inSpan(day)) continue;
        const amount = -(subscription.fixedAmount ?? 0);
        const entry = this.addEntry(subscription, amount, day, `${subscription.purpose} - ${subscription.name}`, null, null);
        const tags = ['subscription', 'card', 'english_name', 'memo_counterparty'];
        this.addLine(subscription, amount, day, `해외승인 ${subscription.latin}`, null, null, tags, [entry], true, false);
      }
    }
    for (let day = this.calendar.rollForward(this.start); day <= this.end; day += 7) {
      for (const party of weekly) {
        const entryDay = this.calendar.rollForward(day);
        const amount = -(party.fixedAmount ?? 0);
        const entry = this.addEntry(party, amount, entryDay, `${party.purpose} - ${party.name}`, null, this.random.chance(0.3) ? party.legal : null);
        const tags = ['weekly'];
        this.transfer(party, amount, this.payDay(entryDay, tags, [[0, 0.5], [1, 0.35], [2, 0.15]]), [entry], null, tags, 0);
      }
    }
    // 부가세: 2nd-half final return due 25 January, 1st-quarter provisional notice due 25 April.
    const tax: Party = { ...institutions[3]!, name: '역삼세무서', legal: '역삼세무서' };
    for (const due of [`${first.getUTCFullYear()}-01-25`, `${first.getUTCFullYear()}-04-25`]) {
      const day = this.calendar.rollForward(toDay(due));
      if (day < this.start || day > this.end) continue;
      const amount = -this.random.amount(due.endsWith('01-25') ? 5_200_000 : 2_100_000, due.endsWith('01-25') ? 14_000_000 : 4_800_000, 10);
      const entry = this.addEntry(tax, amount, day, `부가가치세 납부 (${due.endsWith('01-25') ? '2기 확정' : '1기 예정고지'})`, null, '역삼세무서');
      this.addLine(tax, amount, day, this.random.pick(['국세 부가가치세', '인터넷국세 부가세']), null, null, ['vat', 'same_day'], [entry], true, false);
    }
    // Interest on the last business day of each month, with no ledger entry.
    for (let month = 1; month < 6; month++) {
      const nextMonth = toDay(new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + month, 1)).toISOString().slice(0, 10));
      const day = this.lastBusinessDayBefore(nextMonth);
      if (day < this.start || day > this.end) continue;
      this.addLine(null, this.random.int(180, 9_800), day, this.random.pick(['예금결산이자', '이자', 'MMDA이자']), null, null, ['interest'], [], false, false);
    }
  }

  private lastBusinessDayBefore(day: number): number {
    let current = day - 1;
    while (!this.calendar.isBusinessDay(current)) current -= 1;
    return current;
  }

  // ---- random events --------------------------------------------------------------------

  private supplierPayment(): void {
    const party = this.pickSupplier();
    const invoice = this.invoice(party, this.invoiceAmount(), this.entryDay());
    const tags: string[] = ['supplier'];
    this.transfer(party, invoice.amount, this.payDay(invoice.day, tags), [invoice], invoice.ref, tags, 0.3);
    if (this.random.chance(0.08)) this.feeLine(this.lines[this.lines.length - 1]!.day);
  }

  private customerReceipt(): void {
    const party = this.pickCustomer();
    const invoice = this.invoice(party, this.invoiceAmount(), this.entryDay());
    const tags: string[] = ['customer'];
    let amount = invoice.amount;
    const roll = this.random.int(0, 99);
    if (roll < 10) {
      tags.push('fee_short');
      amount -= this.random.pick(REMITTANCE_FEES);
    } else if (roll < 14) {
      tags.push('partial');
      amount = Math.max(10_000, Math.round((invoice.amount * this.random.pick([0.3, 0.5, 0.7])) / 10_000) * 10_000);
    }
    const line = this.transfer(party, amount, this.payDay(invoice.day, tags), [invoice], invoice.ref, tags, 0.3);
    line.suggestOnly = amount !== invoice.amount;
  }

  private cardPurchase(): void {
    const party = this.pickMerchant();
    const merchant = party.merchant!;
    const day = this.entryDay();
    const amount = -this.random.amount(merchant.range[0], merchant.range[1], merchant.step);
    const entry = this.addEntry(party, amount, day, `${this.random.pick(merchant.purposes)} ${merchant.korean}`, null, this.random.chance(0.35) ? merchant.korean : null);
    const tags = ['card', 'same_day'];
    if (entry.entry.counterparty === null) tags.push('memo_counterparty');
    const [description, named] = this.cardDescription(merchant, tags, '체크카드');
    this.addLine(party, amount, day, description, this.random.chance(0.2) && named ? merchant.korean : null, null, tags, [entry], named, false);
  }

  /** How a card line names the merchant: Korean with a branch, the English brand, the operating company or a payment gateway. */
  private cardDescription(merchant: MerchantSpec, tags: string[], prefix: string): [string, boolean] {
    const roll = this.random.int(0, 99);
    if (merchant.alias !== undefined && roll < 50) {
      tags.push('merchant_alias');
      return [`${prefix} ${merchant.alias}`, false];
    }
    if (roll < 6) {
      tags.push('payment_gateway');
      return [`${prefix} ${this.random.pick(PAYMENT_GATEWAYS)}`, false];
    }
    if (roll < 40) {
      tags.push('english_name');
      return [merchant.english, true];
    }
    const branch = merchant.branches.length > 0 && this.random.chance(0.7) ? ` ${this.random.pick(merchant.branches)}` : '';
    return [`${prefix} ${merchant.korean}${branch}`, true];
  }

  /** One line paying 2-5 open invoices of one counterparty, the exact sum. */
  private batchPayment(): void {
    const supplier = this.random.chance(0.75);
    const party = supplier ? this.pickSupplier() : this.pickCustomer();
    const count = this.random.int(2, 5);
    const first = this.entryDay(this.start, this.end - 20);
    const invoices = Array.from({ length: count }, () => this.invoice(party, withVat(this.random.amount(50_000, 1_800_000, 1_000)), this.entryDay(first, first + 20)));
    const last = Math.max(...invoices.map((invoice) => invoice.day));
    const total = invoices.reduce((sum, invoice) => sum + invoice.amount, 0);
    const tags = ['batch', supplier ? 'supplier' : 'customer'];
    const line = this.transfer(party, total, this.payDay(last, tags), invoices, null, tags, 0);
    line.suggestOnly = true;
    if (this.random.chance(0.3)) line.tx.description += ` 외 ${count - 1}건`;
  }

  /** One invoice paid by 2-3 lines of its counterparty. */
  private splitPayment(): void {
    const party = this.random.chance(0.7) ? this.pickCustomer() : this.pickSupplier();
    const invoice = this.invoice(party, withVat(this.random.amount(900_000, 9_000_000, 10_000)), this.entryDay());
    const parts = this.random.int(2, 3);
    const shares = parts === 2 ? [this.random.pick([0.3, 0.5, 0.6])] : [0.3, this.random.pick([0.3, 0.4])];
    const amounts = shares.map((share) => Math.round((invoice.amount * share) / 1_000) * 1_000);
    amounts.push(invoice.amount - amounts.reduce((sum, part) => sum + part, 0));
    let day = invoice.day;
    const group: LineDraft[] = [];
    for (const amount of amounts) {
      const tags = ['split', party.kind];
      day = this.payDay(day, tags, [[0, 0.3], [1, 0.3], [2, 0.2], [3, 0.2]]);
      const line = this.transfer(party, amount, day, [invoice], invoice.ref, tags, 0.2);
      line.suggestOnly = true;
      group.push(line);
    }
    for (const line of group) line.split = group;
  }

  /** Two or three open invoices of one counterparty, same amount, close dates; one is paid, no reference says which. */
  private tie(): void {
    const party = this.random.chance(0.6) ? this.pickSupplier() : this.pickCustomer();
    const amount = withVat(this.random.amount(30_000, 2_000_000, 10_000));
    const firstDay = this.entryDay(this.start, this.end - 6);
    const invoices = Array.from({ length: this.random.int(2, 3) }, (_, i) => this.invoice(party, amount, i === 0 ? firstDay : this.calendar.addBusinessDays(firstDay, this.random.int(0, 2))));
    const paid = this.random.pick(invoices);
    const last = Math.max(...invoices.map((invoice) => invoice.day));
    const tags = ['tie', party.kind];
    const bankDay = this.calendar.addBusinessDays(last, this.random.int(0, 1));
    this.tagLag(paid.day, bankDay, tags);
    const line = this.transfer(party, paid.amount, bankDay, [paid], null, tags, 0);
    line.suggestOnly = true;
  }

  private feeLine(day: number): void {
    const [description, amount] = this.random.weighted<[string, number]>([
      [['송금수수료', -500], 4], [['타행이체수수료', -500], 3], [['타행이체수수료', -1_000], 2], [['외화송금수수료', -10_000], 0.5],
      [['OTP발급수수료', -5_000], 0.3], [['인증서수수료', -4_400], 0.3],
    ]);
    this.addLine(null, amount, day, description, null, null, ['bank_fee'], [], false, false);
  }

  private bankFee(): void {
    this.feeLine(this.calendar.rollForward(this.random.int(this.start, this.end)));
  }

  /** Spend the books never recorded: a card purchase, or a transfer to a known supplier. */
  private unrecorded(): void {
    const tags = ['unrecorded'];
    if (this.random.chance(0.6)) {
      const party = this.pickMerchant();
      const merchant = party.merchant!;
      const day = this.random.int(this.start, this.end);
      const [description, named] = this.cardDescription(merchant, tags, '체크카드');
      this.addLine(party, -this.random.amount(merchant.range[0], merchant.range[1], 10) - 7, day, description, null, null, tags, [], named, false);
      return;
    }
    const party = this.pickSupplier();
    this.transfer(party, -this.invoiceAmount(), this.calendar.rollForward(this.random.int(this.start, this.end)), [], null, tags, 0);
  }

  /** Money back from a supplier or a cancelled card purchase; booked in the ledger or not. */
  private refund(): void {
    const booked = this.random.chance(0.45);
    const tags = ['refund', booked ? 'refund_booked' : 'refund_unbooked'];
    if (this.random.chance(0.5)) {
      const party = this.pickMerchant();
      const merchant = party.merchant!;
      const day = this.entryDay();
      const amount = this.random.amount(merchant.range[0], merchant.range[1], merchant.step);
      const truth = booked ? [this.addEntry(party, amount, day, `${merchant.purposes[0]} 취소 ${merchant.korean}`, null, null)] : [];
      const [description, named] = this.cardDescription(merchant, tags, '체크카드취소');
      const bankDay = this.payDay(day, tags, [[0, 0.4], [1, 0.3], [2, 0.3]]);
      this.addLine(party, amount, bankDay, description, null, null, tags, truth, named, false);
      return;
    }
    const party = this.pickSupplier();
    const amount = withVat(this.random.amount(20_000, 900_000, 1_000));
    const day = this.entryDay();
    const truth = booked ? [this.addEntry(party, amount, day, `매입환출 - ${party.name}`, null, this.random.chance(0.5) ? party.legal : null)] : [];
    const bankDay = this.payDay(day, tags);
    const line = this.transfer(party, amount, bankDay, truth, null, tags, 0);
    line.tx.description = line.tx.description.replace(/^\S*입금/, '반품환불');
  }

  /** The bank lists a posted one-to-one line twice. */
  private duplicateLine(): void {
    const candidates = this.lines.filter((line) => line.truth.length === 1 && line.split === undefined && !line.tags.includes('duplicated'));
    if (candidates.length === 0) return;
    const original = this.random.pick(candidates);
    original.tags.push('duplicated');
    original.suggestOnly = true;
    this.addLine(original.party, original.amount, original.day, original.tx.description, original.tx.counterparty, original.tx.reference, ['duplicate'], [], original.named, false);
  }

  private unpaidInvoice(): void {
    const party = this.random.chance(0.5) ? this.pickCustomer() : this.pickSupplier();
    this.invoice(party, this.invoiceAmount(), this.entryDay());
  }

  /** Another counterparty's entry of the same amount near a paid entry. */
  private decoy(): void {
    const paired = this.entries.filter((draft) => draft.party.kind === 'supplier' || draft.party.kind === 'customer' || draft.party.kind === 'merchant');
    if (paired.length === 0) return;
    const model = this.random.pick(paired);
    const kind = model.party.kind;
    const party = kind === 'customer' ? this.pickCustomer() : kind === 'merchant' ? this.pickMerchant() : this.pickSupplier();
    if (party === model.party) return;
    const day = model.day + this.random.int(-4, 4);
    if (kind === 'merchant') {
      this.addEntry(party, model.amount, day, `${this.random.pick(party.merchant!.purposes)} ${party.name}`, null, null);
      return;
    }
    const invoice = this.invoice(party, Math.abs(model.amount), day);
    invoice.entry.amount = String(model.amount);
  }

  /** Lines of the last two business days are often still pending; a few card holds elsewhere. */
  private markPending(): void {
    const recent = this.calendar.addBusinessDays(this.end, -1);
    for (const line of this.lines) {
      const pending = line.day >= recent ? this.random.chance(0.6) : line.tags.includes('card') && this.random.chance(0.01);
      if (pending && !line.tags.includes('duplicate')) {
        line.tx.status = 'pending';
        line.tags.push('pending');
      }
    }
  }

  // ---- ids and labels -------------------------------------------------------------------

  private finish(): KoreanStatementDataset {
    const lines = this.random.shuffle([...this.lines]).sort((a, b) => a.day - b.day);
    lines.forEach((line, i) => {
      line.tx.id = `tx-${i + 1}`;
    });
    const entries = this.random.shuffle([...this.entries]).sort((a, b) => a.day - b.day);
    entries.forEach((draft, i) => {
      draft.entry.id = `je-${i + 1}`;
      draft.amount = Number(draft.entry.amount);
    });
    return {
      transactions: lines.map((line) => line.tx),
      entries: entries.map((draft) => draft.entry),
      labels: labelLines(lines, entries, this.calendar),
      holidays: [...KOREAN_PUBLIC_HOLIDAYS],
    };
  }
}
