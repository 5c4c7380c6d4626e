import type { Express } from 'express';
import { createBankSandbox, type BankSandbox, type BankSandboxOptions } from '../../src/BankSandbox.js';
import { createBankSandboxApp } from '../../src/http/createBankSandboxApp.js';

export const TOKEN = 'sbx-test-token-7f3a';
export const AUTH = { Authorization: `Bearer ${TOKEN}` };
/** The sandbox clock in tests: 2026-11-22 03:10 UTC. */
export const NOW = new Date('2026-11-22T03:10:00Z');

export interface TestSandbox {
  sandbox: BankSandbox;
  app: Express;
}

/** A sandbox on a fixed clock and its app; one small connection unless told otherwise. */
export function buildSandbox(options: BankSandboxOptions = {}): TestSandbox {
  const sandbox = createBankSandbox({
    seed: 7,
    now: NOW,
    instanceId: 'test',
    connections: [{ id: 'conn_default', days: 10, perDay: 12 }],
    ...options,
  });
  return { sandbox, app: createBankSandboxApp({ sandbox, token: TOKEN }) };
}

export const byId = (a: { transaction_id: string }, b: { transaction_id: string }): number =>
  a.transaction_id < b.transaction_id ? -1 : a.transaction_id > b.transaction_id ? 1 : 0;
