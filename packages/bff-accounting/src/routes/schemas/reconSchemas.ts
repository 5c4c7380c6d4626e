import { z } from 'zod';
import type { ImportCounts, LedgerEntry } from '@accounting/data-pg';
import type { Criterion, ReconCandidate, ReconRunSummary } from '@accounting/service-core-accounting';
import { listQueryParam, pageLimitParam } from './commonSchemas.js';

// Requests: the recon router validates with these very objects; docs/openapi.json is generated from them.

const calendarDate = z.iso.date('must be a date YYYY-MM-DD');
const decimal = z.string().regex(/^-?\d{1,15}(\.\d{1,6})?$/, 'must be a decimal string such as "-12000" or "12.50"');
const optionalText = (max: number) => z.string().max(max).nullable().optional();

/** Body of `POST /v1/accounting/ledger-entries`: 1-1,000 entries, idempotent by `entry_id`. */
export const ledgerImportBody = z
  .object({
    entries: z
      .array(
        z
          .object({
            entry_id: z.string().regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'entry ids are 1-128 characters of [A-Za-z0-9_.:/-]'),
            amount: decimal,
            currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
            date: calendarDate,
            memo: z.string().max(500).default(''),
            reference: optionalText(128),
            counterparty: optionalText(200),
          })
          .strict(),
      )
      .min(1)
      .max(1_000),
  })
  .strict();

/** Query of `GET /v1/accounting/ledger-entries`. */
export const ledgerListQuery = z
  .object({
    from: calendarDate.optional().meta({ description: 'First entry date, inclusive' }),
    to: calendarDate.optional().meta({ description: 'Last entry date, inclusive; not before `from`' }),
    limit: pageLimitParam(500, 100),
    cursor: z.string().max(200).optional().meta({ description: 'The `next_cursor` of the previous page' }),
  })
  .strict();

/** Body of `POST /v1/accounting/recon/run` (bank booked dates); may be omitted. */
export const reconRunBody = z.object({ from: calendarDate.optional(), to: calendarDate.optional() }).strict().default({});

/** The statuses of a suggestion (docs/RECON.md). */
const SUGGESTION_STATUSES = ['matched', 'suggested', 'unmatched', 'blocked'] as const;

/** Query of `GET /v1/accounting/recon/suggestions`. */
export const suggestionsQuery = z
  .object({
    status: listQueryParam
      .pipe(z.array(z.enum(SUGGESTION_STATUSES)))
      .optional()
      .meta({ description: 'One or several statuses: repeat the parameter or separate with commas' }),
    limit: pageLimitParam(200, 50),
    cursor: z.string().regex(/^\d{1,19}$/, 'not a cursor this API issued').optional().meta({ description: 'The `next_cursor` of the previous page' }),
  })
  .strict();

/** Path of `/v1/accounting/recon/suggestions/:id/decision`. */
export const decisionParams = z.object({ id: z.string().regex(/^\d{1,19}$/, 'suggestion ids are numbers') });

/** Body of `POST /v1/accounting/recon/suggestions/:id/decision`. */
export const decisionBody = z
  .object({
    decision: z.enum(['confirm', 'decline']),
    entry_id: z.string().min(1).max(128).optional(),
    note: z.string().max(1_000).optional(),
  })
  .strict();

// Responses: documented only; test/openapi.test.ts checks real responses against them.

const amount = z.string().meta({ description: 'Decimal string, e.g. "-12000" or "12.50"' });

/** One internal ledger entry. */
const ledgerEntry = z
  .object({
    entry_id: z.string(),
    amount,
    currency: z.string(),
    date: z.iso.date(),
    memo: z.string(),
    reference: z.string().nullable(),
    counterparty: z.string().nullable(),
  })
  .meta({ id: 'LedgerEntry' }) satisfies z.ZodType<LedgerEntry>;

/** `POST /v1/accounting/ledger-entries`: what the batch did. */
export const ledgerImportResult = z.object({
  tenant: z.string(),
  received: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
}) satisfies z.ZodType<ImportCounts>;

/** `GET /v1/accounting/ledger-entries`: one page by date then id. */
export const ledgerEntryPage = z.object({
  tenant: z.string(),
  items: z.array(ledgerEntry),
  next_cursor: z.string().nullable(),
});

const statusCounts = z.object({ matched: z.number().int(), suggested: z.number().int(), unmatched: z.number().int(), blocked: z.number().int() });

/** `POST /v1/accounting/recon/run`: counts by status and the rules version. */
export const reconRunResult = z.object({
  tenant: z.string(),
  rules_version: z.string(),
  transactions: z.number().int(),
  entries: z.number().int(),
  written: z.number().int(),
  by_status: statusCounts,
}) satisfies z.ZodType<ReconRunSummary>;

/** One criterion of a candidate pair: a score and a human detail. */
const reconCriterion = z
  .object({
    name: z.enum(['amount', 'currency', 'date', 'reference', 'text']),
    score: z.number().min(0).max(1),
    detail: z.string(),
  })
  .meta({ id: 'ReconCriterion' }) satisfies z.ZodType<Criterion>;

/** A ledger entry that may be the bank transaction's pair. */
const reconCandidate = z
  .object({
    entryId: z.string(),
    confidence: z.number().min(0).max(1),
    tier: z.enum(['reference', 'amount_date', 'fuzzy']),
    criteria: z.array(reconCriterion),
    taken: z.boolean(),
  })
  .meta({ id: 'ReconCandidate' }) satisfies z.ZodType<ReconCandidate>;

/** One suggestion per bank transaction, with its rationale (docs/RECON.md). */
export const reconSuggestion = z
  .object({
    id: z.string().regex(/^\d+$/),
    source: z.string(),
    status: z.enum(SUGGESTION_STATUSES),
    confidence: z.number().nullable(),
    rule: z.string(),
    rationale: z.string(),
    criteria: z.array(reconCriterion),
    candidates: z.array(reconCandidate),
    rules_version: z.string(),
    decision: z.enum(['confirm', 'decline']).nullable(),
    decided_at: z.string().nullable(),
    decided_by: z.string().nullable(),
    transaction: z.object({
      external_id: z.string(),
      account_id: z.string(),
      amount,
      currency: z.string(),
      booked_date: z.iso.date(),
      status: z.enum(['pending', 'posted']),
      description: z.string(),
      counterparty: z.string().nullable(),
      reference: z.string().nullable(),
    }),
    entry: ledgerEntry.nullable(),
  })
  .meta({ id: 'ReconSuggestion' });

/** `GET /v1/accounting/recon/suggestions`: one page, newest first. */
export const reconSuggestionPage = z.object({
  tenant: z.string(),
  items: z.array(reconSuggestion),
  next_cursor: z.string().nullable(),
});
