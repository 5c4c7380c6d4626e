import express, { Router, type RequestHandler } from 'express';
import type { BankSandbox } from '../BankSandbox.js';
import { InvalidRequestError } from '../errors.js';
import { connectionIdSchema, parseInput, syncRequestSchema } from '../schemas.js';
import type { SyncResponse } from '../types.js';
import { applyFaults } from './applyFaults.js';
import { requireBearerToken } from './requireBearerToken.js';

/** The contract says bodies are JSON; anything else is INVALID_REQUEST. */
const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) throw new InvalidRequestError('a JSON body with Content-Type: application/json is required');
  next();
};

/** The two operations of the Bank Sandbox API contract, mounted at `/v1`. */
export function createContractRouter({ sandbox, token }: { sandbox: BankSandbox; token: string }): Router {
  const router = Router();
  router.use(requireBearerToken(token));

  router.get('/connections/:connection_id/accounts', applyFaults(sandbox.faults, 'accounts'), (req, res) => {
    const connectionId = parseInput(connectionIdSchema, req.params.connection_id);
    res.json({ accounts: sandbox.listAccounts(connectionId) });
  });

  router.post(
    '/transactions/sync',
    requireJsonBody,
    express.json({ limit: '64kb', strict: true }),
    applyFaults(sandbox.faults, 'sync'),
    (req, res) => {
      const request = parseInput(syncRequestSchema, req.body);
      const page: SyncResponse = sandbox.sync(request);
      res.json(page);
    },
  );

  return router;
}
