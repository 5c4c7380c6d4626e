import type { Request, RequestHandler } from 'express';
import { match } from 'path-to-regexp';
import {
  AuthUnavailableError,
  DomainError,
  InvalidTenantError,
  InvalidTokenError,
  NotFoundError,
  RoleNotMappedError,
  TenantNotEnabledError,
  TenantRequiredError,
  ForbiddenError,
} from '@accounting/service-core-accounting';
import type { Authenticate } from '../auth/authenticateBearer.js';
import { headerIdentity, SANE_IDENTITY_VALUE, type ClaimedIdentity } from '../auth/identity.js';
import { TENANT_ID_PATTERN, type Config, type InternalRole } from '../config.js';
import type { Metrics, PolicyReason } from '../metrics.js';
import { roleHasPermission, type ApiRoute } from '../policy/permissions.js';
import type { PolicyContext } from '../types.js';

export interface OsPolicyBridgeOptions {
  policy: Config['policy'];
  /** The policy table's routes; a request matching none is denied (404 NOT_FOUND). */
  routes: readonly ApiRoute[];
  metrics: Metrics;
  /**
   * `AUTH_MODE=jwt`: resolves the identity from the verified bearer token (`createBearerAuthenticator`).
   * Absent (`AUTH_MODE=headers`): the identity headers are trusted as sent.
   */
  authenticate?: Authenticate;
}

/** The refusals of authentication: always enforced, whatever `OS_POLICY_BRIDGE_ENFORCE` says. */
const AUTH_REASONS = new Set<string>(['AUTH_REQUIRED', 'AUTH_INVALID_TOKEN', 'AUTH_UNAVAILABLE', 'IDENTITY_MISMATCH'] satisfies PolicyReason[]);

function isAuthDenial(err: unknown): err is DomainError & { code: PolicyReason } {
  return err instanceof DomainError && AUTH_REASONS.has(err.code);
}

interface Denial {
  error: DomainError;
  reason: PolicyReason;
}

/**
 * Gates every `/v1` request by identity, tenant and role before any handler runs. With
 * `authenticate` (`AUTH_MODE=jwt`) the identity is the bearer token's, and refusing it (401
 * AUTH_REQUIRED, 401 AUTH_INVALID_TOKEN, 403 IDENTITY_MISMATCH, 503 AUTH_UNAVAILABLE) comes
 * first and is always enforced; without, it is the headers'. Then, in this order:
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
export function osPolicyBridge({ policy, routes, metrics, authenticate }: OsPolicyBridgeOptions): RequestHandler {
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

  const deny = (req: Request, denial: Denial, claimed: Partial<ClaimedIdentity>, enforced: boolean) => {
    metrics.policyDecisions.inc({ decision: enforced ? 'deny' : 'shadow_deny', reason: denial.reason });
    const { error } = denial;
    req.log.warn(
      {
        error_code: error.code,
        tenant: claimed.tenant?.slice(0, 100),
        role: claimed.role?.slice(0, 100),
        enforce: enforced,
        ...error.details,
        ...(error instanceof InvalidTokenError ? { problem: error.problem } : {}),
        ...(error instanceof AuthUnavailableError ? { problem: error.reason } : {}),
      },
      `${enforced ? 'policy denied' : 'policy would deny (shadow mode)'}: ${error.code}`,
    );
  };

  /** The decision on an identity (the headers', or a verified token's); throws the denial. */
  const admit = (req: Request, route: ApiRoute | undefined, claimed: ClaimedIdentity): void => {
    const { tenant } = claimed;
    if (!tenant) {
      deny(req, { error: new TenantRequiredError(), reason: 'TENANT_REQUIRED' }, claimed, true);
      throw new TenantRequiredError();
    }
    if (!TENANT_ID_PATTERN.test(tenant)) {
      deny(req, { error: new InvalidTenantError(), reason: 'INVALID_TENANT' }, claimed, true);
      throw new InvalidTenantError();
    }

    const incomingRole = claimed.role;
    const role = mapRole(incomingRole);
    const context: PolicyContext = { tenant, role, userId: claimed.userId };

    let policyDenial: Denial | undefined;
    if (allowlist && !allowlist.has(tenant)) {
      policyDenial = { error: new TenantNotEnabledError(tenant), reason: 'TENANT_NOT_ENABLED' };
    } else if (!role) {
      const shownRole = incomingRole !== undefined && SANE_IDENTITY_VALUE.test(incomingRole) ? incomingRole : undefined;
      policyDenial = { error: new RoleNotMappedError(shownRole), reason: 'ROLE_NOT_MAPPED' };
    }
    if (policyDenial && policy.enforce) {
      deny(req, policyDenial, claimed, true);
      throw policyDenial.error;
    }
    if (!route) {
      const error = new NotFoundError(`no route for ${req.method} ${(req.baseUrl + req.path).slice(0, 200)}`);
      deny(req, { error, reason: 'NOT_FOUND' }, claimed, true);
      throw error;
    }
    if (!policyDenial && role && !roleHasPermission(role, route.permission)) {
      policyDenial = { error: new ForbiddenError(route.permission, role), reason: 'FORBIDDEN' };
      if (policy.enforce) {
        deny(req, policyDenial, claimed, true);
        throw policyDenial.error;
      }
    }

    if (policyDenial) deny(req, policyDenial, claimed, false);
    else allowed.inc();
    req.policy = context;
  };

  if (!authenticate) {
    // The headers' identity needs no I/O: the whole decision stays synchronous on this hot path.
    return (req, res, next) => {
      const route = findRoute(req.method, req.baseUrl + req.path);
      if (route) res.locals.routeLabel = route.path;
      admit(req, route, headerIdentity(req));
      next();
    };
  }
  return async (req, res, next) => {
    const route = findRoute(req.method, req.baseUrl + req.path);
    if (route) res.locals.routeLabel = route.path;
    let claimed: ClaimedIdentity;
    try {
      claimed = await authenticate(req);
    } catch (err) {
      if (isAuthDenial(err)) deny(req, { error: err, reason: err.code }, {}, true);
      throw err;
    }
    admit(req, route, claimed);
    next();
  };
}
