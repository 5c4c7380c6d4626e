import { z } from 'zod';
import type { ImportCounts, LedgerEntry } from '@accounting/data-pg';
import type { Criterion, ReconCandidate, ReconRunSummary } from '@accounting/service-core-accounting';
import { bigintId, calendarDate, listQueryParam, pageLimitParam } from './commonSchemas.js';

// Requests: the recon router validates with these very objects; docs/openapi.json is generated from them.

const entryId = z.string().regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'entry ids are 1-128 characters of [A-Za-z0-9_.:/-]');
const decimal = z.string().regex(/^-?\d{1,15}(\.\d{1,6})?$/, 'must be a decimal string such as "-12000" or "12.50"');
const optionalText = (max: number) => z.string().max(max).nullable().optional();

/** Body of `POST /v1/accounting/ledger-entries`: 1-1,000 entries, idempotent by `entry_id`. */
export const ledgerImportBody = z
  .object({
    entries: z
      .array(
        z
          .object({
            entry_id: entryId,
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

/** Where a page of the ledger list ends: the last entry's date and id. */
export interface LedgerPosition {
  date: string;
  entryId: string;
}

/** The ledger list's `next_cursor`: base64url of `["<date>","<entry_id>"]`. */
export function encodeLedgerCursor(position: LedgerPosition): string {
  return Buffer.from(JSON.stringify([position.date, position.entryId])).toString('base64url');
}

const ledgerPosition = z.tuple([calendarDate, entryId]);

/** The position in a cursor made by `encodeLedgerCursor`, or null unless it holds a date and an entry id the API accepts. */
export function decodeLedgerCursor(cursor: string): LedgerPosition | null {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  const parsed = ledgerPosition.safeParse(value);
  return parsed.success ? { date: parsed.data[0], entryId: parsed.data[1] } : null;
}

/** Query of `GET /v1/accounting/ledger-entries`. */
export const ledgerListQuery = z
  .object({
    from: calendarDate.optional().meta({ description: 'First entry date, inclusive' }),
    to: calendarDate.optional().meta({ description: 'Last entry date, inclusive; not before `from`' }),
    limit: pageLimitParam(500, 100),
    cursor: z
      .string()
      .max(200)
      .refine((cursor) => decodeLedgerCursor(cursor) !== null, 'not a cursor this API issued')
      .optional()
      .meta({ description: 'The `next_cursor` of the previous page' }),
  })
  .strict();

/** Body of `POST /v1/accounting/recon/run` (bank booked dates); may be omitted. */
export const reconRunBody = z.object({ from: calendarDate.optional(), to: calendarDate.optional() }).strict().default({});

/** Path of `/v1/accounting/recon/runs/:runId`. */
export const reconRunParams = z.object({ runId: z.uuid('run ids are UUIDs, as `POST /v1/accounting/recon/run` answers them') });

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
    cursor: bigintId('not a cursor this API issued').optional().meta({ description: 'The `next_cursor` of the previous page' }),
  })
  .strict();

/** Path of `/v1/accounting/recon/suggestions/:id/decision`. */
export const decisionParams = z.object({ id: bigintId('suggestion ids are numbers from 1 to 9223372036854775807') });

/** Body of `POST /v1/accounting/recon/suggestions/:id/decision`. */
export const decisionBody = z
  .object({
    decision: z.enum(['confirm', 'decline']),
    entry_id: z.string().min(1).max(128).optional(),
    replace: z
      .boolean()
      .optional()
      .meta({ description: 'Confirm only: take the entry from the line it is matched to (else 409 `ENTRY_ALREADY_MATCHED`); refused with decline' }),
    group: z
      .boolean()
      .optional()
      .meta({
        description:
          "Confirm only: confirm the suggestion's group candidate, a batch (the line pays every entry of `entryIds`) or a split (every line of the split pays the entry), as one match (else 422 `NOT_A_GROUP`); `entry_id`, if given, must be the group's; refused with decline",
      }),
    note: z.string().max(1_000).optional(),
  })
  .strict()
  .refine((body) => !(body.replace === true && body.decision === 'decline'), { path: ['replace'], message: 'replace applies to a confirm only' })
  .refine((body) => !(body.group === true && body.decision === 'decline'), { path: ['group'], message: 'group applies to a confirm only' });

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

const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;

/** `POST /v1/accounting/recon/run`: the queued run, to poll at the `Location` header. */
export const reconRunAccepted = z.object({
  tenant: z.string(),
  run_id: z.uuid(),
  status: z.enum(RUN_STATUSES),
});

/** What a succeeded run did: the bank lines it decided, by status, and the entries it read. */
const reconRunSummary = z
  .object({
    rules_version: z.string(),
    transactions: z.number().int().meta({ description: 'Bank lines this run decided' }),
    entries: z.number().int().meta({ description: 'Ledger entries it read (those around its lines)' }),
    written: z.number().int().meta({ description: 'Suggestions it stored' }),
    by_status: statusCounts.meta({ description: 'Its lines by outcome' }),
  })
  .meta({ id: 'ReconRunSummary' }) satisfies z.ZodType<ReconRunSummary>;

/** `GET /v1/accounting/recon/runs/{runId}`: the run's state; the summary once it succeeded, the error once it failed. */
export const reconRun = z
  .object({
    tenant: z.string(),
    run_id: z.uuid(),
    status: z.enum(RUN_STATUSES),
    mode: z
      .enum(['full', 'incremental', 'range'])
      .nullable()
      .meta({ description: '`full`: every undecided line; `incremental`: what changed since the last runs; `range`: `from`..`to`. Null until it starts' }),
    from: z.iso.date().nullable(),
    to: z.iso.date().nullable(),
    created_at: z.iso.datetime(),
    started_at: z.iso.datetime().nullable(),
    finished_at: z.iso.datetime().nullable(),
    summary: reconRunSummary.nullable(),
    error: z
      .object({ code: z.string(), message: z.string() })
      .nullable()
      .meta({ description: '`ABANDONED` (its replica died), `DATABASE_UNAVAILABLE`, `ENGINE_FAILED` or `INTERNAL`' }),
  })
  .meta({ id: 'ReconRun' });

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
    entryIds: z
      .array(z.string())
      .optional()
      .meta({ description: 'A batch (tier `group`): every entry the bank line pays, sorted; `entryId` is the first' }),
    transactionIds: z
      .array(z.string())
      .optional()
      .meta({ description: 'A split (tier `group`): the other bank lines (`<source>|<external_id>`) that with this one pay `entryId`' }),
    fee: amount.optional().meta({ description: "The bank fee the tenant's fee rule accepts as the amount difference" }),
    confidence: z.number().min(0).max(1),
    tier: z.enum(['reference', 'amount_date', 'fuzzy', 'group']),
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
