import type { RunningBankSandbox } from '@accounting/bank-sandbox-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BankSandboxAdapter, BankSandboxError, parseRetryAfter } from '@accounting/service-core-accounting';
import { BANK_TOKEN, startTestBank } from '../../../test/support/bank.js';

let bank: RunningBankSandbox;
beforeAll(async () => {
  bank = await startTestBank();
});
afterAll(async () => {
  await bank?.close();
});

const adapter = (baseUrl: string, token = BANK_TOKEN) => new BankSandboxAdapter({ baseUrl, token, sleep: async () => undefined });

describe('BankSandboxAdapter', () => {
  it.each(['', '/', '//'])('accepts the base URL with %j after it', async (suffix) => {
    const { value, attempts } = await adapter(`${bank.url}${suffix}`).listAccounts('conn_default');
    expect(attempts).toBe(1);
    expect(value.map((a) => a.account_id)).toEqual(expect.arrayContaining(['acc_1']));
  });

  it('sends the token as a bearer token only', async () => {
    bank.sandbox.requestLog.clear();
    await adapter(bank.url).listAccounts('conn_default');
    expect(bank.sandbox.requestLog.entries()).toEqual([expect.objectContaining({ authorization: true, status: 200 })]);
  });

  it('maps the contract errors to typed errors without retrying them', async () => {
    await expect(adapter(bank.url).listAccounts('conn_missing')).rejects.toMatchObject({ code: 'CONNECTION_NOT_FOUND', attempts: 1 });
    const wrong = adapter(bank.url, 'not-the-token');
    const error = await wrong.listAccounts('conn_default').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(BankSandboxError);
    expect(error).toMatchObject({ code: 'INVALID_TOKEN', status: 401 });
    expect(String((error as Error).message)).not.toContain('not-the-token');
  });

  it('reports an unreachable bank as NETWORK_ERROR after its bounded attempts', async () => {
    const closed = await startTestBank();
    const url = closed.url;
    await closed.close();
    await expect(new BankSandboxAdapter({ baseUrl: url, token: BANK_TOKEN, maxAttempts: 2, sleep: async () => undefined }).listAccounts('conn_default')).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      attempts: 2,
    });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and ignores garbage', () => {
    expect(parseRetryAfter('7')).toBe(7_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 03:00:10 GMT', Date.parse('2026-11-22T03:00:00Z'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
