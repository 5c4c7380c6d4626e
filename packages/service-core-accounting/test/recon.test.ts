import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RECON_RULES,
  RECON_RULE_IDS,
  ValidationError,
  formatMoney,
  generateLabelledDataset,
  parseMoney,
  parseReconRules,
  reconcile,
  reconcileTraced,
  reconEntryWindowDays,
  type CandidateTrace,
  type ReconBankTransaction,
  type ReconInput,
  type ReconLedgerEntry,
  type ReconOutcome,
} from '../src/index.js';

const line = (fields: Partial<ReconBankTransaction> = {}): ReconBankTransaction => ({
  id: 'bt_1',
  source: 'bank_sbx',
  accountId: 'acc_krw',
  amount: '12000',
  currency: 'KRW',
  bookedDate: '2026-03-02',
  status: 'posted',
  description: 'TRANSFER',
  counterparty: null,
  reference: null,
  ...fields,
});

const entry = (fields: Partial<ReconLedgerEntry> = {}): ReconLedgerEntry => ({
  id: 'le_1',
  amount: '12000',
  currency: 'KRW',
  date: '2026-03-01',
  memo: 'Office supplies',
  reference: null,
  counterparty: null,
  ...fields,
});

/** The outcome of the single transaction of `input`. */
const only = (input: ReconInput): ReconOutcome => {
  const outcomes = reconcile(input);
  expect(outcomes).toHaveLength(1);
  return outcomes[0]!;
};

const withKrwLimit = (limit: string) => ({
  ...DEFAULT_RECON_RULES,
  version: 'recon-rules/1+test-limits',
  autoMatchLimits: { ...DEFAULT_RECON_RULES.autoMatchLimits, KRW: limit },
});

describe('the reference tier', () => {
  it('matches a bank reference found in the memo, and says so in one sentence', () => {
    const outcome = only({
      transactions: [line({ reference: 'INV-2026-0042' })],
      entries: [entry({ memo: 'Invoice INV-2026-0042 Hanbit Trading' })],
    });
    expect(outcome).toMatchObject({ status: 'matched', rule: 'auto_match', entryId: 'le_1', confidence: 1, rulesVersion: 'recon-rules/2' });
    // 2026-03-01 is a Sunday and 2026-03-02 a substitute holiday: no business day in between.
    expect(outcome.rationale).toBe(
      'amount equal (12,000 KRW); date +0 business days (1 calendar day) within 4-business-day window; reference INV-2026-0042 found in memo -> matched (1.00)',
    );
    expect(outcome.candidates.map((candidate) => [candidate.entryId, candidate.tier])).toEqual([['le_1', 'reference']]);
  });

  it('gives every candidate the five criteria with scores and details the UI can render', () => {
    const outcome = only({ transactions: [line({ reference: 'INV-2026-0042' })], entries: [entry({ reference: 'INV-2026-0042' })] });
    expect(outcome.criteria).toEqual([
      { name: 'amount', score: 1, detail: 'amount equal (12,000 KRW)' },
      { name: 'currency', score: 1, detail: 'same currency (KRW)' },
      { name: 'date', score: 1, detail: 'date +0 business days (1 calendar day) within 4-business-day window' },
      { name: 'reference', score: 1, detail: 'reference INV-2026-0042 equal' },
      { name: 'text', score: 0, detail: 'no words in common' },
    ]);
    expect(outcome.candidates[0]!.criteria).toEqual(outcome.criteria);
  });

  it('prefers the entry carrying the bank reference over an equal-looking one without it', () => {
    const outcome = only({
      transactions: [line({ reference: 'INV-7', description: 'ACME TRADING', bookedDate: '2026-03-01' })],
      entries: [
        entry({ id: 'le_1', reference: 'INV-7', counterparty: 'Acme Trading', date: '2026-02-27' }),
        entry({ id: 'le_2', reference: null, counterparty: 'Acme Trading' }),
      ],
    });
    expect(outcome).toMatchObject({ status: 'matched', entryId: 'le_1' });
  });

  it('does not auto-match a same-looking entry carrying another reference', () => {
    const outcome = only({
      transactions: [line({ reference: 'INV-8', description: 'ACME TRADING' })],
      entries: [entry({ reference: 'INV-7', counterparty: 'Acme Trading' })],
    });
    expect(outcome.status).toBe('suggested');
    expect(outcome.criteria.find((criterion) => criterion.name === 'reference')).toEqual({
      name: 'reference',
      score: 0,
      detail: 'references differ (INV-8 vs INV-7)',
    });
  });
});

describe('the amount + date tier', () => {
  it('matches an equal amount in the window when the counterparty is found, USD with and without a trailing zero', () => {
    const outcome = only({
      transactions: [line({ amount: '1234.50', currency: 'USD', bookedDate: '2026-03-01', description: 'SEPA CT ACME TRADING' })],
      entries: [entry({ amount: '1234.5', currency: 'USD', memo: 'Sales March', counterparty: 'Acme Trading Co., Ltd.' })],
    });
    expect(outcome).toMatchObject({ status: 'matched', entryId: 'le_1', confidence: 1 });
    expect(outcome.candidates[0]!.tier).toBe('amount_date');
    expect(outcome.rationale).toBe(
      'amount equal (1,234.50 USD); same date; counterparty "Acme Trading Co., Ltd." found on the bank line (1.00) -> matched (1.00)',
    );
  });

  it('treats "12000.00" KRW and "12000" KRW as the same amount', () => {
    const outcome = only({ transactions: [line({ amount: '-12000.00', reference: 'BILL-1' })], entries: [entry({ amount: '-12000', reference: 'BILL-1' })] });
    expect(outcome.criteria[0]).toEqual({ name: 'amount', score: 1, detail: 'amount equal (-12,000 KRW)' });
  });

  it('scores a rounding difference within the tolerance below an equal amount, never as equal', () => {
    const outcome = only({ transactions: [line({ amount: '100.01', currency: 'USD', reference: 'INV-1' })], entries: [entry({ amount: '100.00', currency: 'USD', reference: 'INV-1' })] });
    expect(outcome.criteria[0]).toEqual({ name: 'amount', score: 0.86, detail: 'amount differs by 0.01 USD, within the 0.05 USD rounding tolerance' });
  });

  it('never pairs money in with money out', () => {
    const outcome = only({ transactions: [line({ amount: '-12000', reference: 'INV-1' })], entries: [entry({ amount: '12000', reference: 'INV-1' })] });
    expect(outcome).toMatchObject({ status: 'unmatched', rule: 'no_candidate', entryId: null, candidates: [], criteria: [] });
  });
});

describe('the fuzzy tier', () => {
  it('suggests a counterparty match whose amount is off by a fee, never matches it', () => {
    const outcome = only({
      transactions: [line({ amount: '985.00', currency: 'USD', description: 'WIRE IN ACME TRADING' })],
      entries: [entry({ amount: '1000.00', currency: 'USD', memo: 'Sales March', counterparty: 'Acme Trading Co., Ltd.' })],
    });
    expect(outcome).toMatchObject({ status: 'suggested', rule: 'amount_differs', entryId: 'le_1', confidence: 0.68 });
    expect(outcome.candidates[0]!.tier).toBe('fuzzy');
    expect(outcome.rationale).toBe(
      'amount differs by 15.00 USD (1.5%); date +1 business day within 4-business-day window; counterparty "Acme Trading Co., Ltd." found on the bank line (1.00) -> suggested (0.68; the amounts differ: never auto-matched)',
    );
  });

  it('finds an equal amount booked outside the window through the counterparty, and only suggests it', () => {
    const outcome = only({ transactions: [line({ description: 'ACME TRADING', bookedDate: '2026-03-09' })], entries: [entry({ counterparty: 'Acme Trading' })] });
    expect(outcome).toMatchObject({ status: 'suggested', rule: 'fuzzy_only', entryId: 'le_1', confidence: 0.88 });
    expect(outcome.rationale).toContain('date +5 business days (8 calendar days) outside 4-business-day window');
  });

  it('reads bank abbreviations and names cut short', () => {
    const outcome = only({
      transactions: [line({ description: 'ACH DEBIT MERIDIAN SFTWR', counterparty: 'MERIDIAN SFTWR' })],
      entries: [entry({ counterparty: 'Meridian Software Co., Ltd.' }), entry({ id: 'le_2', counterparty: 'Pacific Foods Inc.' })],
    });
    expect(outcome).toMatchObject({ status: 'matched', entryId: 'le_1' });
  });
});

describe('blocked outcomes', () => {
  it('blocks an amount above the auto-match limit, with the limit in the rationale', () => {
    const outcome = only({
      transactions: [line({ amount: '-2400000', reference: 'BILL-7781' })],
      entries: [entry({ amount: '-2400000.00', reference: 'BILL-7781' })],
      rules: withKrwLimit('1000000'),
    });
    expect(outcome).toMatchObject({ status: 'blocked', rule: 'blocked_amount_limit', entryId: 'le_1', confidence: 1, rulesVersion: 'recon-rules/1+test-limits' });
    expect(outcome.rationale).toBe('blocked: 2,400,000 KRW is above the auto-match limit of 1,000,000 KRW -> manual review');
  });

  it('matches an amount exactly at the limit', () => {
    const outcome = only({ transactions: [line({ amount: '1000000', reference: 'INV-1' })], entries: [entry({ amount: '1000000', reference: 'INV-1' })], rules: withKrwLimit('1000000') });
    expect(outcome.status).toBe('matched');
  });

  it('blocks a pending transaction', () => {
    const outcome = only({ transactions: [line({ status: 'pending', reference: 'INV-1001' })], entries: [entry({ reference: 'INV-1001' })] });
    expect(outcome).toMatchObject({ status: 'blocked', rule: 'blocked_pending', entryId: 'le_1' });
    expect(outcome.rationale).toBe('blocked: the transaction is pending; best candidate le_1 (1.00) -> manual review');
  });

  it('blocks a currency mismatch even with the reference and the number equal', () => {
    const outcome = only({
      transactions: [line({ amount: '250.00', currency: 'USD', reference: 'INV-1001' })],
      entries: [entry({ amount: '250.00', currency: 'EUR', reference: 'INV-1001' })],
    });
    expect(outcome).toMatchObject({ status: 'blocked', rule: 'blocked_currency_mismatch', entryId: 'le_1' });
    expect(outcome.rationale).toBe('blocked: transaction in USD, entry le_1 in EUR -> manual review');
    expect(outcome.criteria[1]).toEqual({ name: 'currency', score: 0, detail: 'currency differs (USD vs EUR)' });
  });

  it('blocks an entry already confirmed for another transaction, and flags it taken', () => {
    const outcome = only({ transactions: [line({ reference: 'INV-1001' })], entries: [entry({ reference: 'INV-1001' })], takenEntryIds: new Set(['le_1']) });
    expect(outcome).toMatchObject({ status: 'blocked', rule: 'blocked_entry_taken', entryId: 'le_1' });
    expect(outcome.candidates[0]!.taken).toBe(true);
    expect(outcome.rationale).toBe('blocked: entry le_1 is already matched to another transaction -> manual review');
  });
});

describe('competition', () => {
  it('suggests both candidates when they score too close to call', () => {
    const outcome = only({
      transactions: [line({ description: 'ACME TRADING', bookedDate: '2026-03-10' })],
      entries: [entry({ counterparty: 'Acme Trading', date: '2026-03-09' }), entry({ id: 'le_2', counterparty: 'Acme Trading', date: '2026-03-10' })],
    });
    expect(outcome).toMatchObject({ status: 'suggested', rule: 'tie', entryId: 'le_2' });
    expect(outcome.candidates.map((candidate) => [candidate.entryId, candidate.confidence])).toEqual([
      ['le_2', 1],
      ['le_1', 0.99],
    ]);
    expect(outcome.rationale).toBe('tie: entries le_2 (1.00) and le_1 (0.99) score within 0.05 of each other -> suggested, both shown');
  });

  it('calls two invoices of one supplier for the amount a tie however far apart their dates are within the window', () => {
    const outcome = only({
      transactions: [line({ description: 'ACME TRADING', bookedDate: '2026-03-13' })],
      entries: [entry({ counterparty: 'Acme Trading', date: '2026-03-09' }), entry({ id: 'le_2', counterparty: 'Acme Trading', date: '2026-03-13' })],
    });
    expect(outcome).toMatchObject({ status: 'suggested', rule: 'tie', entryId: 'le_2' });
    expect(outcome.candidates.map((candidate) => [candidate.entryId, candidate.confidence])).toEqual([
      ['le_2', 1],
      ['le_1', 0.94],
    ]);
    expect(outcome.rationale).toBe(
      'tie: entries le_2 and le_1 both have the amount, both lie within 4 business days and are identified as well (1.00 vs 1.00) -> suggested, both shown',
    );
  });

  it('gives one entry to the clearly best transaction and blocks the other', () => {
    const outcomes = reconcile({
      transactions: [line({ id: 'bt_1', reference: 'INV-1001', bookedDate: '2026-03-01' }), line({ id: 'bt_2', description: 'ACME TRADING', bookedDate: '2026-03-06' })],
      entries: [entry({ reference: 'INV-1001', counterparty: 'Acme Trading' })],
    });
    expect(outcomes.map((outcome) => [outcome.transactionId, outcome.status, outcome.rule, outcome.entryId])).toEqual([
      ['bt_1', 'matched', 'auto_match', 'le_1'],
      ['bt_2', 'blocked', 'blocked_entry_taken', 'le_1'],
    ]);
    expect(outcomes[1]!.rationale).toBe('blocked: entry le_1 was auto-matched to transaction bt_1 (1.00 vs 0.94) -> manual review');
    expect(outcomes[1]!.candidates[0]!.taken).toBe(true);
  });

  it('matches neither of two identical bank lines (a duplicate) to the one entry', () => {
    const outcomes = reconcile({
      transactions: [line({ id: 'bt_1', reference: 'INV-1001' }), line({ id: 'bt_2', reference: 'INV-1001' })],
      entries: [entry({ reference: 'INV-1001' })],
    });
    expect(outcomes.map((outcome) => [outcome.status, outcome.rule])).toEqual([
      ['suggested', 'contested'],
      ['suggested', 'contested'],
    ]);
    expect(outcomes[0]!.rationale).toBe('contested: entry le_1 is also the best match of transaction bt_2 (1.00), this one 1.00 -> suggested');
  });

  it('settles a tie once the other entry is taken by a clear match in the same run', () => {
    const outcomes = reconcile({
      transactions: [
        line({ id: 'bt_1', description: 'ACME TRADING', bookedDate: '2026-03-02' }),
        line({ id: 'bt_2', description: 'ACME TRADING', reference: 'INV-2', bookedDate: '2026-03-03' }),
      ],
      entries: [entry({ id: 'le_1', counterparty: 'Acme Trading', reference: 'INV-1' }), entry({ id: 'le_2', counterparty: 'Acme Trading', date: '2026-03-02', reference: 'INV-2' })],
    });
    expect(outcomes.map((outcome) => [outcome.transactionId, outcome.status, outcome.entryId])).toEqual([
      ['bt_1', 'matched', 'le_1'],
      ['bt_2', 'matched', 'le_2'],
    ]);
    expect(outcomes[0]!.rationale).toBe(
      'amount equal (12,000 KRW); date +0 business days (1 calendar day) within 4-business-day window; counterparty "Acme Trading" found on the bank line (1.00); le_2 went to bt_2 -> matched (1.00)',
    );
  });
});

describe('declined pairs', () => {
  it('are never suggested again', () => {
    const outcome = only({ transactions: [line({ reference: 'INV-1001' })], entries: [entry({ reference: 'INV-1001' })], declinedPairs: new Set(['bt_1|le_1']) });
    expect(outcome).toMatchObject({ status: 'unmatched', rule: 'no_candidate', entryId: null, candidates: [] });
    expect(outcome.rationale).toBe('the only candidate was declined -> unmatched');
  });

  it('leave the other candidates in play', () => {
    const outcome = only({
      transactions: [line({ description: 'ACME TRADING' })],
      entries: [entry({ counterparty: 'Acme Trading' }), entry({ id: 'le_2', counterparty: 'Acme Trading', date: '2026-03-02' })],
      declinedPairs: new Set(['bt_1|le_2']),
    });
    expect(outcome).toMatchObject({ status: 'matched', entryId: 'le_1' });
    expect(outcome.candidates.map((candidate) => candidate.entryId)).toEqual(['le_1']);
  });
});

describe('unmatched outcomes', () => {
  it('say why when there is no candidate at all', () => {
    const outcome = only({ transactions: [line()], entries: [entry({ amount: '13000' })] });
    expect(outcome.rationale).toBe('no entry with the same amount within 12 calendar days, a shared reference or counterparty -> unmatched');
  });

  it('name the best candidate when it is too weak to show', () => {
    const outcome = only({ transactions: [line({ bookedDate: '2026-03-04' })], entries: [entry({ amount: '12010' })] });
    expect(outcome).toMatchObject({ status: 'unmatched', entryId: null, confidence: null, candidates: [], criteria: [] });
    expect(outcome.rationale).toBe('best candidate le_1 scored 0.47, below the suggestion threshold 0.50 -> unmatched');
  });

  it('report a transaction the engine cannot read instead of failing the run', () => {
    const outcomes = reconcile({ transactions: [line({ id: 'bt_1', amount: '12,000' }), line({ id: 'bt_2', reference: 'INV-1' })], entries: [entry({ reference: 'INV-1' })] });
    expect(outcomes[0]).toMatchObject({ status: 'unmatched', rule: 'invalid_transaction', rationale: 'amount "12,000" is not a decimal number -> unmatched' });
    expect(outcomes[1]!.status).toBe('matched');
  });
});

describe('determinism', () => {
  const dataset = generateLabelledDataset({ seed: 11, transactions: 800 });
  const input: ReconInput = { transactions: dataset.transactions, entries: dataset.entries };

  it('gives the same outcomes for the same input', () => {
    expect(reconcile(input)).toEqual(reconcile(input));
  });

  it('gives each transaction the same outcome whatever the order of transactions and entries', () => {
    const byId = (outcomes: ReconOutcome[]) => new Map(outcomes.map((outcome) => [outcome.transactionId, outcome]));
    const reversed = byId(reconcile({ transactions: [...input.transactions].reverse(), entries: [...input.entries].reverse() }));
    const interleaved = byId(
      reconcile({
        transactions: input.transactions.filter((_, i) => i % 2 === 1).concat(input.transactions.filter((_, i) => i % 2 === 0)),
        entries: input.entries.filter((_, i) => i % 3 !== 0).concat(input.entries.filter((_, i) => i % 3 === 0)),
      }),
    );
    const original = byId(reconcile(input));
    expect(reversed).toEqual(original);
    expect(interleaved).toEqual(original);
  });

  it('returns outcomes in input order, one per transaction, with known rule ids', () => {
    const outcomes = reconcile(input);
    expect(outcomes.map((outcome) => outcome.transactionId)).toEqual(input.transactions.map((tx) => tx.id));
    for (const outcome of outcomes) {
      expect(RECON_RULE_IDS).toContain(outcome.rule);
      expect(outcome.candidates.length).toBeLessThanOrEqual(3);
    }
    expect(new Set(outcomes.map((outcome) => outcome.status))).toEqual(new Set(['matched', 'suggested', 'blocked', 'unmatched']));
  });

  it('never matches one entry to two transactions', () => {
    const matched = reconcile(input).filter((outcome) => outcome.status === 'matched').map((outcome) => outcome.entryId);
    expect(new Set(matched).size).toBe(matched.length);
  });
});

describe('input checks', () => {
  /** The issues of the `ValidationError` that `fn` throws. */
  const issuesOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return (err as ValidationError).issues;
    }
    throw new Error('expected a ValidationError');
  };

  it('refuse repeated transaction or entry ids', () => {
    expect(issuesOf(() => reconcile({ transactions: [line(), line()], entries: [entry(), entry()] }))).toEqual([
      { path: 'transactions', message: 'transaction id bt_1 appears more than once' },
      { path: 'entries', message: 'entry id le_1 appears more than once' },
    ]);
  });

  it('refuse rules that make no sense, naming the field', () => {
    expect(issuesOf(() => reconcile({ transactions: [], entries: [], rules: { ...DEFAULT_RECON_RULES, suggestThreshold: 0.9 } }))).toEqual([
      { path: 'suggestThreshold', message: 'must not be above autoMatchThreshold' },
    ]);
    expect(issuesOf(() => parseReconRules({ ...DEFAULT_RECON_RULES, autoMatchLimits: { KRW: 'a lot' } }))).toEqual([
      { path: 'autoMatchLimits.KRW', message: 'must be an ISO 4217 code mapped to a non-negative decimal string' },
    ]);
  });

  it('keep the default rules frozen', () => {
    expect(Object.isFrozen(DEFAULT_RECON_RULES)).toBe(true);
    expect(Object.isFrozen(DEFAULT_RECON_RULES.autoMatchLimits)).toBe(true);
    expect(reconEntryWindowDays(DEFAULT_RECON_RULES)).toBe(60);
  });
});

describe('money', () => {
  it('parses decimal strings exactly at the currency minor units (KRW 0, USD 2)', () => {
    expect(parseMoney('12000.00', 'KRW')).toEqual({ units: 12000n, scale: 0 });
    expect(parseMoney('1234.5', 'USD')).toEqual({ units: 123450n, scale: 2 });
    expect(parseMoney('0.005', 'USD')).toEqual({ units: 5n, scale: 3 });
    expect(parseMoney('1e3', 'USD')).toBeNull();
    expect(parseMoney('12,000', 'KRW')).toBeNull();
  });

  it('formats with thousands separators and the currency', () => {
    expect(formatMoney(parseMoney('12000', 'KRW')!, 'KRW')).toBe('12,000 KRW');
    expect(formatMoney(parseMoney('1234.5', 'USD')!, 'USD')).toBe('1,234.50 USD');
    expect(formatMoney(parseMoney('-2400000.00', 'KRW')!, 'KRW')).toBe('-2,400,000 KRW');
    expect(formatMoney(parseMoney('0.005', 'USD')!, 'USD')).toBe('0.005 USD');
  });
});

describe('the labelled data set', () => {
  it('is the same for the same seed and differs for another', () => {
    const first = generateLabelledDataset({ seed: 5, transactions: 300 });
    expect(generateLabelledDataset({ seed: 5, transactions: 300 })).toEqual(first);
    expect(generateLabelledDataset({ seed: 6, transactions: 300 }).transactions).not.toEqual(first.transactions);
  });

  it('has the asked number of lines, a truth for each, and true entries that exist', () => {
    const dataset = generateLabelledDataset({ seed: 5, transactions: 1000 });
    expect(dataset.transactions).toHaveLength(1000);
    expect(dataset.truth.size).toBe(1000);
    const entryIds = new Set(dataset.entries.map((item) => item.id));
    const trueEntries = [...dataset.truth.values()].filter((id): id is string => id !== null);
    expect(trueEntries.every((id) => entryIds.has(id))).toBe(true);
    expect(new Set(trueEntries).size).toBe(trueEntries.length);
    expect(trueEntries.length).toBeGreaterThan(800);
    expect(dataset.transactions.some((tx) => tx.status === 'pending')).toBe(true);
  });
});

describe('locality (what incremental runs rely on)', () => {
  it('decides a set of lines as the whole ledger does, given the entries near them and the lines that meet them on a claimable entry', () => {
    const dataset = generateLabelledDataset({ seed: 3, transactions: 3_000 });
    const full = reconcileTraced({ transactions: dataset.transactions, entries: dataset.entries });
    const traceOf = new Map(dataset.transactions.map((tx, i) => [tx.id, full.traces[i] as CandidateTrace]));
    const linesOf = (column: 'scored' | 'claimable') => {
      const lines = new Map<string, string[]>();
      for (const [id, trace] of traceOf) for (const entry of trace[column]) lines.set(entry, [...(lines.get(entry) ?? []), id]);
      return lines;
    };
    const [scoredBy, claimableBy] = [linesOf('scored'), linesOf('claimable')];
    // One week of lines, then, transitively, the lines scored against what they could claim, then
    // the lines that could claim what any of those was scored against.
    const picked = new Set(dataset.transactions.filter((tx) => tx.bookedDate >= '2026-06-01' && tx.bookedDate < '2026-06-08').map((tx) => tx.id));
    const close = (via: Map<string, string[]>, from: 'scored' | 'claimable') => {
      for (let frontier = [...picked]; frontier.length > 0; ) {
        const next = frontier.flatMap((id) => (traceOf.get(id) as CandidateTrace)[from].flatMap((entry) => via.get(entry) ?? [])).filter((id) => !picked.has(id));
        for (const id of next) picked.add(id);
        frontier = [...new Set(next)];
      }
    };
    close(scoredBy, 'claimable');
    close(claimableBy, 'scored');
    const lines = dataset.transactions.filter((tx) => picked.has(tx.id));
    const window = reconEntryWindowDays(DEFAULT_RECON_RULES);
    const days = lines.map((tx) => Date.parse(tx.bookedDate) / 86_400_000);
    const near = dataset.entries.filter((entry) => days.some((day) => Math.abs(Date.parse(entry.date) / 86_400_000 - day) <= window));

    const partial = reconcileTraced({ transactions: lines, entries: near });
    const fullById = new Map(full.outcomes.map((outcome) => [outcome.transactionId, outcome]));
    expect(lines.length).toBeLessThan(dataset.transactions.length / 4);
    expect(near.length).toBeLessThan(dataset.entries.length / 2);
    expect(partial.outcomes).toEqual(lines.map((tx) => fullById.get(tx.id)));
    expect(partial.traces).toEqual(lines.map((tx) => traceOf.get(tx.id)));
  });
});
