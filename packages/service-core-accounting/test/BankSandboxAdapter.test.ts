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

describe('BankSandboxAdapter against a hostile bank', () => {
  const hostile = (response: () => Response) =>
    new BankSandboxAdapter({ baseUrl: 'http://bank.invalid', token: BANK_TOKEN, fetch: async () => response(), sleep: async () => undefined });

  it('treats any 401 as INVALID_TOKEN, body or not, without retrying', async () => {
    await expect(hostile(() => new Response('', { status: 401 })).listAccounts('c')).rejects.toMatchObject({ code: 'INVALID_TOKEN', attempts: 1 });
  });

  it('falls back to its own backoff for a Retry-After it cannot read', async () => {
    const waits: number[] = [];
    const bank = new BankSandboxAdapter({
      baseUrl: 'http://bank.invalid',
      token: BANK_TOKEN,
      maxAttempts: 3,
      random: () => 1,
      sleep: async (ms) => {
        waits.push(ms);
      },
      fetch: async () => new Response('{}', { status: 429, headers: { 'Retry-After': '1.5' } }),
    });
    await expect(bank.listAccounts('c')).rejects.toMatchObject({ code: 'RATE_LIMITED', attempts: 3 });
    expect(waits).toEqual([250, 500]);
  });

  it('stops waiting and retrying when the caller cancels', async () => {
    const stop = new AbortController();
    const bank = new BankSandboxAdapter({
      baseUrl: 'http://bank.invalid',
      token: BANK_TOKEN,
      fetch: async () => {
        stop.abort();
        return new Response('', { status: 503 });
      },
    });
    await expect(bank.syncTransactions({ connectionId: 'c', cursor: null, count: 1, startDate: '2026-11-01' }, stop.signal)).rejects.toMatchObject({ code: 'TIMEOUT', attempts: 1 });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and ignores garbage', () => {
    expect(parseRetryAfter('7')).toBe(7_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 03:00:10 GMT', Date.parse('2026-11-22T03:00:00Z'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('1.5')).toBeUndefined();
    expect(parseRetryAfter('-1')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});
