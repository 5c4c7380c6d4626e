import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../src/random.js';
import { AUTH, buildSandbox, byId, NOW } from './support/fixtures.js';
import { ClientStore, syncPage, syncToEnd } from './support/syncClient.js';

const START = '2026-11-14';

/** A sandbox and a client that has finished its first full sync from START. */
async function synced(count = 50) {
  const t = buildSandbox();
  const client = new ClientStore();
  const run = await syncToEnd(t.app, client, { count, startDate: START });
  const state = () => t.sandbox.getState('conn_default', { startDate: START }).transactions.sort(byId);
  return { ...t, client, cursor: run.cursor, state };
}

function firstPending(transactions: { transaction_id: string; status: string; booked_date: string }[]) {
  const pending = transactions.find((tx) => tx.status === 'pending');
  if (!pending) throw new Error('the seeded data has no pending transaction');
  return pending;
}

describe('an incremental sync (cursor of a last page)', () => {
  it('with no change since, answers an empty last page', async () => {
    const { app, cursor } = await synced();
    const page = await syncPage(app, { connection_id: 'conn_default', cursor });
    expect(page).toMatchObject({ added: [], modified: [], removed: [], has_more: false });
  });

  it('returns an added transaction in added', async () => {
    const { app, sandbox, client, cursor, state } = await synced();
    const tx = sandbox.addTransaction('conn_default', { amount: '-12000', description: 'CARD 4821 STARBUCKS GANGNAM', counterparty: 'STARBUCKS' });
    const run = await syncToEnd(app, client, { cursor });
    expect(run.pages).toHaveLength(1);
    expect(run.pages[0]).toMatchObject({ added: [tx], modified: [], removed: [] });
    expect(tx).toMatchObject({ booked_date: '2026-11-22', status: 'posted', currency: 'KRW', updated_at: '2026-11-22T03:10:00Z' });
    expect(client.sorted()).toEqual(state());
  });

  it('returns the whole new version of a modified transaction in modified', async () => {
    const { app, sandbox, client, cursor, state } = await synced();
    const target = state()[3];
    if (!target) throw new Error('no data');
    const modified = sandbox.modifyTransaction('conn_default', target.transaction_id, { description: 'RENAMED', reference: 'INV-2026-9999' });
    const run = await syncToEnd(app, client, { cursor });
    expect(run.pages[0]).toMatchObject({ added: [], modified: [modified], removed: [] });
    expect(modified).toEqual({ ...target, description: 'RENAMED', reference: 'INV-2026-9999', updated_at: '2026-11-22T03:10:00Z' });
    expect(client.sorted()).toEqual(state());
  });

  it('returns a removed transaction id in removed', async () => {
    const { app, sandbox, client, cursor, state } = await synced();
    const target = state()[5];
    if (!target) throw new Error('no data');
    sandbox.removeTransaction('conn_default', target.transaction_id);
    const run = await syncToEnd(app, client, { cursor });
    expect(run.pages[0]).toMatchObject({ added: [], modified: [], removed: [{ transaction_id: target.transaction_id }] });
    expect(client.rows.has(target.transaction_id)).toBe(false);
    expect(client.sorted()).toEqual(state());
  });

  it('posting a pending transaction sends the pending id in removed and the posted one in added with pending_transaction_id', async () => {
    const { app, sandbox, client, cursor, state } = await synced();
    const pending = firstPending(state());
    const posted = sandbox.postTransaction('conn_default', pending.transaction_id, { amount: '-15000' });
    const run = await syncToEnd(app, client, { cursor });
    expect(run.pages[0]).toMatchObject({ added: [posted], modified: [], removed: [{ transaction_id: pending.transaction_id }] });
    expect(posted).toMatchObject({ status: 'posted', pending_transaction_id: pending.transaction_id, amount: '-15000' });
    expect(posted.transaction_id).not.toBe(pending.transaction_id);
    expect(client.sorted()).toEqual(state());
  });

  it('the removal of the pending id and the posted transaction may land on different pages, and the end state is right', async () => {
    const { app, sandbox, client, cursor, state } = await synced();
    const pending = firstPending(state());
    const posted = sandbox.postTransaction('conn_default', pending.transaction_id);
    const run = await syncToEnd(app, client, { cursor, count: 1 });
    expect(run.pages.map((p) => [p.removed, p.added, p.has_more])).toEqual([
      [[{ transaction_id: pending.transaction_id }], [], true],
      [[], [posted], false],
    ]);
    expect(client.sorted()).toEqual(state());
  });

  it("with order 'added_first', the posted transaction comes on the page before the pending id's removal", async () => {
    const { app, sandbox, client, cursor, state } = await synced();
    const pending = firstPending(state());
    const posted = sandbox.postTransaction('conn_default', pending.transaction_id, { order: 'added_first' });
    const run = await syncToEnd(app, client, { cursor, count: 1 });
    expect(run.pages.map((p) => [p.added, p.removed])).toEqual([
      [[posted], []],
      [[], [{ transaction_id: pending.transaction_id }]],
    ]);
    expect(client.sorted()).toEqual(state());
  });

  it('a pending transaction added and posted since the cursor arrives as its posted version, plus a removal of an id the client never saw', async () => {
    const { app, sandbox, client, cursor, state } = await synced();
    const pending = sandbox.addTransaction('conn_default', { amount: '-8000', status: 'pending' });
    const posted = sandbox.postTransaction('conn_default', pending.transaction_id);
    const run = await syncToEnd(app, client, { cursor });
    expect(run.pages[0]).toMatchObject({ added: [posted], removed: [{ transaction_id: pending.transaction_id }] });
    expect(client.unknownRemovals).toBe(1);
    expect(client.sorted()).toEqual(state());
  });

  it('a transaction modified to a date before start_date leaves the window as removed, and comes back as added', async () => {
    const { app, sandbox, client, cursor, state } = await synced();
    const target = state()[0];
    if (!target) throw new Error('no data');
    sandbox.modifyTransaction('conn_default', target.transaction_id, { booked_date: '2026-11-01' });
    const out = await syncToEnd(app, client, { cursor });
    expect(out.pages[0]).toMatchObject({ added: [], modified: [], removed: [{ transaction_id: target.transaction_id }] });
    expect(client.sorted()).toEqual(state());

    const back = sandbox.modifyTransaction('conn_default', target.transaction_id, { booked_date: START });
    const again = await syncToEnd(app, client, { cursor: out.cursor });
    expect(again.pages[0]).toMatchObject({ added: [back], modified: [], removed: [] });
    expect(client.sorted()).toEqual(state());
  });

  it('sends each changed id once, with its latest version, however often it changed', async () => {
    const { app, sandbox, client, cursor, state } = await synced();
    const target = state()[2];
    if (!target) throw new Error('no data');
    sandbox.modifyTransaction('conn_default', target.transaction_id, { amount: '-1000' });
    const last = sandbox.modifyTransaction('conn_default', target.transaction_id, { amount: '-2000' });
    const run = await syncToEnd(app, client, { cursor });
    expect(run.pages[0]?.modified).toEqual([last]);
    expect(client.sorted()).toEqual(state());
  });

  it('the cursor of the last page resumes exactly after everything returned: nothing twice, nothing missed', async () => {
    const { app, sandbox, client, cursor, state } = await synced();
    const a = sandbox.addTransaction('conn_default', { amount: '-1000' });
    const first = await syncToEnd(app, client, { cursor });
    const b = sandbox.addTransaction('conn_default', { amount: '-2000' });
    const second = await syncToEnd(app, client, { cursor: first.cursor });
    expect(first.pages.flatMap((p) => p.added)).toEqual([a]);
    expect(second.pages.flatMap((p) => p.added)).toEqual([b]);
    const third = await syncToEnd(app, client, { cursor: second.cursor });
    expect(third.pages).toEqual([expect.objectContaining({ added: [], modified: [], removed: [], has_more: false })]);
    expect(client.sorted()).toEqual(state());
  });

  it('a last-page cursor still works 31 days later', async () => {
    let now = NOW.getTime();
    const t = buildSandbox({ now: () => new Date(now) });
    const client = new ClientStore();
    const run = await syncToEnd(t.app, client, { startDate: START });
    now += 31 * 86_400_000;
    const tx = t.sandbox.addTransaction('conn_default', { amount: '-3000' });
    const later = await syncToEnd(t.app, client, { cursor: run.cursor });
    expect(later.pages[0]?.added).toEqual([tx]);
  });

  it('when the data changes between two pages of an incremental run, the next page answers MUTATION_DURING_PAGINATION, and a restart from the run start cursor reaches the state', async () => {
    const { app, sandbox, client, cursor, state } = await synced();
    for (let i = 0; i < 5; i++) sandbox.addTransaction('conn_default', { amount: `-${1000 + i}` });
    const first = await syncPage(app, { connection_id: 'conn_default', cursor, count: 2 });
    expect(first.has_more).toBe(true);
    sandbox.addTransaction('conn_default', { amount: '-9999' });
    const res = await request(app).post('/v1/transactions/sync').set(AUTH).send({ connection_id: 'conn_default', cursor: first.next_cursor, count: 2 });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('MUTATION_DURING_PAGINATION');

    await syncToEnd(app, client, { cursor, count: 2 });
    expect(client.sorted()).toEqual(state());
  });

  it('after any seeded mix of adds, modifies, posts and removes, applying every page in order yields exactly the state', async () => {
    const { app, sandbox, client, state, ...first } = await synced(13);
    let cursor = first.cursor;
    const random = createRandom('mix');

    for (let round = 0; round < 25; round++) {
      for (let op = random.int(0, 12); op > 0; op--) {
        const current = sandbox.getState('conn_default').transactions;
        const target = random.pick(current);
        const pending = current.filter((tx) => tx.status === 'pending');
        switch (random.int(0, 5)) {
          case 0:
            sandbox.addTransaction('conn_default', { amount: `-${random.int(1, 900) * 100}`, status: random.chance(0.4) ? 'pending' : 'posted', booked_date: random.pick(['2026-11-10', START, '2026-11-21']) });
            break;
          case 1:
            sandbox.modifyTransaction('conn_default', target.transaction_id, { amount: `-${random.int(1, 900) * 100}` });
            break;
          case 2:
            sandbox.modifyTransaction('conn_default', target.transaction_id, { booked_date: random.pick(['2026-11-12', START, '2026-11-20']) });
            break;
          case 3:
            if (pending.length > 0) sandbox.postTransaction('conn_default', random.pick(pending).transaction_id, { order: random.chance(0.5) ? 'added_first' : 'removed_first' });
            break;
          default:
            sandbox.removeTransaction('conn_default', target.transaction_id);
        }
      }
      cursor = (await syncToEnd(app, client, { cursor, count: random.int(1, 20) })).cursor;
      expect(client.sorted(), `round ${round}`).toEqual(state());
    }
  });
});
