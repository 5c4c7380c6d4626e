import { Router } from 'express';
import { errorBody } from '../middleware/errors.js';
import type { Metrics } from '../metrics.js';
import { buildOpenApiDocument } from '../openapi/buildOpenApiDocument.js';
import type { ExportsStatus, ReadinessReport } from '../readiness.js';

export interface OpsRouterDeps {
  metrics: Metrics;
  readiness: () => Promise<ReadinessReport>;
  exports: ExportsStatus;
}

/**
 * `/health` (liveness, no I/O), `/ready` (database and migrations), `/metrics` and
 * `/openapi.json` (the API's OpenAPI 3.1 document, built on first request); never gated.
 */
export function createOpsRouter({ metrics, readiness, exports }: OpsRouterDeps): Router {
  const router = Router();

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/ready', async (req, res) => {
    const report = await readiness();
    if (report.ready) {
      res.json({ status: 'ready', database: report.database, migrations: report.migrations, exports });
      return;
    }
    req.log.warn({ reason: report.reason, detail: report.detail }, 'not ready');
    res.status(503).json({ ...errorBody(req, 'NOT_READY', report.detail), status: 'not_ready', reason: report.reason });
  });

  router.get('/metrics', async (_req, res) => {
    const body = await metrics.registry.metrics();
    res.type(metrics.registry.contentType).send(body);
  });

  let openApiJson: string | undefined;
  router.get('/openapi.json', (_req, res) => {
    openApiJson ??= JSON.stringify(buildOpenApiDocument());
    res.type('application/json').send(openApiJson);
  });

  return router;
}
