import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { InvalidTokenError } from '../errors.js';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Lets through only `Authorization: Bearer <token>` with the configured token (compared in
 * constant time); anything else is INVALID_TOKEN. The token is never logged or echoed.
 */
export function requireBearerToken(token: string): RequestHandler {
  if (token.length === 0) throw new Error('the sandbox needs a non-empty bearer token');
  const expected = digest(token);
  return (req, _res, next) => {
    const match = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '');
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) throw new InvalidTokenError();
    next();
  };
}
