/**
 * Every `error_code` a route can answer with, its status and when (docs/API.md "Errors").
 * The OpenAPI document lists, per route and status, which of these the route can answer.
 */
export const ERROR_CODES = {
  TENANT_REQUIRED: { status: 400, when: 'no `X-Tenant`' },
  INVALID_TENANT: { status: 400, when: '`X-Tenant` is not 1-63 characters of `[a-z0-9_-]`' },
  INVALID_JSON: { status: 400, when: 'the body is not valid JSON' },
  JSON_TOO_DEEP: { status: 400, when: 'the JSON body nests arrays and objects more than 64 levels deep' },
  VALIDATION_FAILED: { status: 400, when: 'query, path or body does not match the schema; `issues: [{path, message}]`' },
  IDEMPOTENCY_KEY_REQUIRED: { status: 400, when: 'no `Idempotency-Key`' },
  INVALID_IDEMPOTENCY_KEY: { status: 400, when: 'the key is not 1-255 printable ASCII characters' },
  INVALID_REQUEST: { status: 400, when: 'the body could not be read completely (the client stopped sending, a wrong `Content-Length`, a corrupt compressed body)' },
  AUTH_REQUIRED: { status: 401, when: '`AUTH_MODE=jwt` and no `Authorization: Bearer` token; `WWW-Authenticate` names the realm' },
  AUTH_INVALID_TOKEN: {
    status: 401,
    when: '`AUTH_MODE=jwt` and the token is refused (signature, unknown `kid`, issuer, audience, expired, not yet valid, algorithm, tenant or user claim missing or malformed); `WWW-Authenticate` says `error="invalid_token"`',
  },
  TENANT_NOT_ENABLED: { status: 403, when: 'tenant not in `OS_TENANT_ALLOWLIST_JSON`; `tenant` echoed' },
  ROLE_NOT_MAPPED: { status: 403, when: "`X-User-Role` (with `AUTH_MODE=jwt`: the token's role claim) missing or not in `OS_ROLE_MAP_JSON`" },
  FORBIDDEN: { status: 403, when: "the role lacks the route's permission; `permission`, `role`" },
  IDENTITY_MISMATCH: { status: 403, when: "`AUTH_MODE=jwt` and `X-Tenant` or `X-User-Role` was sent and differs from the token's (a role may only narrow it); `header`" },
  CONNECTION_NOT_ASSIGNED: { status: 403, when: 'the bank connection is not assigned to the tenant (`BANK_SBX_CONNECTIONS_JSON`); `source`, `connection_id`' },
  NOT_FOUND: { status: 404, when: 'no such record for this tenant (the same answer whether missing or another tenant’s)' },
  SOURCE_CONNECTION_LOCKED: { status: 409, when: 'a source holding synced data cannot move to another connection' },
  CONNECTION_IN_USE: { status: 409, when: "the bank connection is assigned to the tenant but still recorded as another tenant's; `connection_id`" },
  SUGGESTION_ALREADY_DECIDED: { status: 409, when: 'the suggestion was decided; run reconciliation for a new one' },
  ENTRY_ALREADY_MATCHED: {
    status: 409,
    when: 'the entry is matched to another transaction (confirmed or auto-matched) and the confirm did not say `replace`; `entry_id`, `matched_suggestion_id`, `matched_source`, `matched_external_id`, `matched_by`',
  },
  GROUP_CHANGED: {
    status: 409,
    when: "a group confirm found the group changed: a split's other line is decided, removed or no longer suggests the same split (or the suggestion changed meanwhile); run reconciliation again",
  },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, when: 'a request with the same key is still running; retry shortly' },
  PAYLOAD_TOO_LARGE: { status: 413, when: 'body over `REQUEST_BODY_LIMIT`' },
  UNSUPPORTED_ENCODING: { status: 415, when: 'body encoding or charset not supported (JSON bodies are UTF-8)' },
  ENTRY_NOT_A_CANDIDATE: { status: 422, when: "the chosen entry is not among the suggestion's candidates; `candidates`" },
  NOT_A_GROUP: { status: 422, when: 'a confirm with `group: true` of a suggestion without a group candidate (a batch or a split)' },
  TRANSACTION_PENDING: { status: 422, when: 'a pending bank transaction cannot be confirmed' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, when: 'the key was used for another request (other body or route)' },
  EXPORTS_BUSY: { status: 429, when: '`EXPORT_MAX_CONCURRENT` exports already stream on this instance; `Retry-After` says when to retry' },
  INTERNAL: { status: 500, when: 'anything unexpected; quote the `request_id`' },
  DATABASE_UNAVAILABLE: {
    status: 503,
    when: 'the database is unavailable for now (restarting, failing over, a timeout, no free connection) or not yet migrated after a start; `reason`; `Retry-After` says when to retry',
  },
  AUTH_UNAVAILABLE: { status: 503, when: '`AUTH_MODE=jwt` and the token signing keys (`AUTH_JWKS_URL`) cannot be fetched; `Retry-After` says when to retry' },
  EXPORTS_DISABLED: { status: 503, when: '`EXPORT_SIGN_SECRET` is not set' },
  NOT_READY: { status: 503, when: 'not ready; `reason`' },
} as const satisfies Record<string, { status: number; when: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Codes every `/v1` route can answer: the policy gate's, and the unexpected. */
export const GATE_ERRORS: readonly ErrorCode[] = [
  'AUTH_REQUIRED',
  'AUTH_INVALID_TOKEN',
  'IDENTITY_MISMATCH',
  'AUTH_UNAVAILABLE',
  'TENANT_REQUIRED',
  'INVALID_TENANT',
  'TENANT_NOT_ENABLED',
  'ROLE_NOT_MAPPED',
  'FORBIDDEN',
  'INTERNAL',
  'DATABASE_UNAVAILABLE',
];

/** Codes of reading a request body. */
export const BODY_ERRORS: readonly ErrorCode[] = ['INVALID_JSON', 'JSON_TOO_DEEP', 'INVALID_REQUEST', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_ENCODING'];

/** Codes of an idempotent write (docs/IDEMPOTENCY.md). */
export const IDEMPOTENCY_ERRORS: readonly ErrorCode[] = [
  'IDEMPOTENCY_KEY_REQUIRED',
  'INVALID_IDEMPOTENCY_KEY',
  'IDEMPOTENCY_IN_PROGRESS',
  'IDEMPOTENCY_KEY_REUSED',
];
