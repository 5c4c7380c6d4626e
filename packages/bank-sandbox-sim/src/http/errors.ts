import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { SandboxError, type SandboxErrorCode } from '../errors.js';
import type { ErrorBody } from '../types.js';

const STATUS: Readonly<Record<SandboxErrorCode, number>> = {
  INVALID_TOKEN: 401,
  INVALID_REQUEST: 400,
  INVALID_CURSOR: 400,
  MUTATION_DURING_PAGINATION: 400,
  CONNECTION_NOT_FOUND: 404,
  TRANSACTION_NOT_FOUND: 404,
  CONFLICT: 409,
};

/** Writes the one error shape: `{"error_code": ..., "error_message": ...}`. */
export function sendError(res: Response, status: number, code: string, message: string): void {
  const body: ErrorBody = { error_code: code, error_message: message };
  res.status(status).json(body);
}

/** body-parser's errors: a 4xx `status` and a `type` such as `entity.parse.failed`. */
function isBodyParserError(err: unknown): err is { status: number; type: string } {
  if (typeof err !== 'object' || err === null) return false;
  const { status, type } = err as { status?: unknown; type?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 && typeof type === 'string';
}

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, 'NOT_FOUND', `no route ${req.method} ${req.path}`);
};

/**
 * Maps domain errors to statuses; a body that is not JSON is INVALID_REQUEST; anything else is
 * a 500 without details (reported to `onUnexpected`, never sent).
 */
export function errorMiddleware(onUnexpected: (err: unknown) => void = () => {}): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof SandboxError) {
      if (err.code === 'INVALID_TOKEN') res.set('WWW-Authenticate', 'Bearer');
      sendError(res, STATUS[err.code], err.code, err.message);
    } else if (isBodyParserError(err)) {
      const message = err.type === 'entity.parse.failed' ? 'the body is not valid JSON' : `the body was refused (${err.type})`;
      sendError(res, 400, 'INVALID_REQUEST', message);
    } else {
      onUnexpected(err);
      sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'internal error');
    }
  };
}
