import express, { type Express, type RequestHandler } from 'express';
import type { Db } from '@accounting/data-pg';
import type { ReconRunner } from '@accounting/service-core-accounting';
import { createBearerAuthenticator } from './auth/authenticateBearer.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { errorHandler, notFound, requireDatabasePrepared } from './middleware/errors.js';
import { jsonBody } from './middleware/jsonBody.js';
import { osPolicyBridge } from './middleware/osPolicyBridge.js';
import { requestContext } from './middleware/requestContext.js';
import { installRequestLog } from './middleware/requestLogger.js';
import { inSeries, underPrefix } from './middleware/compose.js';
import { API_ROUTES } from './policy/permissions.js';
import type { Lifecycle, ReadinessReport } from './readiness.js';
import { createAuditRouter } from './routes/auditRouter.js';
import { createBackofficeRouter } from './routes/backofficeRouter.js';
import { createExportsRouter } from './routes/exportsRouter.js';
import { createOpsRouter } from './routes/opsRouter.js';
import { createReconAliasesRouter } from './routes/reconAliasesRouter.js';
import { createReconRouter } from './routes/reconRouter.js';
import { createSourcesRouter } from './routes/sourcesRouter.js';
import './types.js';

/** Everything the app needs, built by `main` (or by a test). */
export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  metrics: Metrics;
  readiness: () => Promise<ReadinessReport>;
  lifecycle: Lifecycle;
  /** Takes the reconciliation runs the API queues (`main` also starts its polling). */
  reconRuns: ReconRunner;
}

/**
 * What runs ahead of every route, as one layer (each layer costs every request a dispatch):
 * the request context for all requests, then the policy gate (which verifies the bearer token
 * first with `AUTH_MODE=jwt`), the start-up gate (503 until the database is migrated) and the
 * JSON body for `/v1`.
 * `bench/servers.mjs` measures exactly this.
 */
export function aheadOfRoutes({ config, logger, metrics, lifecycle }: Pick<AppDeps, 'config' | 'logger' | 'metrics' | 'lifecycle'>): RequestHandler {
  const { auth, policy } = config;
  const authenticate = auth.mode === 'jwt' ? createBearerAuthenticator({ jwt: auth.jwt, roleMap: policy.roleMap }) : undefined;
  return inSeries(
    requestContext({ logger, metrics, lifecycle }),
    underPrefix(
      '/v1',
      osPolicyBridge({ policy, routes: Object.values(API_ROUTES), metrics, authenticate }),
      requireDatabasePrepared(lifecycle),
      jsonBody(config.requestBodyLimit),
    ),
  );
}

/** Builds the Express app without listening; `request(createApp(deps))` works in tests. */
export function createApp(deps: AppDeps): Express {
  const { config, db, logger, metrics, lifecycle } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  installRequestLog(app, logger);
  app.use(aheadOfRoutes({ config, logger, metrics, lifecycle }));
  app.use(createAuditRouter({ db, config }));
  app.use(createSourcesRouter({ db, config }));
  app.use(createExportsRouter({ db, config }));
  app.use(createReconRouter({ db, reconRuns: deps.reconRuns }));
  app.use(createReconAliasesRouter({ db }));
  // After the API: the /v1 requests, which are the traffic, never walk through it.
  app.use(createOpsRouter({ metrics, readiness: deps.readiness, exports: config.exportSigning.secret ? 'enabled' : 'disabled' }));

  app.use(createBackofficeRouter(config.backoffice));
  app.use(notFound());
  app.use(errorHandler());
  return app;
}

export type { Config } from './config.js';
export { loadConfig, ConfigError } from './config.js';
export { createMetrics } from './metrics.js';
export { createLogger } from './logger.js';
