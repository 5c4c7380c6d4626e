import { describe, expect, it } from 'vitest';
import { createHudClient, createMemoryStorage, HudApiError, HudNetworkError, type HudClient } from '../src/index.js';
import { ManualTimers } from './support/manualTimers.js';
import { ScriptedBff } from './support/scriptedBff.js';

function openClient(server: ScriptedBff, headers?: () => Record<string, string>): Promise<HudClient> {
  const timers = new ManualTimers();
  return createHudClient({
    baseUrl: 'http://bff.test',
    identity: { tenant: 'default', role: 'operator', userId: 'u-1' },
    storage: createMemoryStorage(),
    fetch: server.fetch,
    clock: timers,
    timers,
    ...(headers ? { headers } : {}),
  });
}

const event = (id: string) => ({
  id,
  ts: '2026-11-22T03:00:00.000001Z',
  actor: { role: 'operator', id: 'u-1' },
  action: 'manual_review_request',
  subject_type: 'bank_tx',
  subject_id: 'tx 42/a',
  summary: 'amount looks wrong',
  details: { reason: 'amount looks wrong' },
  request_id: `req-${id}`,
});

describe('reads', () => {
  it('looks up the audit events of a subject with the identity headers, encoding the query', async () => {
    const server = new ScriptedBff();
    server.onGet = () => ({ status: 200, body: { tenant: 'default', items: [event('1')], next_cursor: null } });
    const client = await openClient(server, () => ({ Authorization: 'Bearer t' }));

    const page = await client.listAuditEvents({ subject_id: 'tx 42/a', action: ['manual_review_request', 'recon_decision'], limit: 20 });

    expect(page.items.map((e) => e.id)).toEqual(['1']);
    const [seen] = server.requests;
    expect(seen?.path).toBe('/v1/accounting/audit?action=manual_review_request%2Crecon_decision&subject_id=tx%2042%2Fa&limit=20');
    expect(seen?.headers).toMatchObject({ 'X-Tenant': 'default', 'X-User-Role': 'operator', 'X-User-Id': 'u-1', Authorization: 'Bearer t' });
  });

  it('follows next_cursor for the whole audit trail of a subject', async () => {
    const server = new ScriptedBff();
    server.onGet = (path) =>
      path.includes('cursor=c1')
        ? { status: 200, body: { tenant: 'default', items: [event('1')], next_cursor: null } }
        : { status: 200, body: { tenant: 'default', items: [event('3'), event('2')], next_cursor: 'c1' } };
    const client = await openClient(server);
    expect((await client.auditTrailOf('tx_42')).map((e) => e.id)).toEqual(['3', '2', '1']);
    expect(server.requests.map((r) => r.path)).toEqual([
      '/v1/accounting/audit?subject_id=tx_42&limit=200',
      '/v1/accounting/audit?subject_id=tx_42&limit=200&cursor=c1',
    ]);
  });

  it('lists recon suggestions by status', async () => {
    const server = new ScriptedBff();
    server.onGet = () => ({ status: 200, body: { tenant: 'default', items: [], next_cursor: null } });
    const client = await openClient(server);
    await client.listReconSuggestions({ status: ['suggested', 'blocked'], limit: 10 });
    await client.listReconSuggestions();
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/accounting/recon/suggestions?status=suggested%2Cblocked&limit=10', '/v1/accounting/recon/suggestions']);
  });

  it('throws HudApiError with the server error body', async () => {
    const server = new ScriptedBff();
    const body = { error_code: 'VALIDATION_FAILED', issues: [{ path: 'limit', message: 'too big' }], message: 'query is not valid', request_id: 'req-9' };
    server.onGet = () => ({ status: 400, body });
    const client = await openClient(server);
    const error = await client.listAuditEvents({ limit: 999 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HudApiError);
    expect(error).toMatchObject({ status: 400, errorCode: 'VALIDATION_FAILED', requestId: 'req-9', body });
  });

  it('names an answer that is not the API error shape by its status, with the X-Request-Id header', async () => {
    const server = new ScriptedBff();
    server.onGet = () => ({ status: 502, body: null, headers: { 'X-Request-Id': 'edge-1' } });
    const client = await openClient(server);
    await expect(client.listReconSuggestions()).rejects.toMatchObject({ status: 502, errorCode: 'HTTP_502', requestId: 'edge-1' });
  });

  it('throws HudNetworkError when no answer comes', async () => {
    const server = new ScriptedBff();
    server.reachable = false;
    const client = await openClient(server);
    await expect(client.listAuditEvents()).rejects.toBeInstanceOf(HudNetworkError);
    expect(await client.checkHealth()).toBe(false);
    server.reachable = true;
    expect(await client.checkHealth()).toBe(true);
  });
});
