import { Router } from 'express';
import { withTransaction, type Db } from '@accounting/data-pg';
import { listAliases, removeAlias } from '@accounting/service-core-accounting';
import { parseInput } from '../middleware/errors.js';
import { API_ROUTES } from '../policy/permissions.js';
import { addRoute, policyOf } from './route.js';
import { aliasesQuery, aliasParams } from './schemas/reconAliasSchemas.js';

/** The counterparty aliases reconciliation learned from confirmed pairs: list, remove. */
export function createReconAliasesRouter({ db }: { db: Db }): Router {
  const router = Router();

  addRoute(router, API_ROUTES.listReconAliases, async (req, res) => {
    const { tenant } = policyOf(req);
    const query = parseInput(aliasesQuery, req.query, 'query');
    const page = await listAliases(db, tenant, { limit: query.limit, beforeId: query.cursor ?? null });
    res.json({ tenant, items: page.items, next_cursor: page.next });
  });

  addRoute(router, API_ROUTES.deleteReconAlias, async (req, res) => {
    const { tenant, role, userId } = policyOf(req);
    const { id } = parseInput(aliasParams, req.params, 'path');
    const actor = { tenant, role: role ?? 'unmapped', userId, requestId: req.requestId };
    res.json(await withTransaction(db, (tx) => removeAlias(tx, actor, id)));
  });

  return router;
}
