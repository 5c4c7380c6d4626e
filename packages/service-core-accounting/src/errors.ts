/**
 * Domain errors. They say what went wrong in the product's terms and carry a stable
 * `code` (the API's `error_code`) and a `kind`; they know nothing of HTTP. The BFF maps
 * `kind` to a status code in one place.
 */
export type ErrorKind =
  | 'invalid_input'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'busy'
  | 'unavailable';

export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly kind: ErrorKind;
  /** Extra fields for the error body (never secrets, never stack traces). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

/** One problem with an input field, as the API reports it. */
export interface ValidationIssue {
  path: string;
  message: string;
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_FAILED';
  readonly kind = 'invalid_input';
  constructor(message: string, readonly issues: readonly ValidationIssue[] = []) {
    super(message, { issues });
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  readonly kind = 'not_found';
}

/** A domain error whose code the raiser names (the kind is the subclass's). */
abstract class CodedError extends DomainError {
  readonly code: string;
  constructor(message: string, code: string, details: Record<string, unknown> = {}) {
    super(message, details);
    this.code = code;
  }
}

/** A request input outside the body failed validation, with its own error code (400). */
export class InvalidInputError extends CodedError {
  readonly kind = 'invalid_input';
}

export class ConflictError extends CodedError {
  readonly kind = 'conflict';
  constructor(message: string, code = 'CONFLICT', details: Record<string, unknown> = {}) {
    super(message, code, details);
  }
}

/** The request is well-formed but cannot be processed as it stands (422). */
export class UnprocessableError extends CodedError {
  readonly kind = 'unprocessable';
}

/**
 * This instance is already doing as much of this kind of work as it takes at once; the same
 * request may succeed after `retryAfterSeconds` (429).
 */
export class BusyError extends CodedError {
  readonly kind = 'busy';
  constructor(message: string, code: string, readonly retryAfterSeconds: number) {
    super(message, code);
  }
}

export class ServiceUnavailableError extends CodedError {
  readonly kind = 'unavailable';
  constructor(message: string, code = 'UNAVAILABLE', details: Record<string, unknown> = {}) {
    super(message, code, details);
  }
}

/** The request names no tenant (`X-Tenant` missing or empty). */
export class TenantRequiredError extends DomainError {
  readonly code = 'TENANT_REQUIRED';
  readonly kind = 'invalid_input';
  constructor() {
    super('X-Tenant header is required');
  }
}

/** The tenant id is not 1-63 characters of [a-z0-9_-]. */
export class InvalidTenantError extends DomainError {
  readonly code = 'INVALID_TENANT';
  readonly kind = 'invalid_input';
  constructor() {
    super('X-Tenant must be 1-63 characters of a-z, 0-9, "_" or "-"');
  }
}

/** The tenant is valid but not enabled for this deployment (pilot allowlist). */
export class TenantNotEnabledError extends DomainError {
  readonly code = 'TENANT_NOT_ENABLED';
  readonly kind = 'forbidden';
  constructor(readonly tenant: string) {
    super(`tenant ${tenant} is not enabled for this service`, { tenant });
  }
}

/** The caller's role is missing or has no mapping to an internal role. */
export class RoleNotMappedError extends DomainError {
  readonly code = 'ROLE_NOT_MAPPED';
  readonly kind = 'forbidden';
  constructor(role: string | undefined) {
    super(role ? `role ${role} is not mapped to an internal role` : 'X-User-Role header is required', role ? { role } : {});
  }
}

/** The caller's internal role lacks the permission the route needs. */
export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
  readonly kind = 'forbidden';
  constructor(readonly permission: string, role: string) {
    super(`role ${role} lacks permission ${permission}`, { permission, role });
  }
}

/**
 * A source names a bank connection the operator did not assign to the tenant
 * (`BANK_SBX_CONNECTIONS_JSON`): using it would sync another tenant's bank data.
 */
export class ConnectionNotAssignedError extends DomainError {
  readonly code = 'CONNECTION_NOT_ASSIGNED';
  readonly kind = 'forbidden';
  constructor(source: string, connectionId: string) {
    super(`connection ${connectionId} is not assigned to this tenant`, { source, connection_id: connectionId });
  }
}

/** The request carries no bearer token where one is required (`AUTH_MODE=jwt`). */
export class AuthenticationRequiredError extends DomainError {
  readonly code = 'AUTH_REQUIRED';
  readonly kind = 'unauthorized';
  constructor() {
    super('a bearer token is required: Authorization: Bearer <token>');
  }
}

/**
 * The bearer token was refused: bad signature, unknown key, wrong issuer or audience, expired,
 * not yet valid, a refused algorithm, or identity claims missing or malformed. `problem` is one
 * of the verifier's fixed phrases, never the token or a claim value.
 */
export class InvalidTokenError extends DomainError {
  readonly code = 'AUTH_INVALID_TOKEN';
  readonly kind = 'unauthorized';
  constructor(readonly problem: string) {
    super(`the bearer token is not valid: ${problem}`);
  }
}

/**
 * `X-Tenant` or `X-User-Role` was sent beside a verified token and says something else than the
 * token (another tenant, or a role with more permissions than the token's).
 */
export class IdentityMismatchError extends DomainError {
  readonly code = 'IDENTITY_MISMATCH';
  readonly kind = 'forbidden';
  constructor(header: 'X-Tenant' | 'X-User-Role') {
    super(
      header === 'X-Tenant' ? "X-Tenant differs from the token's tenant" : "X-User-Role differs from the token's role and is not a narrower one",
      { header },
    );
  }
}

/**
 * The keys that verify bearer tokens could not be fetched (the key set URL is down); retry
 * later. `reason` says why, for the log (not sent to the client).
 */
export class AuthUnavailableError extends DomainError {
  readonly code = 'AUTH_UNAVAILABLE';
  readonly kind = 'unavailable';
  constructor(readonly retryAfterSeconds: number, readonly reason: string) {
    super('the token signing keys cannot be fetched right now; retry later');
  }
}
