import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestHandler, Response } from 'express';
import { InvalidCursorError, MutationDuringPaginationError } from '../errors.js';
import type { FaultQueue, FaultType, MalformedVariant } from '../FaultQueue.js';
import { malformBody } from '../malformBody.js';
import { sendError } from './errors.js';

const applied = new WeakMap<Response, FaultType>();

/** The fault applied to this response, for the request log. */
export function appliedFault(res: Response): FaultType | null {
  return applied.get(res) ?? null;
}

/** Makes the next 200 JSON body of `res` break the contract. */
function malformNextBody(res: Response, variant: MalformedVariant): void {
  const json = res.json.bind(res);
  const corrupt = (body: unknown): Response => {
    if (res.statusCode !== 200) return json(body);
    return res.type('application/json').send(malformBody(body, variant));
  };
  res.json = corrupt as Response['json'];
}

/**
 * Takes the next queued fault for `target` and applies it to this request (after the token
 * check and JSON parsing, before validation); without one, the request goes on untouched.
 */
export function applyFaults(faults: FaultQueue, target: 'sync' | 'accounts'): RequestHandler {
  return async (req, res, next) => {
    const fault = faults.take(target);
    if (!fault) {
      next();
      return;
    }
    applied.set(res, fault.type);
    switch (fault.type) {
      case 'latency':
        await sleep(fault.delay_ms, undefined, { ref: false });
        // The client may have given up meanwhile; then nobody is left to answer.
        if (!req.socket.destroyed) next();
        return;
      case 'rate_limit':
        res.set('Retry-After', String(fault.retry_after_seconds));
        sendError(res, 429, 'RATE_LIMIT_EXCEEDED', `too many requests; retry after ${fault.retry_after_seconds} s`);
        return;
      case 'server_error':
        sendError(res, fault.status, 'INTERNAL_SERVER_ERROR', 'simulated server error');
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'mutation_during_pagination':
        throw new MutationDuringPaginationError();
      case 'invalid_cursor':
        throw new InvalidCursorError();
      case 'malformed':
        malformNextBody(res, fault.variant);
        next();
        return;
    }
  };
}
