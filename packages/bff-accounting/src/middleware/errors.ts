import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import {
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

/** The one HTTP status for each kind of domain error. */
const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
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
  'request.aborted': { status: 400, code: 'INVALID_REQUEST', message: 'request body was not received completely' },
  'request.size.invalid': { status: 400, code: 'INVALID_REQUEST', message: 'request body size does not match Content-Length' },
};

const INTERNAL: HttpError = { status: 500, code: 'INTERNAL', message: 'internal error; quote the request_id when reporting it' };

/** zod issues as the API reports them: a dotted path and zod's message (no input values). */
export function toValidationIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** Paths of strings the database could not store (NUL, lone surrogates), anywhere in `value`. */
function unstorablePaths(value: unknown, path: string[] = []): string[] {
  if (typeof value === 'string') return isStorableText(value) ? [] : [path.join('.')];
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => [
      ...(isStorableText(key) ? [] : [[...path, '(key)'].join('.')]),
      ...unstorablePaths(inner, [...path, key]),
    ]);
  }
  return [];
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
  if (err instanceof DomainError) {
    return { status: STATUS_BY_KIND[err.kind], code: err.code, message: err.message, details: err.details };
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
    res.status(http.status).json(errorBody(req, http.code, http.message, http.details));
  };
}

/** The last route: anything unmatched is 404 NOT_FOUND in the usual shape. */
export function notFound(): RequestHandler {
  return (req) => {
    throw new NotFoundError(`no route for ${req.method} ${req.path.slice(0, 200)}`);
  };
}
