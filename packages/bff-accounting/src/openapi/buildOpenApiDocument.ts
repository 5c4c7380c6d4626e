import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  createDocument,
  createSchema,
  type oas31,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
  type ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { INTERNAL_ROLES, TENANT_ID_PATTERN } from '../config.js';
import { API_ROUTES, roleHasPermission, type ApiRoute, type ApiRouteName, type Permission } from '../policy/permissions.js';
import {
  errorBody,
  idempotencyKeyParam,
  requestIdParam,
  requestIdResponseHeader,
  userIdHeader,
} from '../routes/schemas/commonSchemas.js';
import { healthBody, notReadyBody, readyBody } from '../routes/schemas/opsSchemas.js';
import { BODY_ERRORS, ERROR_CODES, GATE_ERRORS, IDEMPOTENCY_ERRORS, type ErrorCode } from './errorCodes.js';
import { ROUTE_DOCS, type ParameterSchema, type RouteDoc, type SuccessDoc } from './routeDocs.js';

/** The OpenAPI version of the document. */
const OPENAPI_VERSION = '3.1.0';

/** Express `:param` segments become OpenAPI `{param}`; other path syntax is not used by the table. */
export function toOpenApiPath(expressPath: string): string {
  if (/[*?{}()]/.test(expressPath)) throw new Error(`unsupported Express path syntax in ${expressPath}`);
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

/** The `:param` names of an Express path, in order. */
function pathParamNames(expressPath: string): string[] {
  return [...expressPath.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1] ?? '');
}

/**
 * Query values arrive as text, which the route schemas parse (split lists, numbers, dates), so
 * the text side of a field says little. Each parameter is described by what the same schema
 * parses it into (its output), which is what a client has to send; it is required when the
 * schema refuses a missing value.
 */
function queryParameters(query: ParameterSchema, where: string): oas31.ParameterObject[] {
  return Object.entries(query.shape).map(([name, field]) => {
    const { schema, components } = createSchema(field, { io: 'output', openapiVersion: OPENAPI_VERSION });
    if (Object.keys(components).length > 0) throw new Error(`${where}: query parameter ${name} must not register components`);
    const { description, ...rest } = schema as oas31.SchemaObject;
    const array = rest.type === 'array';
    return {
      name,
      in: 'query',
      ...(description ? { description } : {}),
      required: !z.safeParse(field, undefined).success,
      ...(array ? { style: 'form', explode: true } : {}),
      schema: rest,
    } satisfies oas31.ParameterObject;
  });
}

/** Every `error_code` the route can answer: the gate's, its input's, its body's, idempotency's and its own. */
function errorCodesOf(doc: RouteDoc): ErrorCode[] {
  const codes = new Set<ErrorCode>(GATE_ERRORS);
  if (doc.query || doc.path || doc.parameters || doc.body) codes.add('VALIDATION_FAILED');
  if (doc.body) BODY_ERRORS.forEach((code) => codes.add(code));
  if (doc.idempotencyKey) IDEMPOTENCY_ERRORS.forEach((code) => codes.add(code));
  doc.errors?.forEach((code) => codes.add(code));
  return [...codes];
}

const requestIdHeaders = { 'X-Request-Id': requestIdResponseHeader };

/** `Retry-After` on the statuses a client should retry later (429, 503). */
const retryAfterHeaders = {
  'Retry-After': z
    .string()
    .optional()
    .meta({ header: { id: 'Retry-After' }, description: 'Seconds to wait before retrying (on `DATABASE_UNAVAILABLE` and other temporary refusals)' }),
};

/** `WWW-Authenticate` on 401 (`AUTH_MODE=jwt`). */
const challengeHeaders = {
  'WWW-Authenticate': z
    .string()
    .meta({ header: { id: 'WWW-Authenticate' }, description: 'The Bearer challenge (RFC 6750): `Bearer realm="bff-accounting"`, with `error="invalid_token"` for a refused token' }),
};

/** The response headers of an error status besides `X-Request-Id`. */
function errorHeaders(status: number) {
  if (status === 401) return z.object({ ...requestIdHeaders, ...challengeHeaders });
  if (status === 429 || status === 503) return z.object({ ...requestIdHeaders, ...retryAfterHeaders });
  return z.object(requestIdHeaders);
}

/** Error responses by status: the one error shape, with `error_code` narrowed to the codes of that status. */
function errorResponses(codes: readonly ErrorCode[]): Record<string, ZodOpenApiResponseObject> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const { status } = ERROR_CODES[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  for (const [status, group] of [...byStatus].sort(([a], [b]) => a - b)) {
    const [first, ...others] = group;
    if (!first) continue;
    responses[`${status}`] = {
      description: group.map((code) => `- \`${code}\`: ${ERROR_CODES[code].when}`).join('\n'),
      headers: errorHeaders(status),
      content: { 'application/json': { schema: z.intersection(errorBody, z.looseObject({ error_code: z.enum([first, ...others]) })) } },
    };
  }
  return responses;
}

function successResponse(success: SuccessDoc): ZodOpenApiResponseObject {
  return {
    description: success.description,
    headers: z.object({ ...requestIdHeaders, ...success.headers }),
    ...(success.content ? { content: success.content } : {}),
  };
}

/** The internal roles holding `permission`, for people reading the document. */
function rolesWith(permission: Permission): string[] {
  return INTERNAL_ROLES.filter((role) => roleHasPermission(role, permission));
}

function operation(name: ApiRouteName, route: ApiRoute, doc: RouteDoc): ZodOpenApiOperationObject {
  const where = `API_ROUTES.${name}`;
  const declared = Object.keys(doc.path?.shape ?? {});
  const params = pathParamNames(route.path);
  if (declared.join() !== params.join()) {
    throw new Error(`${where}: path schema fields [${declared.join()}] differ from the path's :params [${params.join()}]`);
  }
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  for (const [status, success] of Object.entries(doc.responses)) responses[status] = successResponse(success);
  Object.assign(responses, errorResponses(errorCodesOf(doc)));
  const roles = rolesWith(route.permission);
  return {
    operationId: name,
    tags: [doc.tag],
    summary: doc.summary,
    description: [doc.description, `Needs the permission \`${route.permission}\` (internal roles: ${roles.join(', ')}).`].filter(Boolean).join('\n\n'),
    'x-permission': route.permission,
    // AUTH_MODE=headers: the gateway's headers; AUTH_MODE=jwt: a bearer token (docs/POLICY.md).
    security: [{ tenant: [], role: [] }, { bearer: [] }],
    parameters: [
      userIdHeader,
      requestIdParam,
      ...(doc.idempotencyKey ? [idempotencyKeyParam] : []),
      ...(doc.parameters ?? []),
      ...(doc.query ? queryParameters(doc.query, where) : []),
    ],
    ...(doc.path ? { requestParams: { path: doc.path } } : {}),
    ...(doc.body ? { requestBody: { required: doc.body.required, ...(doc.body.description ? { description: doc.body.description } : {}), content: doc.body.content } } : {}),
    responses: responses as ZodOpenApiResponsesObject,
  };
}

const ungated = { security: [] };

/** `/health`, `/ready`, `/metrics` and `/openapi.json`: outside the policy gate. */
function opsPaths(): ZodOpenApiPathsObject {
  const ok = (description: string, content: ZodOpenApiResponseObject['content']): ZodOpenApiResponseObject => ({
    description,
    headers: z.object(requestIdHeaders),
    ...(content ? { content } : {}),
  });
  return {
    '/health': {
      get: { ...ungated, operationId: 'health', tags: ['ops'], summary: 'Liveness; no database call', responses: { 200: ok('Alive', { 'application/json': { schema: healthBody } }) } },
    },
    '/ready': {
      get: {
        ...ungated,
        operationId: 'ready',
        tags: ['ops'],
        summary: 'Readiness: the database answers and every migration this code knows is applied unchanged',
        responses: {
          200: ok('Ready', { 'application/json': { schema: readyBody } }),
          503: ok(`\`NOT_READY\`: ${ERROR_CODES.NOT_READY.when}`, { 'application/json': { schema: notReadyBody } }),
        },
      },
    },
    '/metrics': {
      get: {
        ...ungated,
        operationId: 'metrics',
        tags: ['ops'],
        summary: 'Prometheus metrics',
        responses: { 200: ok('Prometheus text format', { 'text/plain': { schema: { type: 'string' } } }) },
      },
    },
    '/openapi.json': {
      get: {
        ...ungated,
        operationId: 'openApiDocument',
        tags: ['ops'],
        summary: 'This document',
        responses: { 200: ok('OpenAPI 3.1 document', { 'application/json': { schema: { type: 'object' } } }) },
      },
    },
  };
}

function packageVersion(): string {
  // src/openapi and dist/openapi are both two levels below the package.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

/**
 * Builds the OpenAPI 3.1 document of the BFF from the policy table and the zod schemas the
 * routes validate with. Every `API_ROUTES` entry must have a `ROUTE_DOCS` entry (else this
 * throws); the permission is in `x-permission`. docs/openapi.json is this document, regenerated
 * with `pnpm openapi`.
 */
export function buildOpenApiDocument(): oas31.OpenAPIObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const [name, route] of Object.entries(API_ROUTES) as [ApiRouteName, ApiRoute][]) {
    const doc: RouteDoc | undefined = ROUTE_DOCS[name];
    if (!doc) throw new Error(`API_ROUTES.${name} has no OpenAPI entry in ROUTE_DOCS (src/openapi/routeDocs.ts)`);
    const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
    const item = (paths[toOpenApiPath(route.path)] ??= {});
    item[method] = operation(name, route, doc);
  }
  return createDocument({
    openapi: OPENAPI_VERSION,
    info: {
      title: 'bff-accounting',
      version: packageVersion(),
      description:
        'Backend-for-frontend of the accounting product (HUD app, Backoffice console). Every `/v1` route is gated by tenant and role ' +
        '(docs/POLICY.md); errors share one shape (`Error`). Generated from the route schemas: do not edit docs/openapi.json by hand.',
    },
    tags: [
      { name: 'audit', description: 'Audit trail and manual reviews' },
      { name: 'sources', description: 'External sources and their sync state' },
      { name: 'exports', description: 'Signed audit exports (docs/EXPORTS.md)' },
      { name: 'ledger', description: 'Internal ledger entries' },
      { name: 'recon', description: 'Reconciliation (docs/RECON.md)' },
      { name: 'ops', description: 'Health, readiness, metrics and this document; never gated' },
    ],
    paths: { ...opsPaths(), ...paths },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'With `AUTH_MODE=jwt`: a JWT signed by the identity provider (`AUTH_JWKS_URL` or `AUTH_PUBLIC_KEY`, issuer `AUTH_ISSUER`, audience `AUTH_AUDIENCE`). ' +
            'Tenant, role and user come from its claims; `X-Tenant`/`X-User-Role`, when sent, must match them (a role may narrow). ' +
            'Missing: 401 AUTH_REQUIRED; refused: 401 AUTH_INVALID_TOKEN; keys unreachable: 503 AUTH_UNAVAILABLE; headers differ: 403 IDENTITY_MISMATCH.',
        },
        tenant: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Tenant',
          description: `With \`AUTH_MODE=headers\`, the tenant, set by the gateway: \`${TENANT_ID_PATTERN.source}\`. Missing: 400 TENANT_REQUIRED; malformed: 400 INVALID_TENANT; not allowed: 403 TENANT_NOT_ENABLED.`,
        },
        role: {
          type: 'apiKey',
          in: 'header',
          name: 'X-User-Role',
          description: "With `AUTH_MODE=headers`, the gateway's role, mapped by `OS_ROLE_MAP_JSON` onto an internal role. Unmapped: 403 ROLE_NOT_MAPPED; lacking the route's `x-permission`: 403 FORBIDDEN.",
        },
      },
      schemas: { Error: errorBody },
    },
  });
}
