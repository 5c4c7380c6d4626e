import type { Request } from 'express';
import { AuthenticationRequiredError, IdentityMismatchError, InvalidTokenError } from '@accounting/service-core-accounting';
import type { Config, InternalRole, JwtAuthConfig } from '../config.js';
import { ROLE_PERMISSIONS, roleHasPermission } from '../policy/permissions.js';
import { identityFromClaims, type ClaimedIdentity } from './identity.js';
import { createTokenVerifier, type TokenVerifier } from './verifyBearerToken.js';

/** Resolves who a request is from its bearer token, or rejects with the domain error to answer. */
export type Authenticate = (req: Request) => Promise<ClaimedIdentity>;

export interface BearerAuthenticatorOptions {
  jwt: JwtAuthConfig;
  roleMap: Config['policy']['roleMap'];
  /** The token verifier; built from `jwt` when not given. */
  verify?: TokenVerifier;
}

/** `Bearer <token68>`, the scheme case-insensitive (RFC 6750 section 2.1). */
const BEARER = /^Bearer +(\S*)$/i;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * `AUTH_MODE=jwt`: the identity of a request is its verified bearer token's. No token: 401
 * AUTH_REQUIRED; a refused token: 401 AUTH_INVALID_TOKEN; keys unreachable: 503
 * AUTH_UNAVAILABLE. `X-Tenant` and `X-User-Role` may still be sent, but only to say the same
 * (a role may narrow the token's: one whose permissions the token's role all holds); anything
 * else is 403 IDENTITY_MISMATCH. `X-User-Id` is ignored. The token is never logged or echoed.
 */
export function createBearerAuthenticator({ jwt, roleMap, verify = createTokenVerifier(jwt) }: BearerAuthenticatorOptions): Authenticate {
  const mapRole = (role: string | undefined): InternalRole | undefined =>
    role !== undefined && Object.hasOwn(roleMap, role) ? roleMap[role] : undefined;

  /** Whether the header's role says the token's or less. */
  const narrowsOrEquals = (headerRole: string, tokenRole: string | undefined): boolean => {
    if (headerRole === tokenRole) return true;
    const wanted = mapRole(headerRole);
    const held = mapRole(tokenRole);
    return wanted !== undefined && held !== undefined && ROLE_PERMISSIONS[wanted].every((permission) => roleHasPermission(held, permission));
  };

  return async (req) => {
    const authorization = req.get('authorization');
    const scheme = authorization === undefined ? undefined : BEARER.exec(authorization);
    if (!scheme || !scheme[1]) throw new AuthenticationRequiredError();
    const token = scheme[1];
    if (!TOKEN68.test(token)) throw new InvalidTokenError('malformed');

    const identity = identityFromClaims(await verify(token), jwt.claims);
    const headerTenant = req.get('x-tenant');
    if (headerTenant !== undefined && headerTenant !== identity.tenant) throw new IdentityMismatchError('X-Tenant');
    const headerRole = req.get('x-user-role');
    if (headerRole === undefined) return identity;
    if (!narrowsOrEquals(headerRole, identity.role)) throw new IdentityMismatchError('X-User-Role');
    return { ...identity, role: headerRole };
  };
}
