import type { Request, RequestHandler } from 'express';
import { match } from 'path-to-regexp';
import {
  InvalidTenantError,
  NotFoundError,
  RoleNotMappedError,
  TenantNotEnabledError,
  TenantRequiredError,
  ForbiddenError,
  type DomainError,
} from '@accounting/service-core-accounting';
import { TENANT_ID_PATTERN, type Config, type InternalRole } from '../config.js';
import type { Metrics, PolicyReason } from '../metrics.js';
import { roleHasPermission, type ApiRoute } from '../policy/permissions.js';
import type { PolicyContext } from '../types.js';

export interface OsPolicyBridgeOptions {
  policy: Config['policy'];
  /** The policy table's routes; a request matching none is denied (404 NOT_FOUND). */
  routes: readonly ApiRoute[];
  metrics: Metrics;
}

const SANE_HEADER_VALUE = /^[A-Za-z0-9._@:-]{1,128}$/;

function saneHeader(req: Request, name: string): string | undefined {
  const value = req.get(name);
  return value !== undefined && SANE_HEADER_VALUE.test(value) ? value : undefined;
}

interface Denial {
  error: DomainError;
  reason: PolicyReason;
}

/**
 * Gates every `/v1` request by tenant and role before any handler runs, in this order:
 * `X-Tenant` present (400 TENANT_REQUIRED) and well-formed (400 INVALID_TENANT); tenant in
 * `OS_TENANT_ALLOWLIST_JSON` (403 TENANT_NOT_ENABLED); `X-User-Role` mapped by
 * `OS_ROLE_MAP_JSON` (403 ROLE_NOT_MAPPED); route listed in the policy table (404 NOT_FOUND);
 * role holds the route's permission (403 FORBIDDEN).
 *
 * With `OS_POLICY_BRIDGE_ENFORCE=false` (shadow mode) the three policy denials are logged and
 * counted as `shadow_deny` but let through; malformed tenants and unlisted routes are always
 * refused, since no handler could serve them safely. On success `req.policy` holds
 * `{tenant, role, userId}`; handlers never read the headers themselves.
 */
export function osPolicyBridge({ policy, routes, metrics }: OsPolicyBridgeOptions): RequestHandler {
  const allowlist = policy.tenantAllowlist ? new Set(policy.tenantAllowlist) : undefined;
  const table = routes.map((route) => ({ route, matches: match(route.path) }));
  // The series every allowed request counts in, looked up once (this runs on every /v1 request).
  const allowed = metrics.tally.series(metrics.policyDecisions, 'allow', 'OK');

  const findRoute = (method: string, path: string): ApiRoute | undefined => {
    const wanted = method === 'HEAD' ? 'GET' : method;
    for (const { route, matches } of table) {
      try {
        if (route.method === wanted && matches(path)) return route;
      } catch {
        return undefined; // malformed percent-encoding: matches no route
      }
    }
    return undefined;
  };

  const mapRole = (role: string | undefined): InternalRole | undefined =>
    role !== undefined && Object.hasOwn(policy.roleMap, role) ? policy.roleMap[role] : undefined;

  const deny = (req: Request, denial: Denial, tenant: string | undefined, enforced: boolean) => {
    metrics.policyDecisions.inc({ decision: enforced ? 'deny' : 'shadow_deny', reason: denial.reason });
    req.log.warn(
      {
        error_code: denial.error.code,
        tenant: tenant ?? req.get('x-tenant')?.slice(0, 100),
        role: req.get('x-user-role')?.slice(0, 100),
        enforce: enforced,
        ...denial.error.details,
      },
      `${enforced ? 'policy denied' : 'policy would deny (shadow mode)'}: ${denial.error.code}`,
    );
  };

  return (req, res, next) => {
    const route = findRoute(req.method, req.baseUrl + req.path);
    if (route) res.locals.routeLabel = route.path;

    const tenant = req.get('x-tenant');
    if (!tenant) {
      deny(req, { error: new TenantRequiredError(), reason: 'TENANT_REQUIRED' }, undefined, true);
      throw new TenantRequiredError();
    }
    if (!TENANT_ID_PATTERN.test(tenant)) {
      deny(req, { error: new InvalidTenantError(), reason: 'INVALID_TENANT' }, undefined, true);
      throw new InvalidTenantError();
    }

    const incomingRole = req.get('x-user-role');
    const role = mapRole(incomingRole);
    const context: PolicyContext = { tenant, role, userId: saneHeader(req, 'x-user-id') };

    let policyDenial: Denial | undefined;
    if (allowlist && !allowlist.has(tenant)) {
      policyDenial = { error: new TenantNotEnabledError(tenant), reason: 'TENANT_NOT_ENABLED' };
    } else if (!role) {
      const shownRole = incomingRole !== undefined && SANE_HEADER_VALUE.test(incomingRole) ? incomingRole : undefined;
      policyDenial = { error: new RoleNotMappedError(shownRole), reason: 'ROLE_NOT_MAPPED' };
    }
    if (policyDenial && policy.enforce) {
      deny(req, policyDenial, tenant, true);
      throw policyDenial.error;
    }
    if (!route) {
      const error = new NotFoundError(`no route for ${req.method} ${(req.baseUrl + req.path).slice(0, 200)}`);
      deny(req, { error, reason: 'NOT_FOUND' }, tenant, true);
      throw error;
    }
    if (!policyDenial && role && !roleHasPermission(role, route.permission)) {
      policyDenial = { error: new ForbiddenError(route.permission, role), reason: 'FORBIDDEN' };
      if (policy.enforce) {
        deny(req, policyDenial, tenant, true);
        throw policyDenial.error;
      }
    }

    if (policyDenial) deny(req, policyDenial, tenant, false);
    else allowed.inc();
    req.policy = context;
    next();
  };
}
