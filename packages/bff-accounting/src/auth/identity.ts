import type { Request } from 'express';
import type { JWTPayload } from 'jose';
import { InvalidTokenError } from '@accounting/service-core-accounting';
import { TENANT_ID_PATTERN, type JwtAuthConfig } from '../config.js';

/** What a user id (and a role shown in a message) may look like: 1-128 characters of `[A-Za-z0-9._@:-]`. */
export const SANE_IDENTITY_VALUE = /^[A-Za-z0-9._@:-]{1,128}$/;

/**
 * Who a request says it is, before the policy bridge decides what it may do: taken from the
 * headers (`AUTH_MODE=headers`) or from a verified bearer token (`AUTH_MODE=jwt`).
 */
export interface ClaimedIdentity {
  readonly tenant: string | undefined;
  /** The incoming role, before `OS_ROLE_MAP_JSON`. */
  readonly role: string | undefined;
  /** The actor id recorded in the audit trail; `undefined` unless sane. */
  readonly userId: string | undefined;
}

/** `AUTH_MODE=headers`: `X-Tenant`, `X-User-Role` and `X-User-Id` as the gateway sent them. */
export function headerIdentity(req: Request): ClaimedIdentity {
  const userId = req.get('x-user-id');
  return {
    tenant: req.get('x-tenant'),
    role: req.get('x-user-role'),
    userId: userId !== undefined && SANE_IDENTITY_VALUE.test(userId) ? userId : undefined,
  };
}

function claim(payload: JWTPayload, name: string): unknown {
  return Object.hasOwn(payload, name) ? payload[name] : undefined;
}

/**
 * `AUTH_MODE=jwt`: the identity in a verified token's claims (`AUTH_TENANT_CLAIM`,
 * `AUTH_ROLE_CLAIM`, `AUTH_USER_CLAIM`, each a top-level claim). A tenant or user claim that is
 * missing or malformed makes the token invalid; a missing role is left to the policy bridge
 * (403 ROLE_NOT_MAPPED), as a missing `X-User-Role` is.
 */
export function identityFromClaims(payload: JWTPayload, claims: JwtAuthConfig['claims']): ClaimedIdentity {
  const tenant = claim(payload, claims.tenant);
  if (typeof tenant !== 'string' || !TENANT_ID_PATTERN.test(tenant)) {
    throw new InvalidTokenError(`tenant claim "${claims.tenant}" missing or not 1-63 characters of [a-z0-9_-]`);
  }
  const userId = claim(payload, claims.user);
  if (typeof userId !== 'string' || !SANE_IDENTITY_VALUE.test(userId)) {
    throw new InvalidTokenError(`user claim "${claims.user}" missing or not 1-128 characters of [A-Za-z0-9._@:-]`);
  }
  const role = claim(payload, claims.role);
  return { tenant, role: typeof role === 'string' ? role : undefined, userId };
}
