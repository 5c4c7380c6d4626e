import { Router } from 'express';
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
import { decisionBody, decisionParams, ledgerImportBody, ledgerListQuery, reconRunBody, suggestionsQuery } from './schemas/reconSchemas.js';

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
    const body = parseInput(ledgerImportBody, req.body, 'body');
    const counts = await importLedgerEntries(
      db,
      tenant,
      body.entries.map((e) => ({ ...e, reference: e.reference ?? null, counterparty: e.counterparty ?? null })),
    );
    res.json({ tenant, received: body.entries.length, ...counts });
  });

  addRoute(router, API_ROUTES.listLedgerEntries, async (req, res) => {
    const { tenant } = policyOf(req);
    const query = parseInput(ledgerListQuery, req.query, 'query');
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
    const body = parseInput(reconRunBody, req.body ?? {}, 'body');
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
