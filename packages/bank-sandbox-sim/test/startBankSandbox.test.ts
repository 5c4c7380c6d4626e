import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBankSandbox, type RunningBankSandbox } from '../src/startBankSandbox.js';
import { contractSyncPageSchema } from './support/contractSchema.js';
import { AUTH, NOW, TOKEN } from './support/fixtures.js';

describe('startBankSandbox', () => {
  let running: RunningBankSandbox;
  beforeAll(async () => {
    running = await startBankSandbox({ token: TOKEN, seed: 7, now: NOW, connections: [{ id: 'conn_default', days: 3, perDay: 5 }] });
  });
  afterAll(async () => {
    await running?.close();
  });

  it('listens on 127.0.0.1 on a free port and reports the URL', () => {
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
    expect(running.port).toBeGreaterThan(0);
  });

  it('serves the contract over HTTP', async () => {
    const res = await fetch(`${running.url}/v1/transactions/sync`, {
      method: 'POST',
      headers: { ...AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify({ connection_id: 'conn_default', cursor: null, count: 100 }),
    });
    expect(res.status).toBe(200);
    expect(contractSyncPageSchema.parse(await res.json()).added).toHaveLength(15);
  });

  it('exposes the same sandbox the server uses', async () => {
    running.sandbox.addTransaction('conn_default', { amount: '-1000' });
    const res = await fetch(`${running.url}/__sandbox/connections/conn_default/state`);
    expect(((await res.json()) as { transaction_count: number }).transaction_count).toBe(16);
  });

  it('stops listening on close', async () => {
    const other = await startBankSandbox({ token: TOKEN, now: NOW });
    await other.close();
    await expect(fetch(`${other.url}/__sandbox/connections`)).rejects.toThrow();
  });
});
