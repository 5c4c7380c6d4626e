import { Router } from 'express';
import type { Config } from '../config.js';
import { API_ROUTES } from '../policy/permissions.js';
import { addRoute, policyOf } from './route.js';

/**
 * The tenant's external sources (`GET /v1/accounting/os/sources`). Until the sync issue lands
 * they come from `BANK_SBX_CONNECTIONS_JSON`, without sync state.
 */
export function createSourcesRouter({ config }: { config: Config }): Router {
  const router = Router();

  addRoute(router, API_ROUTES.listSources, (req, res) => {
    const { tenant } = policyOf(req);
    const connectionId = config.bankSandbox.connections[tenant];
    const sources = connectionId
      ? [{ source: 'bank_sbx', kind: 'bank_sbx', connection_id: connectionId, enabled: true }]
      : [];
    res.json({ tenant, sources });
  });

  return router;
}
