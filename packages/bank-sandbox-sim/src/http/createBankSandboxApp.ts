import express, { type Express } from 'express';
import type { BankSandbox } from '../BankSandbox.js';
import { createAdminRouter } from './adminRouter.js';
import { createContractRouter } from './contractRouter.js';
import { errorMiddleware, notFound } from './errors.js';
import { recordRequests } from './recordRequests.js';

export interface BankSandboxAppDeps {
  sandbox: BankSandbox;
  /** The bearer token every contract request must carry. */
  token: string;
  /** Called with errors that become a 500 (never sent to the client). */
  onUnexpectedError?: (err: unknown) => void;
}

/**
 * The simulator's Express app: the contract under `/v1`, admin endpoints under `/__sandbox`
 * (no token; listen on loopback only). Built, not started: tests use `request(app)`.
 */
export function createBankSandboxApp({ sandbox, token, onUnexpectedError }: BankSandboxAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(recordRequests(sandbox));
  app.use('/__sandbox', createAdminRouter({ sandbox }));
  app.use('/v1', createContractRouter({ sandbox, token }));
  app.use(notFound);
  app.use(errorMiddleware(onUnexpectedError));
  return app;
}
