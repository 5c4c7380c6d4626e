import { createPublicKey } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Roles the product knows; `OS_ROLE_MAP_JSON` maps the gateway's roles onto these. */
export const INTERNAL_ROLES = ['viewer', 'operator', 'auditor', 'admin'] as const;
export type InternalRole = (typeof INTERNAL_ROLES)[number];

/** Tenant ids: 1-63 characters of [a-z0-9_-], compared exactly. */
export const TENANT_ID_PATTERN = /^[a-z0-9_-]{1,63}$/;

/** A bank connection id, as the bank sandbox contract defines it. */
const CONNECTION_ID_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

/** The Backoffice build beside this package (`src/` and `dist/` both sit one level down). */
const DEFAULT_BACKOFFICE_DIR = fileURLToPath(new URL('../../backoffice-web/dist', import.meta.url));

/**
 * The demo's closed bank connection: assigned to its `default` tenant (so its source fails at the
 * bank with CONNECTION_NOT_FOUND, not here), but never created in the embedded simulator.
 */
export const DEMO_CLOSED_CONNECTION = { tenant: 'default', connectionId: 'conn_default_closed' } as const;

const EMBEDDED_CONNECTIONS: Record<string, readonly string[]> = { default: ['conn_default'], 'pilot-a': ['conn_pilot_a'] };

const DEFAULT_ROLE_MAP: Record<string, InternalRole> = {
  viewer: 'viewer',
  operator: 'operator',
  auditor: 'auditor',
  admin: 'admin',
};

/**
 * A variable holding JSON: parsed, then checked against `shape`. The message names the
 * expected form and never repeats the value (it could be a secret or a huge blob).
 */
function jsonVariable<T extends z.ZodType>(shape: T, expected: string) {
  return z.string().transform((text, ctx): z.output<T> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `not valid JSON; expected ${expected}` });
      return z.NEVER;
    }
    const parsed = shape.safeParse(value);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: `${parsed.error.issues[0]?.message ?? 'wrong shape'}; expected ${expected}` });
      return z.NEVER;
    }
    return parsed.data;
  });
}

const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

const connectionId = z.string().regex(CONNECTION_ID_PATTERN, 'connection ids are 1-128 characters of [A-Za-z0-9_.-]');

const tenantId = z.string().regex(TENANT_ID_PATTERN, 'tenant ids are 1-63 characters of [a-z0-9_-]');
const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'currencies are ISO 4217 codes');
const decimalAmount = z.string().regex(/^\d+(\.\d+)?$/, 'amounts are decimal strings');

/** A secret: checked for length only; zod messages for these never contain the value. */
const signingSecret = z.string().min(32, 'must be at least 32 bytes');

/** How the BFF knows who calls (docs/POLICY.md "Authentication"). */
export const AUTH_MODES = ['headers', 'jwt'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** The JWS algorithms a token may be signed with: asymmetric only, so no shared secret exists to leak or confuse. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

const authAlgorithms = z.string().transform((text, ctx): AsymmetricAlgorithm[] => {
  const names = text.split(',').map((item) => item.trim()).filter(Boolean);
  const known = new Set<string>(ASYMMETRIC_ALGORITHMS);
  if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'name at least one algorithm' });
  else if (!names.every((name) => known.has(name))) {
    ctx.addIssue({ code: 'custom', message: `only asymmetric algorithms are accepted (${ASYMMETRIC_ALGORITHMS.join(', ')}); never HS* or none` });
  }
  return names as AsymmetricAlgorithm[];
});

/** A claim name: what `AUTH_*_CLAIM` may hold. */
const claimName = z.string().regex(/^[A-Za-z0-9_.:/-]{1,128}$/, 'claim names are 1-128 characters of [A-Za-z0-9_.:/-]');

/**
 * `AUTH_PUBLIC_KEY`: a PEM SPKI public key (`-----BEGIN PUBLIC KEY-----`) or one public JWK as
 * JSON. Checked here by loading it, so a bad key stops the start; private and symmetric keys are
 * refused. Messages never repeat the value.
 */
const authPublicKey = z.string().superRefine((text, ctx) => {
  const trimmed = text.trim();
  if (/PRIVATE KEY/.test(trimmed)) {
    ctx.addIssue({ code: 'custom', message: 'is a private key; give the public key (PEM SPKI or a public JWK)' });
    return;
  }
  try {
    if (trimmed.startsWith('{')) {
      const jwk = JSON.parse(trimmed) as Record<string, unknown>;
      if (jwk.kty === 'oct' || 'd' in jwk) throw new Error('not a public key');
      createPublicKey({ key: jwk, format: 'jwk' });
    } else {
      if (!trimmed.startsWith('-----BEGIN PUBLIC KEY-----')) throw new Error('not PEM SPKI');
      createPublicKey(trimmed);
    }
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a public key; expected PEM SPKI (-----BEGIN PUBLIC KEY-----) or one public JWK as JSON' });
  }
});

const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL');

/** The role a PostgreSQL URL logs in as; undefined when it names none (libpq then uses the OS user). */
export function databaseUserOf(url: string): string | undefined {
  try {
    const user = decodeURIComponent(new URL(url).username);
    return user === '' ? undefined : user;
  } catch {
    return undefined;
  }
}

const schema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8081),
    HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    USE_PG: flag.default(false),
    DATABASE_URL: postgresUrl.optional(),
    MIGRATION_DATABASE_URL: postgresUrl.optional(),
    DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
    DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
    DB_LOCK_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
    PGLITE_DATA_DIR: z.string().default('.data/pglite'),
    REQUEST_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/, 'must look like 100kb or 1mb').default('1mb'),
    SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
    SHUTDOWN_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
    HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(120_000).default(10_000),
    HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
    HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(10).max(100_000).default(1_000),
    OS_POLICY_BRIDGE_ENFORCE: z.enum(['true', 'false']).transform((value) => value === 'true').default(true),
    OS_ROLE_MAP_JSON: jsonVariable(
      z.record(z.string().min(1), z.enum(INTERNAL_ROLES, `roles must map to one of ${INTERNAL_ROLES.join(', ')}`)),
      `an object of incoming role to one of ${INTERNAL_ROLES.join('|')}, e.g. {"operator":"operator"}`,
    ).default(DEFAULT_ROLE_MAP),
    OS_TENANT_ALLOWLIST_JSON: jsonVariable(
      z.array(tenantId, 'must be an array'),
      'a JSON array of tenant ids, e.g. ["default","pilot-a"]',
    ).optional(),
    BANK_SBX_BASE: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    BANK_SBX_TOKEN: z.string().optional(),
    BANK_SBX_CONNECTIONS_JSON: jsonVariable(
      z.record(
        tenantId,
        z.preprocess(
          (value) => (typeof value === 'string' ? [value] : value),
          z.array(connectionId, 'a tenant maps to a connection id or an array of them').min(1, 'a tenant needs at least one connection'),
        ),
      ),
      'an object of tenant id to a connection id or an array of them, e.g. {"default":"conn_default","pilot-a":["conn_a1","conn_a2"]}',
    ).optional(),
    BANK_SBX_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
    BANK_SBX_EMBEDDED: flag.default(false),
    SYNC_SINCE_DAYS: z.coerce.number().int().min(1).max(365).optional(),
    SYNC_PAGE_SIZE: z.coerce.number().int().min(1).max(500).default(500),
    SYNC_DEADLINE_SECONDS: z.coerce.number().int().min(10).max(3_600).default(240),
    SYNC_INTERVAL_SECONDS: z.coerce.number().int().min(5).max(3_600).default(60),
    EXTERNAL_SYNC_STALE_MINUTES: z.coerce.number().int().min(1).max(1_440).default(5),
    SYNC_METRICS_REFRESH_MS: z.coerce.number().int().min(0).max(300_000).default(10_000),
    PUSHGATEWAY_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    RECON_AUTO_MATCH_LIMITS_JSON: jsonVariable(
      z.record(tenantId, z.record(currencyCode, decimalAmount)),
      'an object of tenant id to {currency: limit}, e.g. {"default":{"KRW":"1000000"}}',
    ).default({}),
    RECON_HOLIDAYS_JSON: jsonVariable(
      z.record(tenantId, z.record(currencyCode, z.array(z.iso.date()).max(2_000))),
      'an object of tenant id to {currency: ["YYYY-MM-DD", ...]}, e.g. {"default":{"KRW":["2026-12-31"]}}',
    ).default({}),
    RECON_FEE_RULES_JSON: jsonVariable(
      z.record(
        tenantId,
        z.record(
          currencyCode,
          z
            .object({ min: decimalAmount, max: decimalAmount })
            .strict()
            .refine((rule) => Number(rule.min) <= Number(rule.max), 'min must not be above max'),
        ),
      ),
      'an object of tenant id to {currency: {min, max}}, e.g. {"default":{"KRW":{"min":"500","max":"2000"}}}',
    ).default({}),
    FEEDBACK_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    BACKOFFICE_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('http://localhost:8081/backoffice/'),
    BACKOFFICE_DIR: z.string().optional(),
    BACKOFFICE_IDENTITY_PICKER: flag.optional(),
    EXPORT_SIGN_SECRET: signingSecret.optional(),
    EXPORT_SIGN_SECRET_PREV: signingSecret.optional(),
    EXPORT_MAX_CONCURRENT: z.coerce.number().int().min(1).max(64).default(2),
    AUDIT_CHAIN_KEY: signingSecret.optional(),
    AUDIT_CHAIN_KEY_PREV: signingSecret.optional(),
    AUDIT_CHAIN_HEAD_INTERVAL_MS: z.coerce.number().int().min(60_000).max(86_400_000).default(3_600_000),
    NODE_ENV: z.string().optional(),
    AUTH_MODE: z.enum(AUTH_MODES, `must be one of ${AUTH_MODES.join(', ')}`).optional(),
    AUTH_JWKS_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    AUTH_PUBLIC_KEY: authPublicKey.optional(),
    AUTH_ISSUER: z.string().min(1).max(1_000).optional(),
    AUTH_AUDIENCE: z.string().min(1).max(1_000).optional(),
    AUTH_ALGORITHMS: authAlgorithms.default(['RS256', 'PS256', 'ES256', 'EdDSA']),
    AUTH_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
    AUTH_TENANT_CLAIM: claimName.default('tenant'),
    AUTH_ROLE_CLAIM: claimName.default('role'),
    AUTH_USER_CLAIM: claimName.default('sub'),
    AUTH_JWKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    AUTH_JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
    AUTH_JWKS_CACHE_MAX_AGE_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(600_000),
  })
  .superRefine((env, ctx) => {
    if (env.USE_PG && !env.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required when USE_PG=1' });
    }
    if (env.MIGRATION_DATABASE_URL && env.DATABASE_URL && !databaseUserOf(env.DATABASE_URL)) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'must name its user (the role the migrations grant) when MIGRATION_DATABASE_URL is set' });
    }
    const owners = new Map<string, string>();
    for (const [tenant, ids] of Object.entries(env.BANK_SBX_CONNECTIONS_JSON ?? {})) {
      for (const id of ids) {
        const owner = owners.get(id);
        if (owner !== undefined && owner !== tenant) {
          ctx.addIssue({ code: 'custom', path: ['BANK_SBX_CONNECTIONS_JSON'], message: `connection ${id} is assigned to two tenants (${owner}, ${tenant})` });
        }
        owners.set(id, tenant);
      }
    }
    if (env.NODE_ENV === 'production' && !env.AUDIT_CHAIN_KEY) {
      ctx.addIssue({ code: 'custom', path: ['AUDIT_CHAIN_KEY'], message: 'is required when NODE_ENV=production (the audit chain key)' });
    }
    if (env.AUDIT_CHAIN_KEY_PREV && !env.AUDIT_CHAIN_KEY) {
      ctx.addIssue({ code: 'custom', path: ['AUDIT_CHAIN_KEY_PREV'], message: 'needs AUDIT_CHAIN_KEY (the key new rows are chained with)' });
    }
    if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['HTTP_HEADERS_TIMEOUT_MS'], message: 'must not be more than HTTP_REQUEST_TIMEOUT_MS' });
    }
    checkAuth(env, ctx);
  });

/**
 * The identity settings that only make sense together: jwt mode's issuer, audience and key, and
 * the production refusals (an explicit `AUTH_MODE`; with enforcement on, an allowlist).
 */
function checkAuth(env: Env, ctx: z.RefinementCtx): void {
  const production = env.NODE_ENV === 'production';
  if (production && !env.AUTH_MODE) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_MODE'], message: 'is required when NODE_ENV=production: jwt, or headers behind a gateway that sets and strips the identity headers' });
  }
  if (production && env.OS_POLICY_BRIDGE_ENFORCE && !env.OS_TENANT_ALLOWLIST_JSON) {
    ctx.addIssue({ code: 'custom', path: ['OS_TENANT_ALLOWLIST_JSON'], message: 'is required when NODE_ENV=production and OS_POLICY_BRIDGE_ENFORCE=true' });
  }
  if (env.AUTH_MODE !== 'jwt') return;
  for (const name of ['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const) {
    if (!env[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'is required when AUTH_MODE=jwt' });
  }
  if (!env.AUTH_JWKS_URL && !env.AUTH_PUBLIC_KEY) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_JWKS_URL'], message: 'AUTH_JWKS_URL or AUTH_PUBLIC_KEY is required when AUTH_MODE=jwt' });
  } else if (env.AUTH_JWKS_URL && env.AUTH_PUBLIC_KEY) {
    ctx.addIssue({ code: 'custom', path: ['AUTH_PUBLIC_KEY'], message: 'set AUTH_JWKS_URL or AUTH_PUBLIC_KEY, not both' });
  }
  if (env.BACKOFFICE_IDENTITY_PICKER) {
    ctx.addIssue({ code: 'custom', path: ['BACKOFFICE_IDENTITY_PICKER'], message: 'cannot be on with AUTH_MODE=jwt (the identity comes from the token)' });
  }
}

export type Env = z.output<typeof schema>;

/** The service's whole configuration, parsed once at start-up and frozen. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly database:
    | {
        readonly kind: 'pg';
        readonly url: string;
        readonly poolMax: number;
        /** How long to wait for a connection (new or from the pool) before answering 503. */
        readonly connectTimeoutMs: number;
        /** `statement_timeout`, `lock_timeout`, `idle_in_transaction_session_timeout` of every connection (0: none). */
        readonly statementTimeoutMs: number;
        readonly lockTimeoutMs: number;
        readonly idleInTransactionTimeoutMs: number;
        /**
         * `MIGRATION_DATABASE_URL`: the owner role the migrations run as, when it is not the
         * application's role; the migrations then grant `appRole` its privileges.
         */
        readonly migrationUrl?: string;
        /** The application's role: the user of `DATABASE_URL`. */
        readonly appRole?: string;
      }
    | { readonly kind: 'pglite'; readonly dataDir: string };
  readonly requestBodyLimit: string;
  readonly shutdownGraceMs: number;
  /** On SIGTERM, keep serving (with /ready at 503) this long before draining, so load balancers notice. */
  readonly shutdownDelayMs: number;
  /** What the HTTP server accepts from clients (`listen` in server.ts). */
  readonly http: {
    /** How long a client may take to send its request headers. */
    readonly headersTimeoutMs: number;
    /** How long a client may take to send its whole request; never limits a response (an export streams on). */
    readonly requestTimeoutMs: number;
    /** Open connections at most; idle keep-alive ones are closed to make room from nine tenths on. */
    readonly maxConnections: number;
  };
  /** How often the `external_sync_*` metrics are read from the database; 0: at every scrape. */
  readonly syncMetricsRefreshMs: number;
  /** How the BFF knows who calls; `policy` then decides what they may do. */
  readonly auth: AuthConfig;
  readonly policy: {
    readonly enforce: boolean;
    readonly roleMap: Readonly<Record<string, InternalRole>>;
    /** `undefined`: no tenant restriction (logged loudly at start-up). `[]`: every tenant denied. */
    readonly tenantAllowlist: readonly string[] | undefined;
  };
  readonly bankSandbox: {
    readonly baseUrl: string | undefined;
    readonly token: string | undefined;
    /**
     * Tenant -> the bank connections assigned to it (never empty). A source may only use its
     * tenant's; the first is the one the `bank_sbx` source is seeded with.
     */
    readonly connections: Readonly<Record<string, readonly string[]>>;
    readonly timeoutMs: number;
    /** Start the project's bank simulator in-process and sync on an interval (the demo start). */
    readonly embedded: boolean;
  };
  readonly sync: {
    readonly sinceDays: number;
    readonly pageSize: number;
    /** The worker's total deadline, shorter than the CronJob's 5-minute schedule. */
    readonly deadlineMs: number;
    /** In-process sync interval (embedded mode only). */
    readonly intervalMs: number;
    /** `stale` on os/sources once the last success is older than this. */
    readonly staleAfterSeconds: number;
    /**
     * The worker also pushes the `external_sync_*` metrics here after its run (optional; may
     * carry credentials, so never logged).
     */
    readonly pushgatewayUrl: string | undefined;
  };
  readonly recon: {
    /** Per-tenant auto-match limits by currency, over the engine's defaults. */
    readonly autoMatchLimits: Readonly<Record<string, Readonly<Record<string, string>>>>;
    /** Per-tenant holidays by currency, replacing the engine's list for that currency. */
    readonly holidays: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
    /** Per-tenant bank fee accepted on incoming payments, by currency. */
    readonly feeRules: Readonly<Record<string, Readonly<Record<string, { min: string; max: string }>>>>;
  };
  readonly feedback: {
    /** Slack-compatible webhook for failure cases; a secret (its URL carries a token): never logged. */
    readonly webhookUrl: string | undefined;
    /** Where the Backoffice lives, for the deep links in feedback messages. */
    readonly backofficeBaseUrl: string;
  };
  readonly backoffice: {
    /** The built Backoffice web app (`packages/backoffice-web/dist`), served at `/backoffice/`. */
    readonly dir: string;
    /**
     * Show the tenant/role picker that sets `X-Tenant`/`X-User-Role` (the embedded demo). Off in
     * production, where the gateway sets those headers.
     */
    readonly identityPicker: boolean;
  };
  readonly exportSigning: {
    readonly secret: string | undefined;
    readonly previousSecret: string | undefined;
  };
  readonly exports: {
    /** Audit exports streaming at once in this process; more answer 429 EXPORTS_BUSY. */
    readonly maxConcurrent: number;
  };
  /** The tamper-evident audit trail (docs/POLICY.md "Audit trail integrity"). */
  readonly auditChain: {
    /** `AUDIT_CHAIN_KEY`; unset outside production: the public development key (logged as a warning). Never logged. */
    readonly key: string | undefined;
    /** `AUDIT_CHAIN_KEY_PREV`: the key before a rotation, still accepted when verifying. Never logged. */
    readonly previousKey: string | undefined;
    /** How often each tenant's chain head is logged and sent to the feedback webhook. */
    readonly headIntervalMs: number;
  };
}

/** Where the keys that sign the tokens come from. */
export type TokenKeySource =
  | {
      readonly kind: 'jwks';
      readonly url: string;
      /** How long one fetch of the key set may take. */
      readonly timeoutMs: number;
      /** After a fetch, the least time before another for a token whose `kid` is unknown. */
      readonly cooldownMs: number;
      /** The key set is fetched again once it is this old. */
      readonly cacheMaxAgeMs: number;
    }
  | { readonly kind: 'publicKey'; /** PEM SPKI or one public JWK as JSON (checked at start-up). */ readonly key: string };

/** `AUTH_MODE=jwt`: what a bearer token must be, and which claims carry the identity. */
export interface JwtAuthConfig {
  readonly keys: TokenKeySource;
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly AsymmetricAlgorithm[];
  readonly clockSkewSeconds: number;
  readonly claims: { readonly tenant: string; readonly role: string; readonly user: string };
}

/**
 * `headers`: `X-Tenant`/`X-User-Role`/`X-User-Id` are trusted as sent (a gateway sets them and
 * strips them from clients). `jwt`: a verified bearer token carries the identity.
 */
export type AuthConfig = { readonly mode: 'headers' } | { readonly mode: 'jwt'; readonly jwt: JwtAuthConfig };

/** Raised for a bad environment; its message is one line naming each bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * `BANK_SBX_CONNECTIONS_JSON` with every value an array; unset: none assigned, except in the
 * embedded demo, which syncs two pilot tenants and also assigns its closed connection to `default`.
 */
function assignedConnections(e: Env): Record<string, readonly string[]> {
  const configured = e.BANK_SBX_CONNECTIONS_JSON ?? (e.BANK_SBX_EMBEDDED ? EMBEDDED_CONNECTIONS : {});
  if (!e.BANK_SBX_EMBEDDED) return configured;
  const { tenant, connectionId } = DEMO_CLOSED_CONNECTION;
  const own = Object.hasOwn(configured, tenant) ? (configured[tenant] ?? []) : [];
  if (own.length === 0 || own.includes(connectionId)) return configured;
  return { ...configured, [tenant]: [...own, connectionId] };
}

function authConfig(e: Env): AuthConfig {
  if (e.AUTH_MODE !== 'jwt') return { mode: 'headers' };
  // checkAuth made sure the issuer, the audience and one key source are set.
  const keys: TokenKeySource = e.AUTH_JWKS_URL
    ? { kind: 'jwks', url: e.AUTH_JWKS_URL, timeoutMs: e.AUTH_JWKS_TIMEOUT_MS, cooldownMs: e.AUTH_JWKS_COOLDOWN_MS, cacheMaxAgeMs: e.AUTH_JWKS_CACHE_MAX_AGE_MS }
    : { kind: 'publicKey', key: e.AUTH_PUBLIC_KEY ?? '' };
  return {
    mode: 'jwt',
    jwt: {
      keys,
      issuer: e.AUTH_ISSUER ?? '',
      audience: e.AUTH_AUDIENCE ?? '',
      algorithms: e.AUTH_ALGORITHMS,
      clockSkewSeconds: e.AUTH_CLOCK_SKEW_SECONDS,
      claims: { tenant: e.AUTH_TENANT_CLAIM, role: e.AUTH_ROLE_CLAIM, user: e.AUTH_USER_CLAIM },
    },
  };
}

/**
 * Parses `env` (normally `process.env`) into the frozen `Config`. An empty variable counts as
 * unset, as Helm renders unset values. Throws `ConfigError` naming the variable and the problem.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.keys(schema.shape).flatMap((key) => (env[key] ? [[key, env[key]]] : [])),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const appRole = e.DATABASE_URL ? databaseUserOf(e.DATABASE_URL) : undefined;
  return deepFreeze<Config>({
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    database:
      e.USE_PG && e.DATABASE_URL
        ? {
            kind: 'pg',
            url: e.DATABASE_URL,
            poolMax: e.DB_POOL_MAX,
            connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
            statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
            lockTimeoutMs: e.DB_LOCK_TIMEOUT_MS,
            idleInTransactionTimeoutMs: e.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
            ...(e.MIGRATION_DATABASE_URL ? { migrationUrl: e.MIGRATION_DATABASE_URL } : {}),
            ...(appRole ? { appRole } : {}),
          }
        : { kind: 'pglite', dataDir: e.PGLITE_DATA_DIR },
    requestBodyLimit: e.REQUEST_BODY_LIMIT,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    http: {
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
    },
    syncMetricsRefreshMs: e.SYNC_METRICS_REFRESH_MS,
    auth: authConfig(e),
    policy: {
      enforce: e.OS_POLICY_BRIDGE_ENFORCE,
      roleMap: e.OS_ROLE_MAP_JSON,
      tenantAllowlist: e.OS_TENANT_ALLOWLIST_JSON,
    },
    bankSandbox: {
      baseUrl: e.BANK_SBX_BASE,
      token: e.BANK_SBX_TOKEN,
      connections: assignedConnections(e),
      timeoutMs: e.BANK_SBX_TIMEOUT_MS,
      embedded: e.BANK_SBX_EMBEDDED,
    },
    sync: {
      // 7 days as the seeds say; the embedded demo takes its simulator's whole month.
      sinceDays: e.SYNC_SINCE_DAYS ?? (e.BANK_SBX_EMBEDDED ? 30 : 7),
      pageSize: e.SYNC_PAGE_SIZE,
      deadlineMs: e.SYNC_DEADLINE_SECONDS * 1_000,
      intervalMs: e.SYNC_INTERVAL_SECONDS * 1_000,
      staleAfterSeconds: e.EXTERNAL_SYNC_STALE_MINUTES * 60,
      pushgatewayUrl: e.PUSHGATEWAY_URL,
    },
    recon: { autoMatchLimits: e.RECON_AUTO_MATCH_LIMITS_JSON, holidays: e.RECON_HOLIDAYS_JSON, feeRules: e.RECON_FEE_RULES_JSON },
    feedback: { webhookUrl: e.FEEDBACK_WEBHOOK_URL, backofficeBaseUrl: e.BACKOFFICE_BASE_URL },
    backoffice: {
      dir: e.BACKOFFICE_DIR ? resolve(e.BACKOFFICE_DIR) : DEFAULT_BACKOFFICE_DIR,
      identityPicker: e.BACKOFFICE_IDENTITY_PICKER ?? (e.BANK_SBX_EMBEDDED && e.AUTH_MODE !== 'jwt'),
    },
    exportSigning: { secret: e.EXPORT_SIGN_SECRET, previousSecret: e.EXPORT_SIGN_SECRET_PREV },
    exports: { maxConcurrent: e.EXPORT_MAX_CONCURRENT },
    auditChain: { key: e.AUDIT_CHAIN_KEY, previousKey: e.AUDIT_CHAIN_KEY_PREV, headIntervalMs: e.AUDIT_CHAIN_HEAD_INTERVAL_MS },
  });
}
