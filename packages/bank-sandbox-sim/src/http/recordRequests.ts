import type { RequestHandler } from 'express';
import type { BankSandbox } from '../BankSandbox.js';
import { toTimestamp } from '../calendar.js';
import type { RequestLogEntry } from '../RequestLog.js';
import { appliedFault } from './applyFaults.js';

const ACCOUNTS_PATH = /^\/v1\/connections\/([^/]+)\/accounts$/;

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The string `field` of a parsed sync body (`connection_id`, `cursor`), if it has one. */
function bodyString(body: unknown, field: 'connection_id' | 'cursor'): string | null {
  if (typeof body !== 'object' || body === null) return null;
  const value = (body as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : null;
}

/**
 * Logs every contract request (admin ones are not) in the sandbox request log as it arrives,
 * and completes the entry when its connection closes: the status (null when nothing was
 * answered) and the fault applied. Whether an Authorization header was present; never the token.
 */
export function recordRequests(sandbox: BankSandbox): RequestHandler {
  return (req, res, next) => {
    if (req.path === '/__sandbox' || req.path.startsWith('/__sandbox/')) {
      next();
      return;
    }
    const path = req.path;
    const accounts = ACCOUNTS_PATH.exec(path);
    const route: RequestLogEntry['route'] = accounts ? 'accounts' : path === '/v1/transactions/sync' ? 'sync' : 'other';
    const pathConnectionId = accounts?.[1] ? decoded(accounts[1]) : null;
    const finish = sandbox.requestLog.start({
      at: toTimestamp(sandbox.now()),
      method: req.method,
      path,
      route,
      connection_id: pathConnectionId,
      authorization: req.get('authorization') !== undefined,
    });
    res.on('close', () => {
      finish({
        connection_id: pathConnectionId ?? bodyString(req.body, 'connection_id'),
        cursor: route === 'sync' ? bodyString(req.body, 'cursor') : null,
        status: res.writableFinished ? res.statusCode : null,
        fault: appliedFault(res),
      });
    });
    next();
  };
}
