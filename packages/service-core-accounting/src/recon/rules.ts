import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { KOREAN_HOLIDAYS } from './businessDays.js';
import { compareMoney, isCurrencyCode, parseMoney } from './money.js';
import type { ReconRules } from './types.js';

/**
 * The default rules (docs/RECON.md "Rules"). Frozen: a tenant's rules are a copy with its own
 * `version`, checked with `parseReconRules`.
 */
export const DEFAULT_RECON_RULES: ReconRules = deepFreeze({
  version: 'recon-rules/2',
  dateWindowDays: 4,
  dateSearchDays: 12,
  holidays: { KRW: KOREAN_HOLIDAYS },
  feeRules: {},
  groupWindowDays: 45,
  groupMaxParts: 5,
  tieIdentityMargin: 0.15,
  autoMatchThreshold: 0.8,
  suggestThreshold: 0.5,
  tieMargin: 0.05,
  autoMatchLimits: { KRW: '5000000', JPY: '500000', USD: '5000.00', EUR: '5000.00' },
  amountTolerances: { KRW: '10', JPY: '1', USD: '0.05', EUR: '0.05' },
  fuzzyAmountRatio: 0.02,
  fuzzyDateWindowDays: 10,
  referenceDateWindowDays: 60,
  maxReferencePostings: 5,
  maxWordPostings: 40,
  referenceConflictFactor: 0.5,
  referenceUnverifiedFactor: 0.7,
  weights: { amount: 0.35, currency: 0.05, date: 0.2, identity: 0.4 },
});

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}

const unit = z.number().min(0).max(1);
const days = z.number().int().min(0).max(366);
const nonNegativeAmounts = z.record(z.string(), z.string()).superRefine((amounts, ctx) => {
  for (const [currency, amount] of Object.entries(amounts)) {
    const parsed = isCurrencyCode(currency) ? parseMoney(amount, currency) : null;
    if (!parsed || parsed.units < 0n) {
      ctx.addIssue({ code: 'custom', path: [currency], message: 'must be an ISO 4217 code mapped to a non-negative decimal string' });
    }
  }
});

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).refine((date) => !Number.isNaN(Date.parse(`${date}T00:00:00Z`)), 'must be a date');
const feeRule = z.object({ min: z.string(), max: z.string() });

const reconRulesSchema = z
  .object({
    version: z.string().min(1).max(200),
    dateWindowDays: days,
    dateSearchDays: days,
    holidays: z.record(z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'), z.array(isoDate).max(2_000)),
    feeRules: z.record(z.string(), feeRule).superRefine((rules, ctx) => {
      for (const [currency, rule] of Object.entries(rules)) {
        const [min, max] = isCurrencyCode(currency) ? [parseMoney(rule.min, currency), parseMoney(rule.max, currency)] : [null, null];
        if (!min || !max || min.units < 0n || max.units < 0n || compareMoney(min, max) > 0) {
          ctx.addIssue({ code: 'custom', path: [currency], message: 'must map an ISO 4217 code to {min, max}: non-negative decimal strings, min <= max' });
        }
      }
    }),
    groupWindowDays: days,
    groupMaxParts: z.number().int().min(2).max(8),
    tieIdentityMargin: unit,
    autoMatchThreshold: unit,
    suggestThreshold: unit,
    tieMargin: unit,
    autoMatchLimits: nonNegativeAmounts,
    amountTolerances: nonNegativeAmounts,
    fuzzyAmountRatio: unit,
    fuzzyDateWindowDays: days,
    referenceDateWindowDays: days,
    maxReferencePostings: z.number().int().min(1),
    maxWordPostings: z.number().int().min(1),
    referenceConflictFactor: unit,
    referenceUnverifiedFactor: unit,
    weights: z.object({ amount: unit, currency: unit, date: unit, identity: unit }),
  })
  .superRefine((rules, ctx) => {
    if (rules.suggestThreshold > rules.autoMatchThreshold) {
      ctx.addIssue({ code: 'custom', path: ['suggestThreshold'], message: 'must not be above autoMatchThreshold' });
    }
    const { amount, currency, date, identity } = rules.weights;
    if (Math.abs(amount + currency + date + identity - 1) > 1e-9) {
      ctx.addIssue({ code: 'custom', path: ['weights'], message: 'must sum to 1' });
    }
  });

/**
 * Checks rules (e.g. a tenant's copy of the defaults with its own auto-match limits and
 * version) and returns them frozen; throws `ValidationError` naming every bad field.
 */
export function parseReconRules(value: unknown): ReconRules {
  const parsed = reconRulesSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
    throw new ValidationError('reconciliation rules are not valid', issues);
  }
  return deepFreeze(parsed.data);
}

/**
 * How many days before and after the bank lines' dates the ledger entries must reach for the
 * engine to see every candidate it could find: the widest of its search windows. A caller that
 * loads entries for a date range widens the range by this on both sides.
 */
export function reconEntryWindowDays(rules: ReconRules): number {
  return Math.max(rules.dateSearchDays, rules.fuzzyDateWindowDays, rules.referenceDateWindowDays, rules.groupWindowDays);
}
