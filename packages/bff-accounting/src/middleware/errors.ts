import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { DatabaseUnavailableError } from '@accounting/data-pg';
import {
  AuthUnavailableError,
  BusyError,
  DomainError,
  isStorableText,
  NotFoundError,
  STORABLE_TEXT_MESSAGE,
  ValidationError,
  type ErrorKind,
  type ValidationIssue,
} from '@accounting/service-core-accounting';
import { z } from 'zod';
import type { ErrorCode } from '../openapi/errorCodes.js';
import type { Lifecycle } from '../readiness.js';
import { MAX_JSON_DEPTH } from './jsonBody.js';

/** The one HTTP status for each kind of domain error. */
const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  busy: 429,
  unavailable: 503,
};

/** The error body every route answers with. Extra fields follow `error_code` (e.g. `tenant`). */
export interface ErrorBody {
  error_code: string;
  message: string;
  request_id: string;
  [extra: string]: unknown;
}

interface HttpError {
  status: number;
  code: string;
  message: string;
  details?: Readonly<Record<string, unknown>>;
  /** Sent as `Retry-After` (seconds): the same request may succeed then. */
  retryAfterSeconds?: number;
}

/** How long a client should wait before retrying a request the database could not serve. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/** The database is unavailable (down, failing over, timed out, pool exhausted): 503, retry later. */
function databaseUnavailable(reason: string, message: string): HttpError {
  return {
    status: 503,
    code: 'DATABASE_UNAVAILABLE' satisfies ErrorCode,
    message: `${message}; retry later`,
    details: { reason },
    retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
  };
}

/**
 * Errors raised by Express's body parser carry a `type`; these are the client's fault. Their
 * codes are the documented ones (docs/API.md, the OpenAPI document's table).
 */
const BODY_PARSER_ERRORS: Record<string, Omit<HttpError, 'details'> & { code: ErrorCode }> = {
  'entity.parse.failed': { status: 400, code: 'INVALID_JSON', message: 'request body is not valid JSON' },
  'entity.too.large': { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'request body is larger than the limit' },
  'encoding.unsupported': { status: 415, code: 'UNSUPPORTED_ENCODING', message: 'request body encoding is not supported' },
  'charset.unsupported': { status: 415, code: 'UNSUPPORTED_ENCODING', message: 'request body charset is not supported' },
  'entity.too.deep': { status: 400, code: 'JSON_TOO_DEEP', message: `request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels` },
  'request.aborted': { status: 400, code: 'INVALID_REQUEST', message: 'request body was not received completely' },
  'request.size.invalid': { status: 400, code: 'INVALID_REQUEST', message: 'request body size does not match Content-Length' },
};

/** The RFC 6750 challenge of each 401 answer (`WWW-Authenticate`). */
const BEARER_CHALLENGES: Partial<Record<string, string>> = {
  AUTH_REQUIRED: 'Bearer realm="bff-accounting"',
  AUTH_INVALID_TOKEN: 'Bearer realm="bff-accounting", error="invalid_token"',
} satisfies Partial<Record<ErrorCode, string>>;

const INTERNAL: HttpError = { status: 500, code: 'INTERNAL', message: 'internal error; quote the request_id when reporting it' };

/** zod issues as the API reports them: a dotted path and zod's message (no input values). */
export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** Whether `value` holds, anywhere, a string or key the database could not store (NUL, lone surrogates). */
function holdsUnstorableText(value: unknown): boolean {
  // An explicit stack, not recursion: a deeply nested value must not overflow the JS stack.
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === 'string') {
      if (!isStorableText(next)) return true;
    } else if (Array.isArray(next)) {
      for (const item of next) pending.push(item);
    } else if (next && typeof next === 'object') {
      for (const key in next) {
        if (!Object.hasOwn(next, key)) continue;
        if (!isStorableText(key)) return true;
        pending.push((next as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/** A value still to visit, with the key that leads to it from its parent's entry. */
interface PendingValue {
  value: unknown;
  key: string;
  parent: PendingValue | null;
}

function pathOf(entry: PendingValue, last?: string): string {
  const keys = last === undefined ? [] : [last];
  for (let at: PendingValue | null = entry; at?.parent; at = at.parent) keys.push(at.key);
  return keys.reverse().join('.');
}

/**
 * Paths of strings the database could not store, anywhere in `value`, in document order. Input
 * is almost always clean, so paths are built only once `holdsUnstorableText` found something,
 * and then from parent links, never by copying a path per level.
 */
function unstorablePaths(value: unknown): string[] {
  if (!holdsUnstorableText(value)) return [];
  const found: string[] = [];
  const pending: PendingValue[] = [{ value, key: '', parent: null }];
  while (pending.length > 0) {
    const entry = pending.pop()!;
    if (entry.parent && !isStorableText(entry.key)) found.push(pathOf(entry.parent, '(key)'));
    if (typeof entry.value === 'string') {
      if (!isStorableText(entry.value)) found.push(pathOf(entry));
    } else if (entry.value && typeof entry.value === 'object') {
      // Pushed last to first, so they are visited first to last.
      const entries = Object.entries(entry.value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, inner] = entries[i]!;
        pending.push({ value: inner, key, parent: entry });
      }
    }
  }
  return found;
}

/**
 * Parses handler input; a mismatch becomes a `ValidationError` (400 VALIDATION_FAILED). Strings
 * PostgreSQL cannot store are refused here too, for every route, so they never cause a 500.
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, what = 'request'): z.output<T> {
  const unstorable = unstorablePaths(value);
  if (unstorable.length > 0) {
    throw new ValidationError(`${what} is not valid`, unstorable.map((path) => ({ path, message: STORABLE_TEXT_MESSAGE })));
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(`${what} is not valid`, toValidationIssues(parsed.error));
  return parsed.data;
}

function classify(err: unknown): HttpError {
  if (err instanceof DatabaseUnavailableError) return databaseUnavailable(err.reason, err.message);
  if (err instanceof DomainError) {
    return {
      status: STATUS_BY_KIND[err.kind],
      code: err.code,
      message: err.message,
      details: err.details,
      ...(err instanceof BusyError || err instanceof AuthUnavailableError ? { retryAfterSeconds: err.retryAfterSeconds } : {}),
    };
  }
  if (err instanceof z.ZodError) {
    return { status: 400, code: 'VALIDATION_FAILED', message: 'request is not valid', details: { issues: toValidationIssues(err) } };
  }
  const { type, status, expose } = (err ?? {}) as { type?: unknown; status?: unknown; expose?: unknown };
  if (typeof type === 'string' && BODY_PARSER_ERRORS[type]) return BODY_PARSER_ERRORS[type];
  // Other client errors raised while reading the body (e.g. a corrupt gzip body).
  if (typeof status === 'number' && status >= 400 && status < 500 && expose === true) {
    return { status: 400, code: 'INVALID_REQUEST', message: 'request body could not be read' };
  }
  return INTERNAL;
}

/** Builds the error body for `err`; the same shape for every route and every error. */
export function errorBody(req: Request, code: string, message: string, details: Readonly<Record<string, unknown>> = {}): ErrorBody {
  return { error_code: code, ...details, message, request_id: req.requestId };
}

/**
 * The one error middleware: maps domain errors to statuses and the one JSON shape, logs only
 * 5xx (with the stack, server-side), and never sends a stack trace or SQL to the client.
 */
export function errorHandler(): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const http = classify(err);
    if (http.status >= 500 && http.code === INTERNAL.code) req.log.error({ err }, 'unhandled error');
    if (res.headersSent) {
      // Too late for an error body (e.g. a stream failed midway): cut the connection so the
      // client sees an incomplete response instead of a truncated "success".
      res.destroy();
      return;
    }
    if (http.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(http.retryAfterSeconds));
    const challenge = BEARER_CHALLENGES[http.code];
    if (challenge) res.setHeader('WWW-Authenticate', challenge);
    res.status(http.status).json(errorBody(req, http.code, http.message, http.details));
  };
}

/**
 * Ahead of the data routes: until the start-up migrations are applied (the database was down
 * when the BFF started), they answer 503 DATABASE_UNAVAILABLE instead of reaching missing tables.
 */
export function requireDatabasePrepared(lifecycle: Pick<Lifecycle, 'databasePrepared'>): RequestHandler {
  return (_req, _res, next) => {
    if (lifecycle.databasePrepared && !lifecycle.databasePrepared()) throw new DatabaseUnavailableError('starting');
    next();
  };
}

/** The last route: anything unmatched is 404 NOT_FOUND in the usual shape. */
export function notFound(): RequestHandler {
  return (req) => {
    throw new NotFoundError(`no route for ${req.method} ${req.path.slice(0, 200)}`);
  };
}
