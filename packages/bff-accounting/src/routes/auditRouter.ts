import { Router } from 'express';
import { z } from 'zod';
import { listAuditEvents, type Db } from '@accounting/data-pg';
import { requestManualReview } from '@accounting/service-core-accounting';
import { parseInput } from '../middleware/errors.js';
import { API_ROUTES } from '../policy/permissions.js';
import { addRoute, policyOf } from './route.js';

const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

const manualReviewBody = z
  .object({
    subject_type: z.string().trim().min(1).max(64),
    subject_id: z.string().trim().min(1).max(200),
    reason: z.string().trim().min(1).max(1_000),
    note: z.string().max(4_000).optional(),
    client_ts: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

/** The tenant's audit trail and the HUD's manual-review requests. */
export function createAuditRouter({ db }: { db: Db }): Router {
  const router = Router();

  addRoute(router, API_ROUTES.listAuditEvents, async (req, res) => {
    const { tenant } = policyOf(req);
    const query = parseInput(listQuery, req.query, 'query');
    const items = await listAuditEvents(db, tenant, { limit: query.limit });
    res.json({ tenant, items });
  });

  addRoute(router, API_ROUTES.createManualReview, async (req, res) => {
    const { tenant, role, userId } = policyOf(req);
    const body = parseInput(manualReviewBody, req.body, 'body');
    const event = await requestManualReview(
      db,
      { tenant, role: role ?? 'unmapped', userId, requestId: req.requestId },
      { subjectType: body.subject_type, subjectId: body.subject_id, reason: body.reason, note: body.note, clientTs: body.client_ts },
    );
    res.status(201).json(event);
  });

  return router;
}
