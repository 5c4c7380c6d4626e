import { Router } from 'express';
import { NotFoundError } from '@accounting/service-core-accounting';
import type { Config } from '../config.js';
import { API_ROUTES } from '../policy/permissions.js';
import { addRoute, policyOf } from './route.js';

interface SourceView {
  source: string;
  kind: 'bank_sbx';
  connection_id: string;
  enabled: boolean;
}

/**
 * The tenant's external sources (`/v1/accounting/os/sources`). Until the sync issue lands
 * they come from `BANK_SBX_CONNECTIONS_JSON`, without sync state.
 */
export function createSourcesRouter({ config }: { config: Config }): Router {
  const router = Router();

  const sourcesOf = (tenant: string): SourceView[] => {
    const connectionId = config.bankSandbox.connections[tenant];
    return connectionId ? [{ source: 'bank_sbx', kind: 'bank_sbx', connection_id: connectionId, enabled: true }] : [];
  };

  addRoute(router, API_ROUTES.listSources, (req, res) => {
    const { tenant } = policyOf(req);
    res.json({ tenant, sources: sourcesOf(tenant) });
  });

  addRoute(router, API_ROUTES.getSource, (req, res) => {
    const { tenant } = policyOf(req);
    const source = sourcesOf(tenant).find((s) => s.source === req.params.source);
    // The same answer whether the source is missing or belongs to another tenant.
    if (!source) throw new NotFoundError('no such source');
    res.json({ tenant, ...source });
  });

  return router;
}
