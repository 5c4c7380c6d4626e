import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { AUTH, buildSandbox, byId } from './support/fixtures.js';
import { ClientStore, syncPage, syncToEnd } from './support/syncClient.js';

describe('a full sync (cursor null)', () => {
  it('pages every transaction booked on or after start_date exactly once, and the client ends with exactly that state', async () => {
    const { app, sandbox } = buildSandbox();
    const client = new ClientStore();
    const run = await syncToEnd(app, client, { count: 7, startDate: '2026-11-16' });

    const expected = sandbox.getState('conn_default', { startDate: '2026-11-16' }).transactions.sort(byId);
    expect(expected.length).toBeGreaterThan(50);
    expect(client.sorted()).toEqual(expected);
    const sent = run.pages.flatMap((p) => p.added.map((tx) => tx.transaction_id));
    expect(new Set(sent).size).toBe(sent.length);
    expect(run.pages.every((p) => p.modified.length === 0 && p.removed.length === 0)).toBe(true);
  });

  it('leaves out transactions booked before start_date', async () => {
    const { app } = buildSandbox();
    const client = new ClientStore();
    await syncToEnd(app, client, { count: 500, startDate: '2026-11-20' });
    const dates = client.sorted().map((tx) => tx.booked_date);
    expect(dates.length).toBeGreaterThan(0);
    expect(dates.every((d) => d >= '2026-11-20')).toBe(true);
  });

  it('without start_date returns the whole history', async () => {
    const { app, sandbox } = buildSandbox();
    const client = new ClientStore();
    await syncToEnd(app, client, { count: 500 });
    expect(client.rows.size).toBe(sandbox.getState('conn_default').transaction_count);
  });

  it('fills every page up to count and sets has_more false only on the last one', async () => {
    const { app } = buildSandbox();
    const run = await syncToEnd(app, new ClientStore(), { count: 25 });
    const sizes = run.pages.map((p) => p.added.length);
    expect(sizes.slice(0, -1).every((n) => n === 25)).toBe(true);
    expect(sizes.at(-1)).toBeLessThanOrEqual(25);
    expect(run.pages.map((p) => p.has_more)).toEqual([...Array(run.pages.length - 1).fill(true), false]);
  });

  it('answers the same page again when a page is retried with the same cursor', async () => {
    const { app } = buildSandbox();
    const first = await syncPage(app, { connection_id: 'conn_default', cursor: null, count: 10 });
    const once = await syncPage(app, { connection_id: 'conn_default', cursor: first.next_cursor, count: 10 });
    const again = await syncPage(app, { connection_id: 'conn_default', cursor: first.next_cursor, count: 10 });
    expect(again).toEqual(once);
  });

  it('answers an empty last page with a usable cursor for a connection without transactions', async () => {
    const { app } = buildSandbox({ connections: [{ id: 'conn_empty', days: 0, perDay: 0 }] });
    const page = await syncPage(app, { connection_id: 'conn_empty', cursor: null });
    expect(page).toMatchObject({ added: [], modified: [], removed: [], has_more: false });
    const next = await syncPage(app, { connection_id: 'conn_empty', cursor: page.next_cursor });
    expect(next.added).toEqual([]);
  });

  it('when the data changes between two pages of the snapshot, the next page answers MUTATION_DURING_PAGINATION', async () => {
    const { app, sandbox } = buildSandbox();
    const first = await syncPage(app, { connection_id: 'conn_default', cursor: null, count: 10 });
    sandbox.addTransaction('conn_default', { amount: '-5000' });
    const res = await request(app)
      .post('/v1/transactions/sync')
      .set(AUTH)
      .send({ connection_id: 'conn_default', cursor: first.next_cursor, count: 10 });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error_code: 'MUTATION_DURING_PAGINATION', error_message: expect.any(String) });
  });

  it('after MUTATION_DURING_PAGINATION, restarting the full sync from null reaches the new state', async () => {
    const { app, sandbox } = buildSandbox();
    const first = await syncPage(app, { connection_id: 'conn_default', cursor: null, count: 10 });
    const added = sandbox.addTransaction('conn_default', { amount: '-5000' });
    const res = await request(app).post('/v1/transactions/sync').set(AUTH).send({ connection_id: 'conn_default', cursor: first.next_cursor });
    expect(res.body.error_code).toBe('MUTATION_DURING_PAGINATION');

    const client = new ClientStore();
    await syncToEnd(app, client, { count: 10 });
    expect(client.rows.get(added.transaction_id)).toEqual(added);
    expect(client.sorted()).toEqual(sandbox.getState('conn_default').transactions.sort(byId));
  });
});
