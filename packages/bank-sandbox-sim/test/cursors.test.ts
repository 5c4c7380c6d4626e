import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createBankSandbox } from '../src/BankSandbox.js';
import { createBankSandboxApp } from '../src/http/createBankSandboxApp.js';
import { AUTH, buildSandbox, byId, NOW, TOKEN } from './support/fixtures.js';
import { ClientStore, syncPage, syncToEnd } from './support/syncClient.js';

async function syncWith(app: Parameters<typeof request>[0], cursor: string, connectionId = 'conn_default') {
  return request(app).post('/v1/transactions/sync').set(AUTH).send({ connection_id: connectionId, cursor, count: 10 });
}

describe('cursors', () => {
  it('are opaque base64url strings', async () => {
    const { app } = buildSandbox();
    const page = await syncPage(app, { connection_id: 'conn_default', cursor: null, count: 10 });
    expect(page.next_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('after expireCursors, a last-page cursor answers INVALID_CURSOR, and a full resync from start_date works', async () => {
    const { app, sandbox } = buildSandbox();
    const client = new ClientStore();
    const run = await syncToEnd(app, client, { startDate: '2026-11-15' });
    sandbox.expireCursors();
    const res = await syncWith(app, run.cursor);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error_code: 'INVALID_CURSOR', error_message: expect.any(String) });

    await syncToEnd(app, client, { startDate: '2026-11-15' });
    expect(client.sorted()).toEqual(sandbox.getState('conn_default', { startDate: '2026-11-15' }).transactions.sort(byId));
  });

  it('after expireCursors, a mid-run cursor answers INVALID_CURSOR too', async () => {
    const { app, sandbox } = buildSandbox();
    const first = await syncPage(app, { connection_id: 'conn_default', cursor: null, count: 10 });
    sandbox.expireCursors();
    expect((await syncWith(app, first.next_cursor)).body.error_code).toBe('INVALID_CURSOR');
  });

  it.each([
    ['an empty string', ''],
    ['garbage', 'not a cursor!'],
    ['base64url of something else', Buffer.from('{"hello":1}').toString('base64url')],
  ])('answers INVALID_CURSOR for %s', async (_name, cursor) => {
    const { app } = buildSandbox();
    const res = await syncWith(app, cursor);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('INVALID_CURSOR');
  });

  it('answers INVALID_CURSOR for a cursor whose position was tampered with', async () => {
    const { app } = buildSandbox();
    const page = await syncPage(app, { connection_id: 'conn_default', cursor: null, count: 10 });
    const wire = JSON.parse(Buffer.from(page.next_cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...wire, o: 100_000 })).toString('base64url');
    expect((await syncWith(app, forged)).body.error_code).toBe('INVALID_CURSOR');
  });

  it('answers INVALID_CURSOR for a cursor of another connection', async () => {
    const { app } = buildSandbox({
      connections: [
        { id: 'conn_a', days: 3, perDay: 5 },
        { id: 'conn_b', days: 3, perDay: 5 },
      ],
    });
    const run = await syncToEnd(app, new ClientStore(), { connectionId: 'conn_a' });
    expect((await syncWith(app, run.cursor, 'conn_b')).body.error_code).toBe('INVALID_CURSOR');
  });

  it('answers INVALID_CURSOR for a cursor from an earlier sandbox process (a restart), even with the same seed', async () => {
    const options = { seed: 7, now: NOW, connections: [{ id: 'conn_default', days: 3, perDay: 5 }] };
    const before = createBankSandboxApp({ sandbox: createBankSandbox(options), token: TOKEN });
    const after = createBankSandboxApp({ sandbox: createBankSandbox(options), token: TOKEN });
    const run = await syncToEnd(before, new ClientStore(), {});
    expect((await syncWith(after, run.cursor)).body.error_code).toBe('INVALID_CURSOR');
  });

  it('after reset, earlier cursors answer INVALID_CURSOR', async () => {
    const { app, sandbox } = buildSandbox();
    const run = await syncToEnd(app, new ClientStore(), {});
    sandbox.reset();
    expect((await syncWith(app, run.cursor)).body.error_code).toBe('INVALID_CURSOR');
  });

  it('ignores start_date when a cursor is given: the window stays the one of the full sync', async () => {
    const { app, sandbox } = buildSandbox();
    const client = new ClientStore();
    const run = await syncToEnd(app, client, { startDate: '2026-11-20' });
    const old = sandbox.addTransaction('conn_default', { amount: '-1000', booked_date: '2026-11-14' });
    const page = await syncPage(app, { connection_id: 'conn_default', cursor: run.cursor, start_date: '2026-11-01' });
    expect(page.added).toEqual([]);
    expect(page.removed).toEqual([{ transaction_id: old.transaction_id }]);
  });
});
