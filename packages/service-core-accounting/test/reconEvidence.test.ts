import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RECON_RULES,
  aliasNameKey,
  parseReconRules,
  reconcile,
  type ReconBankTransaction,
  type ReconInput,
  type ReconLedgerEntry,
  type ReconOutcome,
} from '../src/index.js';

/** Evidence that holds on Korean statements (issue 20): business days, names, references, amounts, groups, aliases. */

const line = (fields: Partial<ReconBankTransaction> = {}): ReconBankTransaction => ({
  id: 'bt_1',
  source: 'bank_kr',
  accountId: 'acc_krw',
  amount: '-330000',
  currency: 'KRW',
  bookedDate: '2026-03-10',
  status: 'posted',
  description: 'FB출금',
  counterparty: null,
  reference: null,
  ...fields,
});

const entry = (fields: Partial<ReconLedgerEntry> = {}): ReconLedgerEntry => ({
  id: 'le_1',
  amount: '-330000',
  currency: 'KRW',
  date: '2026-03-09',
  memo: '',
  reference: null,
  counterparty: null,
  ...fields,
});

const only = (input: ReconInput): ReconOutcome => {
  const outcomes = reconcile(input);
  expect(outcomes).toHaveLength(1);
  return outcomes[0]!;
};

const criterion = (outcome: ReconOutcome, name: string): string => outcome.criteria.find((item) => item.name === name)?.detail ?? '';

describe('business days', () => {
  it('counts 추석 and the weekend out: an entry of Wednesday paid the Tuesday after Chuseok is one business day late', () => {
    // 2026-09-24 (Thu), 25 (Fri) and 28 (Mon, substitute) are holidays.
    const outcome = only({
      transactions: [line({ bookedDate: '2026-09-29', description: 'FB출금 누리유통' })],
      entries: [entry({ date: '2026-09-23', memo: '상품매입 대금 - 누리유통' })],
    });
    expect(outcome).toMatchObject({ status: 'matched', entryId: 'le_1' });
    expect(criterion(outcome, 'date')).toBe('date +1 business day (6 calendar days) within 4-business-day window');
  });

  it('uses the tenant holidays of the rules: without them the same gap is four business days', () => {
    const rules = parseReconRules({ ...DEFAULT_RECON_RULES, version: 'test/no-holidays', holidays: {} });
    const outcome = only({
      transactions: [line({ bookedDate: '2026-09-29', description: 'FB출금 누리유통' })],
      entries: [entry({ date: '2026-09-23', memo: '상품매입 대금 - 누리유통' })],
      rules,
    });
    expect(criterion(outcome, 'date')).toBe('date +4 business days (6 calendar days) within 4-business-day window');
  });
});

describe('names', () => {
  it.each([
    ['a counterparty only in the memo', { description: 'FB출금 누리유통' }, { memo: '상품매입 대금 - 누리유통' }],
    ['Hangul against Revised Romanization', { description: '타행이체 HANBIT SANGSA', counterparty: 'HANBIT SANGSA' }, { memo: '원재료 매입', counterparty: '주식회사 한빛상사' }],
    ['a legal form written onto the name', { description: '인터넷뱅킹 주식회사한빛상사' }, { memo: '소모품 구입 - (주)한빛상사' }],
    ['a name the bank cut short', { description: '모바일 한빛상' }, { memo: '외주용역비 - 한빛상사' }],
    ['a brand and its Hangul spelling', { description: 'STARBUCKS COFFEE KOREA' }, { memo: '회의비 스타벅스' }],
    ['a spaced and an unspaced romanisation', { description: 'HANBITSANGSA CO LTD' }, { counterparty: 'Hanbit Sangsa' }],
  ])('matches %s', (_, bank, ledger) => {
    const outcome = only({
      transactions: [line(bank)],
      entries: [entry(ledger), entry({ id: 'le_2', memo: '복리후생비 다이소', date: '2026-03-10' })],
    });
    expect(outcome).toMatchObject({ status: 'matched', rule: 'auto_match', entryId: 'le_1' });
  });

  it('keeps aliasNameKey free of legal forms and bank words', () => {
    expect(aliasNameKey('(주)한빛상사')).toBe('한빛상사');
    expect(aliasNameKey('주식회사한빛상사')).toBe('한빛상사');
    expect(aliasNameKey('FB출금 KOREAN AIR')).toBe('korean air');
  });
});

describe('references', () => {
  it.each([['INV20260042'], ['inv 2026/42'], ['2026-0042'], ['0042']])('reads %s as invoice INV-2026-0042', (written) => {
    const outcome = only({
      transactions: [line({ reference: written })],
      entries: [entry({ reference: 'INV-2026-0042' }), entry({ id: 'le_2', reference: 'INV-2026-0043' })],
    });
    expect(outcome).toMatchObject({ status: 'matched', entryId: 'le_1' });
    expect(outcome.candidates[0]!.tier).toBe('reference');
  });

  it('never auto-matches two sides that carry different references', () => {
    const outcome = only({
      transactions: [line({ reference: 'INV-2026-0042', description: 'FB출금 누리유통' })],
      entries: [entry({ reference: 'INV-2026-0043', memo: '누리유통' })],
    });
    expect(outcome.status).toBe('suggested');
    expect(outcome.rationale).toContain('references differ (INV-2026-0042 vs INV-2026-0043)');
  });

  it('does not read a date as an invoice number', () => {
    const outcome = only({ transactions: [line({ description: '대금 20260305' })], entries: [entry({ memo: 'INV-2026-0305 누리유통', amount: '-1' })] });
    expect(outcome.status).toBe('unmatched');
  });
});

describe('amounts that differ', () => {
  const feeShort = {
    transactions: [line({ amount: '999000', description: 'FB입금 누리유통', reference: 'INV-2026-0042' })],
    entries: [entry({ amount: '1000000', memo: '용역매출 - 누리유통', reference: 'INV-2026-0042' })],
  };

  it('only suggests a fee-short payment, even on an equal reference, with the difference in the rationale', () => {
    const outcome = only(feeShort);
    expect(outcome).toMatchObject({ status: 'suggested', rule: 'amount_differs', entryId: 'le_1' });
    expect(outcome.rationale).toContain('amount differs by 1,000 KRW');
    expect(outcome.candidates[0]!.fee).toBeUndefined();
  });

  it("matches it when the tenant's fee rule accepts the difference, recording the fee", () => {
    const rules = parseReconRules({ ...DEFAULT_RECON_RULES, version: 'test/fees', feeRules: { KRW: { min: '500', max: '2000' } } });
    const outcome = only({ ...feeShort, rules });
    expect(outcome).toMatchObject({ status: 'matched', rule: 'auto_match', entryId: 'le_1' });
    expect(outcome.candidates[0]!.fee).toBe('1000');
    expect(criterion(outcome, 'amount')).toBe('amount short by 1,000 KRW, accepted as a bank fee');
  });

  it('never auto-matches a fee-short payment when two open invoices of the amount could be the one', () => {
    const rules = parseReconRules({ ...DEFAULT_RECON_RULES, version: 'test/fees', feeRules: { KRW: { min: '500', max: '2000' } } });
    const outcome = only({
      transactions: [line({ amount: '998500', description: 'FB입금 한빛상사', bookedDate: '2026-03-09' })],
      entries: [
        entry({ amount: '1000000', memo: '용역매출 - 한빛상사', date: '2026-03-09' }),
        entry({ id: 'le_2', amount: '1000000', memo: '용역매출 - 한빛상사', date: '2026-03-03' }),
      ],
      rules,
    });
    expect(outcome).toMatchObject({ status: 'suggested', rule: 'tie' });
  });

  it('never accepts a fee on money out, or one outside the range', () => {
    const rules = parseReconRules({ ...DEFAULT_RECON_RULES, version: 'test/fees', feeRules: { KRW: { min: '500', max: '2000' } } });
    const outgoing = only({ transactions: [line({ amount: '-999000', reference: 'INV-1-77' })], entries: [entry({ amount: '-1000000', reference: 'INV-1-77' })], rules });
    const tooMuch = only({ ...feeShort, transactions: [line({ ...feeShort.transactions[0], amount: '995000' })], rules });
    expect([outgoing.status, tooMuch.status]).toEqual(['suggested', 'suggested']);
  });
});

describe('ties and unique amounts', () => {
  it('never auto-matches when two open invoices of the supplier have the amount, whatever the dates within the window', () => {
    const outcome = only({
      transactions: [line({ description: 'FB출금 누리유통', bookedDate: '2026-03-13' })],
      entries: [entry({ memo: '누리유통', date: '2026-03-09' }), entry({ id: 'le_2', memo: '누리유통', date: '2026-03-12' })],
    });
    expect(outcome).toMatchObject({ status: 'suggested', rule: 'tie' });
    expect(outcome.candidates.map((candidate) => candidate.entryId).sort()).toEqual(['le_1', 'le_2']);
  });

  it('does not count an invoice a person already confirmed elsewhere as a twin', () => {
    const outcome = only({
      transactions: [line({ description: 'FB출금 누리유통', bookedDate: '2026-03-13' })],
      entries: [entry({ memo: '누리유통', date: '2026-03-09' }), entry({ id: 'le_2', memo: '누리유통', date: '2026-03-12' })],
      takenEntryIds: new Set(['le_1']),
    });
    expect(outcome).toMatchObject({ status: 'matched', entryId: 'le_2' });
  });

  it('matches a nameless card payment to the only open entry of its amount and day', () => {
    const outcome = only({
      transactions: [line({ amount: '-26000', description: '체크카드 KG이니시스', bookedDate: '2026-03-10' })],
      entries: [entry({ amount: '-26000', memo: '복리후생비 스타벅스', date: '2026-03-10' }), entry({ id: 'le_2', amount: '-27000', date: '2026-03-10' })],
    });
    expect(outcome).toMatchObject({ status: 'matched', rule: 'unique_amount', entryId: 'le_1' });
  });

  it('only suggests it when another open entry has the amount too', () => {
    const outcome = only({
      transactions: [line({ amount: '-26000', description: '체크카드 KG이니시스', bookedDate: '2026-03-10' })],
      entries: [entry({ amount: '-26000', memo: '복리후생비 스타벅스', date: '2026-03-10' }), entry({ id: 'le_2', amount: '-26000', memo: '소모품비 다이소', date: '2026-03-09' })],
    });
    expect(outcome.status).toBe('suggested');
  });
});

describe('groups', () => {
  it('suggests a line paying several open invoices of one supplier as a batch', () => {
    const outcome = only({
      transactions: [line({ amount: '-300000', description: 'FB출금 누리유통', bookedDate: '2026-03-12' })],
      entries: [
        entry({ id: 'le_1', amount: '-100000', memo: '상품매입 - 누리유통', date: '2026-03-02' }),
        entry({ id: 'le_2', amount: '-200000', memo: '상품매입 - 누리유통', date: '2026-03-05' }),
        entry({ id: 'le_3', amount: '-50000', memo: '상품매입 - 누리유통', date: '2026-03-06' }),
      ],
    });
    expect(outcome).toMatchObject({ status: 'suggested', rule: 'group', entryId: 'le_1' });
    expect(outcome.candidates[0]).toMatchObject({ tier: 'group', entryIds: ['le_1', 'le_2'] });
    expect(outcome.rationale).toBe('group: 300,000 KRW is the sum of 2 open entries of the same counterparty (le_1, le_2) -> suggested as a batch');
  });

  it('suggests lines that together pay one invoice as a split, each naming the others', () => {
    const outcomes = reconcile({
      transactions: [
        line({ id: 'bt_1', amount: '-200000', description: '인터넷뱅킹 한빛상사', bookedDate: '2026-03-10' }),
        line({ id: 'bt_2', amount: '-300000', description: '인터넷뱅킹 한빛상사', bookedDate: '2026-03-20' }),
      ],
      entries: [entry({ amount: '-500000', memo: '상품매입 - 한빛상사', date: '2026-03-09' })],
    });
    expect(outcomes.map((outcome) => [outcome.status, outcome.rule, outcome.candidates[0]?.transactionIds])).toEqual([
      ['suggested', 'group', ['bt_2']],
      ['suggested', 'group', ['bt_1']],
    ]);
  });

  it('never groups an entry a line outside the run holds by an auto-match', () => {
    const outcome = only({
      transactions: [line({ amount: '-300000', description: 'FB출금 누리유통', bookedDate: '2026-03-12' })],
      entries: [entry({ id: 'le_1', amount: '-100000', memo: '상품매입 - 누리유통' }), entry({ id: 'le_2', amount: '-200000', memo: '상품매입 - 누리유통' })],
      matchedElsewhereEntryIds: new Set(['le_1']),
    });
    expect(outcome.rule).not.toBe('group');
  });

  it('never groups entries of another counterparty', () => {
    const outcome = only({
      transactions: [line({ amount: '-300000', description: 'FB출금 누리유통', bookedDate: '2026-03-12' })],
      entries: [entry({ id: 'le_1', amount: '-100000', memo: '상품매입 - 누리유통' }), entry({ id: 'le_2', amount: '-200000', memo: '상품매입 - 한빛상사' })],
    });
    expect(outcome.rule).not.toBe('group');
  });
});

describe('learned aliases', () => {
  const input = {
    transactions: [line({ amount: '-803900', description: 'KOREAN AIR' })],
    entries: [entry({ amount: '-803900', memo: '여비교통비 대한항공' }), entry({ id: 'le_2', amount: '-803900', memo: '소모품비 다이소' })],
  };

  it('cannot tell two entries of the amount apart by a name in another language', () => {
    expect(only(input)).toMatchObject({ status: 'suggested', rule: 'below_threshold' });
  });

  it('matches once the bank name is a learned alias of the ledger name', () => {
    const outcome = only({ ...input, aliases: [{ bankName: 'korean air', ledgerName: '대한항공' }] });
    expect(outcome).toMatchObject({ status: 'matched', entryId: 'le_1' });
    expect(criterion(outcome, 'text')).toBe('counterparty known by a learned alias (1.00)');
  });
});
