import { Router } from 'express';
import { z } from 'zod';
import { importLedgerEntries, listLedgerEntries, listSuggestions, type Db } from '@accounting/data-pg';
import {
  decideSuggestion,
  parseIdempotencyKey,
  rulesForTenant,
  runIdempotent,
  runReconciliation,
  ValidationError,
} from '@accounting/service-core-accounting';
import type { Config } from '../config.js';
import { parseInput } from '../middleware/errors.js';
import { API_ROUTES } from '../policy/permissions.js';
import { addRoute, policyOf } from './route.js';

const calendarDate = z.iso.date('must be a date YYYY-MM-DD');
const decimal = z.string().regex(/^-?\d{1,15}(\.\d{1,6})?$/, 'must be a decimal string such as "-12000" or "12.50"');
const optionalText = (max: number) => z.string().max(max).nullable().optional();

const importBody = z
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

const rangeQuery = z
  .object({
    from: calendarDate.optional(),
    to: calendarDate.optional(),
    limit: z.string().regex(/^\d{1,3}$/).transform(Number).pipe(z.number().min(1).max(500)).default(100),
    cursor: z.string().max(200).optional(),
  })
  .strict();

const runBody = z.object({ from: calendarDate.optional(), to: calendarDate.optional() }).strict().default({});

const STATUSES = ['matched', 'suggested', 'unmatched', 'blocked'] as const;
const suggestionsQuery = z
  .object({
    status: z
      .union([z.string(), z.array(z.string())])
      .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).filter(Boolean))
      .pipe(z.array(z.enum(STATUSES)))
      .optional(),
    limit: z.string().regex(/^\d{1,3}$/).transform(Number).pipe(z.number().min(1).max(200)).default(50),
    cursor: z.string().regex(/^\d{1,19}$/, 'not a cursor this API issued').optional(),
  })
  .strict();

const decisionParams = z.object({ id: z.string().regex(/^\d{1,19}$/, 'suggestion ids are numbers') });
const decisionBody = z
  .object({
    decision: z.enum(['confirm', 'decline']),
    entry_id: z.string().min(1).max(128).optional(),
    note: z.string().max(1_000).optional(),
  })
  .strict();

const encodeEntryCursor = (next: { date: string; entryId: string }) => Buffer.from(JSON.stringify([next.date, next.entryId])).toString('base64url');
function decodeEntryCursor(cursor: string): { date: string; entryId: string } {
  try {
    const [date, entryId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date) && typeof entryId === 'string') return { date, entryId };
  } catch {
    // fall through
  }
  throw new ValidationError('cursor is not valid', [{ path: 'cursor', message: 'not a cursor this API issued' }]);
}

function refuseReversedRange(range: { from?: string | undefined; to?: string | undefined }): void {
  if (range.from && range.to && range.from > range.to) {
    throw new ValidationError('query is not valid', [{ path: 'from', message: 'from must not be after to' }]);
  }
}

/** Ledger entries (import, list) and reconciliation (run, suggestions with rationale, decisions). */
export function createReconRouter({ db, config }: { db: Db; config: Config }): Router {
  const router = Router();

  addRoute(router, API_ROUTES.importLedgerEntries, async (req, res) => {
    const { tenant } = policyOf(req);
    const body = parseInput(importBody, req.body, 'body');
    const counts = await importLedgerEntries(
      db,
      tenant,
      body.entries.map((e) => ({ ...e, reference: e.reference ?? null, counterparty: e.counterparty ?? null })),
    );
    res.json({ tenant, received: body.entries.length, ...counts });
  });

  addRoute(router, API_ROUTES.listLedgerEntries, async (req, res) => {
    const { tenant } = policyOf(req);
    const query = parseInput(rangeQuery, req.query, 'query');
    refuseReversedRange(query);
    const page = await listLedgerEntries(db, tenant, {
      ...(query.from ? { from: query.from } : {}),
      ...(query.to ? { to: query.to } : {}),
      limit: query.limit,
      after: query.cursor ? decodeEntryCursor(query.cursor) : null,
    });
    res.json({ tenant, items: page.items, next_cursor: page.next ? encodeEntryCursor(page.next) : null });
  });

  addRoute(router, API_ROUTES.runRecon, async (req, res) => {
    const { tenant } = policyOf(req);
    const body = parseInput(runBody, req.body ?? {}, 'body');
    refuseReversedRange(body);
    const summary = await runReconciliation(db, tenant, { from: body.from, to: body.to, rules: rulesForTenant(config.recon.autoMatchLimits, tenant) });
    res.json({ tenant, ...summary });
  });

  addRoute(router, API_ROUTES.listReconSuggestions, async (req, res) => {
    const { tenant } = policyOf(req);
    const query = parseInput(suggestionsQuery, req.query, 'query');
    const page = await listSuggestions(db, tenant, {
      ...(query.status?.length ? { statuses: query.status } : {}),
      limit: query.limit,
      beforeId: query.cursor ?? null,
    });
    res.json({ tenant, items: page.items, next_cursor: page.next });
  });

  addRoute(router, API_ROUTES.decideReconSuggestion, async (req, res) => {
    const { tenant, role, userId } = policyOf(req);
    const key = parseIdempotencyKey(req.get('idempotency-key'));
    const { id } = parseInput(decisionParams, req.params, 'path');
    const body = parseInput(decisionBody, req.body, 'body');
    const actor = { tenant, role: role ?? 'unmapped', userId, requestId: req.requestId };
    const result = await runIdempotent(db, { tenant, key, scope: `decideReconSuggestion:${id}`, input: body }, async (tx) => ({
      status: 200,
      body: await decideSuggestion(tx, actor, id, { decision: body.decision, entryId: body.entry_id, note: body.note }),
    }));
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(result.status).json(result.body);
  });

  return router;
}
