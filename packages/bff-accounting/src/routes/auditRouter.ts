import { Router } from 'express';
import { z } from 'zod';
import type { Db } from '@accounting/data-pg';
import {
  AUDIT_ACTIONS,
  listAuditTrail,
  parseIdempotencyKey,
  requestManualReview,
  runIdempotent,
} from '@accounting/service-core-accounting';
import { parseInput } from '../middleware/errors.js';
import { API_ROUTES } from '../policy/permissions.js';
import { addRoute, policyOf } from './route.js';

/** A query parameter given once or several times, or as a comma-separated list. */
const listParam = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).filter(Boolean));

/** A query parameter that must be given at most once. */
const single = <T extends z.ZodType<unknown, string>>(schema: T) => z.string({ error: 'give this parameter once' }).pipe(schema);

const listQuery = z
  .object({
    action: listParam.pipe(z.array(z.enum(AUDIT_ACTIONS)).max(AUDIT_ACTIONS.length)).optional(),
    subject_id: single(z.string().min(1).max(200)).optional(),
    actor: single(z.string().min(1).max(128)).optional(),
    from: single(z.iso.datetime({ offset: true })).optional(),
    to: single(z.iso.datetime({ offset: true })).optional(),
    q: single(z.string().trim().min(1).max(200)).optional(),
    limit: single(z.string().regex(/^\d{1,3}$/, 'must be a whole number from 1 to 200').transform(Number).pipe(z.number().min(1).max(200))).default(50),
    cursor: single(z.string().min(1).max(200)).optional(),
  })
  .strict()
  .refine((query) => !query.from || !query.to || Date.parse(query.from) <= Date.parse(query.to), {
    message: 'from must not be after to',
    path: ['from'],
  });

const manualReviewBody = z
  .object({
    subject_type: z.string().trim().min(1).max(64),
    subject_id: z.string().trim().min(1).max(200),
    reason: z.string().trim().min(1).max(1_000),
    note: z.string().max(4_000).optional(),
    client_ts: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

/** The tenant's audit trail (AuditList) and the HUD's manual-review requests. */
export function createAuditRouter({ db }: { db: Db }): Router {
  const router = Router();

  addRoute(router, API_ROUTES.listAuditEvents, async (req, res) => {
    const { tenant } = policyOf(req);
    const query = parseInput(listQuery, req.query, 'query');
    const page = await listAuditTrail(db, tenant, {
      filter: {
        ...(query.action?.length ? { actions: query.action } : {}),
        ...(query.subject_id !== undefined ? { subjectId: query.subject_id } : {}),
        ...(query.actor !== undefined ? { actor: query.actor } : {}),
        ...(query.from !== undefined ? { from: query.from } : {}),
        ...(query.to !== undefined ? { to: query.to } : {}),
        ...(query.q !== undefined ? { q: query.q } : {}),
      },
      limit: query.limit,
      cursor: query.cursor,
    });
    res.json({ tenant, items: page.items, next_cursor: page.next_cursor });
  });

  addRoute(router, API_ROUTES.createManualReview, async (req, res) => {
    const { tenant, role, userId } = policyOf(req);
    const key = parseIdempotencyKey(req.get('idempotency-key'));
    const body = parseInput(manualReviewBody, req.body, 'body');
    const result = await runIdempotent(db, { tenant, key, scope: 'createManualReview', input: body }, async (tx) => ({
      status: 201,
      body: await requestManualReview(
        tx,
        { tenant, role: role ?? 'unmapped', userId, requestId: req.requestId },
        { subjectType: body.subject_type, subjectId: body.subject_id, reason: body.reason, note: body.note, clientTs: body.client_ts },
      ),
    }));
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(result.status).json(result.body);
  });

  return router;
}
