import { Router } from 'express';
import { importLedgerEntries, listLedgerEntries, listSuggestions, type Db } from '@accounting/data-pg';
import {
  decideSuggestion,
  parseIdempotencyKey,
  runIdempotent,
  ValidationError,
  type ReconRunner,
} from '@accounting/service-core-accounting';
import { parseInput } from '../middleware/errors.js';
import { API_ROUTES } from '../policy/permissions.js';
import { addRoute, policyOf } from './route.js';
import {
  decisionBody,
  decisionParams,
  decodeLedgerCursor,
  encodeLedgerCursor,
  ledgerImportBody,
  ledgerListQuery,
  reconRunBody,
  reconRunParams,
  suggestionsQuery,
} from './schemas/reconSchemas.js';

function refuseReversedRange(range: { from?: string | undefined; to?: string | undefined }): void {
  if (range.from && range.to && range.from > range.to) {
    throw new ValidationError('query is not valid', [{ path: 'from', message: 'from must not be after to' }]);
  }
}

/** Ledger entries (import, list) and reconciliation (queued runs, suggestions with rationale, decisions). */
export function createReconRouter({ db, reconRuns }: { db: Db; reconRuns: ReconRunner }): Router {
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
      // The schema refused a cursor that does not decode.
      after: query.cursor ? decodeLedgerCursor(query.cursor) : null,
    });
    res.json({ tenant, items: page.items, next_cursor: page.next ? encodeLedgerCursor(page.next) : null });
  });

  addRoute(router, API_ROUTES.runRecon, async (req, res) => {
    const { tenant, role, userId } = policyOf(req);
    const body = parseInput(reconRunBody, req.body ?? {}, 'body');
    refuseReversedRange(body);
    const run = await reconRuns.submit({ tenant, from: body.from, to: body.to, requestedBy: userId ?? role ?? 'unmapped', requestId: req.requestId });
    res.status(202).location(`/v1/accounting/recon/runs/${run.run_id}`).json({ tenant, run_id: run.run_id, status: run.status });
  });

  addRoute(router, API_ROUTES.getReconRun, async (req, res) => {
    const { tenant } = policyOf(req);
    const { runId } = parseInput(reconRunParams, req.params, 'path');
    res.json(await reconRuns.find(tenant, runId));
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
      body: await decideSuggestion(tx, actor, id, { decision: body.decision, entryId: body.entry_id, replace: body.replace, group: body.group, note: body.note }),
    }));
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(result.status).json(result.body);
  });

  return router;
}
