import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

/** Incoming ids we accept as they are: short, printable, no spaces or quotes. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/**
 * Honours a sane incoming `X-Request-Id` (set by the gateway or the app), otherwise makes one,
 * and echoes it in the response header. Logs and error bodies read it from `req.requestId`.
 */
export function requestId(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    req.requestId = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', req.requestId);
    next();
  };
}
