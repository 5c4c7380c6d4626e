import { Router } from 'express';
import type { Db } from '@accounting/data-pg';
import { configureSource, getSourceStatuses, NotFoundError } from '@accounting/service-core-accounting';
import type { Config } from '../config.js';
import { parseInput } from '../middleware/errors.js';
import { API_ROUTES } from '../policy/permissions.js';
import { addRoute, policyOf } from './route.js';
import { sourceBody, sourceParams } from './schemas/sourcesSchemas.js';

export interface SourcesRouterDeps {
  db: Db;
  config: Config;
  now?: () => Date;
}

/** The tenant's external sources and their sync state (the Backoffice OS sources card). */
export function createSourcesRouter({ db, config, now = () => new Date() }: SourcesRouterDeps): Router {
  const router = Router();
  const statusOptions = () => ({ now: now(), staleAfterSeconds: config.sync.staleAfterSeconds });

  addRoute(router, API_ROUTES.listSources, async (req, res) => {
    const { tenant } = policyOf(req);
    const sources = await getSourceStatuses(db, tenant, statusOptions());
    res.json({ tenant, stale_threshold_seconds: config.sync.staleAfterSeconds, sources });
  });

  addRoute(router, API_ROUTES.getSource, async (req, res) => {
    const { tenant } = policyOf(req);
    const { source } = parseInput(sourceParams, req.params, 'path');
    const [found] = await getSourceStatuses(db, tenant, { ...statusOptions(), only: source });
    // The same answer whether the source is missing or belongs to another tenant.
    if (!found) throw new NotFoundError('no such source');
    res.json({ tenant, ...found });
  });

  addRoute(router, API_ROUTES.putSource, async (req, res) => {
    const { tenant, role, userId } = policyOf(req);
    const { source } = parseInput(sourceParams, req.params, 'path');
    const body = parseInput(sourceBody, req.body, 'body');
    const result = await configureSource(
      db,
      { tenant, role: role ?? 'unmapped', userId, requestId: req.requestId },
      { source, kind: body.kind, connectionId: body.connection_id, enabled: body.enabled },
      config.bankSandbox.connections,
    );
    res.status(result.created ? 201 : 200).json({
      tenant,
      source: result.source.source,
      kind: result.source.kind,
      connection_id: result.source.connectionId,
      enabled: result.source.enabled,
    });
  });

  return router;
}
