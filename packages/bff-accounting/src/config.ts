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

/** A secret: checked for length only; zod messages for these never contain the value. */
const signingSecret = z.string().min(32, 'must be at least 32 bytes');

const schema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8081),
    HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    USE_PG: flag.default(false),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
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
      z.record(tenantId, z.record(z.string().regex(/^[A-Z]{3}$/, 'currencies are ISO 4217 codes'), z.string().regex(/^\d+(\.\d+)?$/, 'limits are decimal strings'))),
      'an object of tenant id to {currency: limit}, e.g. {"default":{"KRW":"1000000"}}',
    ).default({}),
    FEEDBACK_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    BACKOFFICE_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('http://localhost:8081/backoffice/'),
    BACKOFFICE_DIR: z.string().optional(),
    BACKOFFICE_IDENTITY_PICKER: flag.optional(),
    EXPORT_SIGN_SECRET: signingSecret.optional(),
    EXPORT_SIGN_SECRET_PREV: signingSecret.optional(),
    EXPORT_MAX_CONCURRENT: z.coerce.number().int().min(1).max(64).default(2),
  })
  .superRefine((env, ctx) => {
    if (env.USE_PG && !env.DATABASE_URL) {
      ctx.addIssue({ code: 'custom', path: ['DATABASE_URL'], message: 'is required when USE_PG=1' });
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
    if (env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
      ctx.addIssue({ code: 'custom', path: ['HTTP_HEADERS_TIMEOUT_MS'], message: 'must not be more than HTTP_REQUEST_TIMEOUT_MS' });
    }
  });

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
}

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
    recon: { autoMatchLimits: e.RECON_AUTO_MATCH_LIMITS_JSON },
    feedback: { webhookUrl: e.FEEDBACK_WEBHOOK_URL, backofficeBaseUrl: e.BACKOFFICE_BASE_URL },
    backoffice: {
      dir: e.BACKOFFICE_DIR ? resolve(e.BACKOFFICE_DIR) : DEFAULT_BACKOFFICE_DIR,
      identityPicker: e.BACKOFFICE_IDENTITY_PICKER ?? e.BANK_SBX_EMBEDDED,
    },
    exportSigning: { secret: e.EXPORT_SIGN_SECRET, previousSecret: e.EXPORT_SIGN_SECRET_PREV },
    exports: { maxConcurrent: e.EXPORT_MAX_CONCURRENT },
  });
}
