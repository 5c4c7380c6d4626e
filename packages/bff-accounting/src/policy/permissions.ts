import type { InternalRole } from '../config.js';

/**
 * The one policy table. Every `/v1` route is listed here with the permission it needs;
 * routers register their handlers from these entries, and `osPolicyBridge` denies anything
 * not listed. docs/POLICY.md mirrors this file.
 */
export const PERMISSIONS = [
  'audit:read',
  'audit:verify',
  'manual_review:create',
  'exports:read',
  'sources:read',
  'sources:write',
  'ledger:read',
  'ledger:write',
  'recon:read',
  'recon:run',
  'recon:decide',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Which internal roles hold which permission. Nothing is granted implicitly. */
export const ROLE_PERMISSIONS: Readonly<Record<InternalRole, readonly Permission[]>> = {
  viewer: ['sources:read'],
  operator: ['audit:read', 'manual_review:create', 'sources:read', 'ledger:read', 'ledger:write', 'recon:read', 'recon:run', 'recon:decide'],
  auditor: ['audit:read', 'audit:verify', 'exports:read', 'sources:read', 'ledger:read', 'recon:read'],
  admin: [...PERMISSIONS],
};

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ApiRoute {
  readonly method: HttpMethod;
  /** Express path pattern, also the `route` label of the HTTP metrics. */
  readonly path: string;
  readonly permission: Permission;
}

/** Every `/v1` route, by name. Add a route here first; unlisted routes are unreachable. */
export const API_ROUTES = {
  listAuditEvents: { method: 'GET', path: '/v1/accounting/audit', permission: 'audit:read' },
  createManualReview: { method: 'POST', path: '/v1/accounting/audit/manual-review', permission: 'manual_review:create' },
  verifyAuditChain: { method: 'GET', path: '/v1/accounting/audit/verify', permission: 'audit:verify' },
  listSources: { method: 'GET', path: '/v1/accounting/os/sources', permission: 'sources:read' },
  getSource: { method: 'GET', path: '/v1/accounting/os/sources/:source', permission: 'sources:read' },
  putSource: { method: 'PUT', path: '/v1/accounting/os/sources/:source', permission: 'sources:write' },
  exportAuditEvents: { method: 'GET', path: '/v1/accounting/exports/audit', permission: 'exports:read' },
  getExportSignature: { method: 'GET', path: '/v1/accounting/exports/:exportId/signature', permission: 'exports:read' },
  verifyExport: { method: 'POST', path: '/v1/accounting/exports/verify', permission: 'exports:read' },
  importLedgerEntries: { method: 'POST', path: '/v1/accounting/ledger-entries', permission: 'ledger:write' },
  listLedgerEntries: { method: 'GET', path: '/v1/accounting/ledger-entries', permission: 'ledger:read' },
  runRecon: { method: 'POST', path: '/v1/accounting/recon/run', permission: 'recon:run' },
  getReconRun: { method: 'GET', path: '/v1/accounting/recon/runs/:runId', permission: 'recon:read' },
  listReconSuggestions: { method: 'GET', path: '/v1/accounting/recon/suggestions', permission: 'recon:read' },
  decideReconSuggestion: { method: 'POST', path: '/v1/accounting/recon/suggestions/:id/decision', permission: 'recon:decide' },
  listReconAliases: { method: 'GET', path: '/v1/accounting/recon/aliases', permission: 'recon:read' },
  deleteReconAlias: { method: 'DELETE', path: '/v1/accounting/recon/aliases/:id', permission: 'recon:decide' },
} as const satisfies Record<string, ApiRoute>;

export type ApiRouteName = keyof typeof API_ROUTES;

/** Whether `role` holds `permission`; unknown roles and permissions hold nothing. */
export function roleHasPermission(role: InternalRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role]?.includes(permission) ?? false;
}
