import { Router } from 'express';
import { z } from 'zod';
import { listAuditEvents, type Db } from '@accounting/data-pg';
import { parseInput } from '../middleware/errors.js';
import { API_ROUTES } from '../policy/permissions.js';
import { addRoute, policyOf } from './route.js';

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

/** The tenant's audit trail (`GET /v1/accounting/audit`). */
export function createAuditRouter({ db }: { db: Db }): Router {
  const router = Router();

  addRoute(router, API_ROUTES.listAuditEvents, async (req, res) => {
    const { tenant } = policyOf(req);
    const query = parseInput(listQuery, req.query, 'query');
    const items = await listAuditEvents(db, tenant, { limit: query.limit });
    res.json({ tenant, items });
  });

  return router;
}
