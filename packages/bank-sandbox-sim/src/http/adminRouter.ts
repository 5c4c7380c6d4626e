import express, { Router } from 'express';
import { z } from 'zod';
import type { BankSandbox } from '../BankSandbox.js';
import { faultSpecSchema } from '../FaultQueue.js';
import {
  createConnectionSchema,
  newTransactionSchema,
  parseInput,
  postTransactionSchema,
  stateQuerySchema,
  transactionPatchSchema,
} from '../schemas.js';
import { notFound } from './errors.js';

const faultsBodySchema = z.union([faultSpecSchema, z.array(faultSpecSchema).min(1)]);

/**
 * Admin endpoints for tests and demos, mounted at `/__sandbox`. They need no token: serve
 * them on loopback only. Bodies are parsed as JSON whatever their Content-Type, so plain
 * `curl -d` works.
 */
export function createAdminRouter({ sandbox }: { sandbox: BankSandbox }): Router {
  const router = Router();
  router.use(express.json({ type: () => true, limit: '1mb' }));

  router.get('/connections', (_req, res) => {
    res.json({ connections: sandbox.listConnections() });
  });

  router.post('/connections', (req, res) => {
    const spec = parseInput(createConnectionSchema, req.body);
    res.status(201).json(sandbox.createConnection(spec));
  });

  router.get('/connections/:connection_id/state', (req, res) => {
    const query = parseInput(stateQuerySchema, { ...req.query });
    res.json(sandbox.getState(req.params.connection_id, query.start_date === undefined ? {} : { startDate: query.start_date }));
  });

  router.post('/connections/:connection_id/transactions', (req, res) => {
    const input = parseInput(newTransactionSchema, req.body);
    res.status(201).json({ transaction: sandbox.addTransaction(req.params.connection_id, input) });
  });

  router.patch('/connections/:connection_id/transactions/:transaction_id', (req, res) => {
    const patch = parseInput(transactionPatchSchema, req.body);
    res.json({ transaction: sandbox.modifyTransaction(req.params.connection_id, req.params.transaction_id, patch) });
  });

  router.post('/connections/:connection_id/transactions/:transaction_id/post', (req, res) => {
    const input = parseInput(postTransactionSchema, req.body ?? {});
    res.json({ transaction: sandbox.postTransaction(req.params.connection_id, req.params.transaction_id, input) });
  });

  router.delete('/connections/:connection_id/transactions/:transaction_id', (req, res) => {
    sandbox.removeTransaction(req.params.connection_id, req.params.transaction_id);
    res.status(204).end();
  });

  router.post('/cursors/expire', (_req, res) => {
    sandbox.expireCursors();
    res.status(204).end();
  });

  router.post('/reset', (_req, res) => {
    sandbox.reset();
    res.status(204).end();
  });

  router.get('/faults', (_req, res) => {
    res.json({ faults: sandbox.faults.list() });
  });

  router.post('/faults', (req, res) => {
    const specs = parseInput(faultsBodySchema, req.body);
    res.status(201).json({ queued: sandbox.faults.inject(specs) });
  });

  router.delete('/faults', (_req, res) => {
    sandbox.faults.clear();
    res.status(204).end();
  });

  router.get('/requests', (_req, res) => {
    res.json({ requests: sandbox.requestLog.entries() });
  });

  router.delete('/requests', (_req, res) => {
    sandbox.requestLog.clear();
    res.status(204).end();
  });

  router.use(notFound);
  return router;
}
