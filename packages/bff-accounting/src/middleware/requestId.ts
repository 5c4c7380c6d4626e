import { randomUUID } from 'node:crypto';
import type { Request } from 'express';

/** Incoming ids we accept as they are: short, printable, no spaces or quotes. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

/** A sane incoming `X-Request-Id` (set by the gateway or the app) as it is, otherwise a new UUID. */
export function resolveRequestId(req: Request): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
