import { Router } from 'express';
import type { Db } from '@accounting/data-pg';
import {
  listAuditTrail,
  parseIdempotencyKey,
  requestManualReview,
  runIdempotent,
  verifyAuditChain,
} from '@accounting/service-core-accounting';
import { auditChainKeyring } from '../auditChainKeys.js';
import type { Config } from '../config.js';
import { parseInput } from '../middleware/errors.js';
import { API_ROUTES } from '../policy/permissions.js';
import { addRoute, policyOf } from './route.js';
import { auditListQuery, auditVerifyQuery, manualReviewBody } from './schemas/auditSchemas.js';

/** The tenant's audit trail (AuditList), its chain's verification and the HUD's manual-review requests. */
export function createAuditRouter({ db, config }: { db: Db; config: Config }): Router {
  const router = Router();
  const chainKeys = auditChainKeyring(config.auditChain);

  addRoute(router, API_ROUTES.verifyAuditChain, async (req, res) => {
    const { tenant } = policyOf(req);
    const query = parseInput(auditVerifyQuery, req.query, 'query');
    const expect = query.expect_seq !== undefined && query.expect_mac !== undefined ? { seq: query.expect_seq, mac: query.expect_mac } : undefined;
    res.json(await verifyAuditChain(db, chainKeys, tenant, { expect }));
  });

  addRoute(router, API_ROUTES.listAuditEvents, async (req, res) => {
    const { tenant } = policyOf(req);
    const query = parseInput(auditListQuery, req.query, 'query');
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
