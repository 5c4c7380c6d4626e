import { describe, expect, it } from 'vitest';
import {
  createHudClient,
  createMemoryStorage,
  QueueStorageError,
  type HudClient,
  type HudClientOptions,
  type HudIdentity,
  type QueueStorage,
} from '../src/index.js';
import { ManualTimers } from './support/manualTimers.js';
import { ScriptedBff } from './support/scriptedBff.js';

const operator: HudIdentity = { tenant: 'default', role: 'operator', userId: 'u-1' };
const review = (subjectId: string) => ({ subject_type: 'bank_tx', subject_id: subjectId, reason: 'amount looks wrong' });

interface Harness {
  client: HudClient;
  server: ScriptedBff;
  timers: ManualTimers;
  storage: QueueStorage;
}

async function openClient(
  options: { server?: ScriptedBff; storage?: QueueStorage; timers?: ManualTimers } & Partial<HudClientOptions> = {},
): Promise<Harness> {
  const { server = new ScriptedBff(), storage = createMemoryStorage(), timers = new ManualTimers(), ...rest } = options;
  const client = await createHudClient({
    baseUrl: 'http://bff.test/',
    identity: operator,
    storage,
    fetch: server.fetch,
    clock: timers,
    timers,
    random: () => 0,
    ...rest,
  });
  return { client, server, timers, storage };
}

/** The stored queue document, as a restarted app would read it. */
async function stored(storage: QueueStorage): Promise<{ items: { idempotencyKey: string }[]; deadLetters: { error: { error_code: string } }[] }> {
  return JSON.parse((await storage.read()) ?? 'null');
}

describe('writes made offline', () => {
  it('are stored with an Idempotency-Key fixed at enqueue, counted for the badge, and not sent', async () => {
    const { client, server, storage } = await openClient({ online: false });
    const counts: number[] = [];
    const unsubscribe = client.queue.queueCount.subscribe((count) => counts.push(count));

    const outcomes = [
      await client.requestManualReview(review('tx_1')),
      await client.requestManualReview(review('tx_2')),
      await client.requestManualReview(review('tx_3')),
      await client.decideReconSuggestion('41', { decision: 'confirm', entry_id: 'e-1' }),
    ];

    expect(outcomes.map((o) => o.outcome)).toEqual(['queued', 'queued', 'queued', 'queued']);
    expect(client.queue.queueCount.get()).toBe(4);
    expect(counts).toEqual([1, 2, 3, 4]);
    expect(server.attempts).toEqual([]);
    const keys = (await stored(storage)).items.map((item) => item.idempotencyKey);
    expect(new Set(keys).size).toBe(4);
    expect(keys).toEqual(outcomes.map((o) => o.item.idempotencyKey));

    unsubscribe();
    await client.requestManualReview(review('tx_4'));
    expect(counts).toEqual([1, 2, 3, 4]);
  });

  it('are sent strictly in order when the network comes back, each once, with the key it was given', async () => {
    const { client, server, storage } = await openClient({ online: false });
    await client.requestManualReview(review('tx_1'));
    await client.decideReconSuggestion('41', { decision: 'decline', note: 'not ours' });
    await client.requestManualReview(review('tx_2'));
    const keys = client.queue.pending.get().map((item) => item.idempotencyKey);

    const report = await client.online();

    expect(report.applied.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(report.stopped).toBeNull();
    expect(server.writes().map((w) => [w.method, w.path, w.headers['Idempotency-Key']])).toEqual([
      ['POST', '/v1/accounting/audit/manual-review', keys[0]],
      ['POST', '/v1/accounting/recon/suggestions/41/decision', keys[1]],
      ['POST', '/v1/accounting/audit/manual-review', keys[2]],
    ]);
    expect(server.writes()[1]?.body).toEqual({ decision: 'decline', note: 'not ours' });
    expect(client.queue.queueCount.get()).toBe(0);
    expect((await stored(storage)).items).toEqual([]);
  });

  it('are sent as the identity that made them, even after the app switched user', async () => {
    let identity: HudIdentity = operator;
    const { client, server } = await openClient({ online: false, identity: () => identity });
    await client.requestManualReview(review('tx_1'));
    identity = { tenant: 'pilot-a', role: 'admin' };
    await client.online();
    expect(server.writes()[0]?.headers).toMatchObject({ 'X-Tenant': 'default', 'X-User-Role': 'operator', 'X-User-Id': 'u-1' });
  });
});

describe('a write made online', () => {
  it('is sent at once and answers the server body; client_ts says when it was asked', async () => {
    const { client, server, timers } = await openClient();
    const outcome = await client.requestManualReview({ ...review('tx_9'), note: 'see receipt' });
    expect(outcome).toMatchObject({ outcome: 'applied', status: 201, replayed: false });
    const sent = server.writes()[0];
    expect(sent?.body).toEqual({ ...review('tx_9'), note: 'see receipt', client_ts: new Date(timers.now()).toISOString() });
    expect(sent?.headers).toMatchObject({ 'Content-Type': 'application/json', 'X-Tenant': 'default', 'X-User-Role': 'operator' });
    expect(outcome.outcome === 'applied' && outcome.body).toMatchObject({ request: { subject_id: 'tx_9' } });
    expect(client.queue.queueCount.get()).toBe(0);
  });
});

describe('flushing', () => {
  it('is single-flight: two online() calls while a flush runs send each write once', async () => {
    const { client, server } = await openClient({ online: false });
    for (const subject of ['tx_1', 'tx_2', 'tx_3']) await client.requestManualReview(review(subject));
    let release!: () => void;
    server.next({ hold: new Promise<void>((resolve) => (release = resolve)) });

    const first = client.online();
    await server.writesReceived(1);
    const second = client.online();
    release();
    const [a, b] = await Promise.all([first, second]);

    expect(b).toBe(a);
    expect(a.applied).toHaveLength(3);
    const keys = server.writes().map((w) => w.headers['Idempotency-Key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    expect(server.applied).toHaveLength(3);
  });

  it('keeps a write that got a 5xx at the head and retries it with exponential backoff and the same key, sending nothing after it meanwhile', async () => {
    const { client, server, timers } = await openClient({ online: false });
    await client.requestManualReview(review('tx_head'));
    await client.requestManualReview(review('tx_next'));
    const [head, next] = client.queue.pending.get();
    const unavailable = { status: 503, body: { error_code: 'INTERNAL', message: 'down', request_id: 'r' } };
    server.next(unavailable, unavailable, { status: 500, body: { error_code: 'INTERNAL', message: 'boom', request_id: 'r' } });

    const report = await client.online();
    expect(report.stopped).toMatchObject({ reason: 'retry', failure: { status: 503, error_code: 'INTERNAL' }, retryInMs: 1_000 });
    expect(client.queue.status.get()).toBe('waiting');
    expect(timers.pendingDelays()).toEqual([1_000]);

    timers.advance(1_000);
    await client.queue.idle();
    expect(timers.pendingDelays()).toEqual([2_000]);
    timers.advance(2_000);
    await client.queue.idle();
    expect(timers.pendingDelays()).toEqual([4_000]);
    expect(client.queue.pending.get()[0]).toMatchObject({ id: head?.id, attempts: 3, lastFailure: { status: 500 } });

    timers.advance(4_000);
    await client.queue.idle();
    expect(client.queue.queueCount.get()).toBe(0);
    expect(server.writes().map((w) => w.headers['Idempotency-Key'])).toEqual([
      head?.idempotencyKey,
      head?.idempotencyKey,
      head?.idempotencyKey,
      head?.idempotencyKey,
      next?.idempotencyKey,
    ]);
    expect(server.applied.map((a) => a.key)).toEqual([head?.idempotencyKey, next?.idempotencyKey]);
  });

  it('waits at least what Retry-After of a 429 asks', async () => {
    const { client, server, timers } = await openClient();
    server.next({ status: 429, headers: { 'Retry-After': '30' }, body: { error_code: 'RATE_LIMITED', message: 'slow down', request_id: 'r' } });
    const outcome = await client.requestManualReview(review('tx_1'));
    expect(outcome.outcome).toBe('queued');
    expect(timers.pendingDelays()).toEqual([30_000]);
  });

  it('retries 408 and 409 IDEMPOTENCY_IN_PROGRESS, and dead-letters any other 409', async () => {
    const { client, server, timers } = await openClient({ online: false });
    await client.decideReconSuggestion('7', { decision: 'confirm' });
    await client.requestManualReview(review('tx_1'));
    server.next(
      { status: 408, body: { error_code: 'TIMEOUT', message: 'slow', request_id: 'r1' } },
      { status: 409, body: { error_code: 'IDEMPOTENCY_IN_PROGRESS', message: 'retry shortly', request_id: 'r2' } },
    );
    await client.online();
    timers.advance(1_000);
    await client.queue.idle();
    expect(client.queue.queueCount.get()).toBe(2);
    expect(client.queue.deadLetters.get()).toEqual([]);

    server.next({ status: 409, body: { error_code: 'SUGGESTION_ALREADY_DECIDED', message: 'decided', request_id: 'r3' } });
    timers.advance(2_000);
    await client.queue.idle();
    expect(client.queue.deadLetters.get().map((d) => [d.item.kind, d.status, d.error.error_code])).toEqual([
      ['recon_decision', 409, 'SUGGESTION_ALREADY_DECIDED'],
    ]);
    expect(client.queue.queueCount.get()).toBe(0);
    expect(server.applied.map((a) => a.path)).toEqual(['/v1/accounting/audit/manual-review']);
  });

  it('dead-letters a confirm answered 409 ENTRY_ALREADY_MATCHED with its body, and sends the next write', async () => {
    const { client, server, timers } = await openClient({ online: false });
    await client.decideReconSuggestion('7', { decision: 'confirm', entry_id: 'le_1' });
    await client.requestManualReview(review('tx_1'));
    const refusal = { error_code: 'ENTRY_ALREADY_MATCHED', entry_id: 'le_1', matched_external_id: 'tx_9', message: 'matched', request_id: 'r4' };
    server.next({ status: 409, body: refusal });
    await client.online();
    await client.queue.idle();
    expect(client.queue.deadLetters.get().map((d) => [d.item.kind, d.status, d.error])).toEqual([['recon_decision', 409, refusal]]);
    expect(server.applied.map((a) => a.path)).toEqual(['/v1/accounting/audit/manual-review']);
    expect(timers.pendingDelays()).toEqual([]);
  });

  it('after no answer, asks GET /health before sending again, and sends once the server answers', async () => {
    const { client, server, timers } = await openClient();
    server.reachable = false;
    const outcome = await client.requestManualReview(review('tx_1'));
    expect(outcome).toMatchObject({ outcome: 'queued', item: { attempts: 1, lastFailure: { status: null, error_code: 'NETWORK_ERROR' } } });
    expect(timers.pendingDelays()).toEqual([1_000]);

    timers.advance(1_000);
    await client.queue.idle();
    expect(timers.pendingDelays()).toEqual([2_000]);
    server.reachable = true;
    timers.advance(2_000);
    await client.queue.idle();

    expect(server.attempts).toEqual([
      'POST /v1/accounting/audit/manual-review',
      'GET /health',
      'GET /health',
      'POST /v1/accounting/audit/manual-review',
    ]);
    expect(client.queue.queueCount.get()).toBe(0);
  });

  it('counts a request that gets no answer in time as a network failure', async () => {
    const { client, server, timers } = await openClient({ requestTimeoutMs: 5_000 });
    server.next({ hold: new Promise<void>(() => undefined) });
    const pending = client.requestManualReview(review('tx_1'));
    await server.writesReceived(1);
    timers.advance(5_000);
    expect(await pending).toMatchObject({ outcome: 'queued', item: { lastFailure: { error_code: 'NETWORK_ERROR', message: 'no answer within 5000 ms' } } });
  });

  it('sends nothing while the app says offline, and a scheduled retry is cancelled', async () => {
    const { client, server, timers } = await openClient();
    server.next({ status: 503, body: { error_code: 'INTERNAL', message: 'down', request_id: 'r' } });
    await client.requestManualReview(review('tx_1'));
    client.offline();
    expect(timers.pendingDelays()).toEqual([]);
    expect(client.queue.status.get()).toBe('offline');
    expect((await client.requestManualReview(review('tx_2'))).outcome).toBe('queued');
    expect((await client.queue.flush()).stopped).toEqual({ reason: 'offline' });
    expect(server.writes()).toHaveLength(1);
  });
});

describe('a write the server applied but whose answer was lost', () => {
  it('is sent again with the same key and answered by the server replay, not applied twice', async () => {
    const { client, server } = await openClient();
    server.next({ loseResponse: true });
    const outcome = await client.requestManualReview(review('tx_lost'));
    expect(outcome.outcome).toBe('queued');
    expect(server.applied).toHaveLength(1);

    const report = await client.online();
    expect(report.applied.map((a) => [a.status, a.replayed])).toEqual([[201, true]]);
    expect(server.writes().map((w) => w.headers['Idempotency-Key'])).toEqual([outcome.item.idempotencyKey, outcome.item.idempotencyKey]);
    expect(server.applied).toHaveLength(1);
  });

  it('survives a crash before the queue recorded the answer: the restarted app replays it, nothing is lost or doubled', async () => {
    const durable = createMemoryStorage();
    let crashed = false;
    // After the crash the process is gone: nothing it would still write reaches the disk.
    const dying: QueueStorage = {
      read: () => durable.read(),
      write: async (document) => {
        if (crashed) throw new Error('process killed');
        await durable.write(document);
      },
    };
    const server = new ScriptedBff();
    const before = await openClient({ server, storage: dying, online: false });
    await before.client.requestManualReview(review('tx_1'));
    await before.client.requestManualReview(review('tx_2'));
    const keys = before.client.queue.pending.get().map((item) => item.idempotencyKey);
    const applyThenCrash = server.fetch;
    const fetch: typeof server.fetch = async (url, init) => {
      const response = await applyThenCrash(url, init);
      crashed = true;
      return response;
    };
    await before.client.close();
    const crashing = await openClient({ server, storage: dying, online: false, fetch });
    await expect(crashing.client.online()).rejects.toThrow('process killed');
    expect(server.applied).toHaveLength(1);

    const restarted = await openClient({ server, storage: createMemoryStorage(durable.document()) });
    expect(restarted.client.queue.queueCount.get()).toBe(2);
    const report = await restarted.client.online();

    expect(report.applied.map((a) => [a.item.idempotencyKey, a.replayed])).toEqual([
      [keys[0], true],
      [keys[1], false],
    ]);
    expect(server.applied.map((a) => a.key)).toEqual(keys);
  });
});

describe('dead letters', () => {
  it('take a permanent 4xx with the server error body; the queue goes on; they survive a restart', async () => {
    const storage = createMemoryStorage();
    const { client, server } = await openClient({ storage, online: false });
    await client.decideReconSuggestion('41', { decision: 'confirm', entry_id: 'e-9' });
    await client.requestManualReview(review('tx_after'));
    const refusal = {
      error_code: 'ENTRY_NOT_A_CANDIDATE',
      candidates: ['e-1'],
      message: 'the entry is not a candidate of this suggestion',
      request_id: 'req-77',
    };
    server.next({ status: 422, body: refusal });

    const report = await client.online();

    expect(report.deadLettered.map((d) => [d.status, d.error])).toEqual([[422, refusal]]);
    expect(report.applied.map((a) => a.item.kind)).toEqual(['manual_review']);
    expect(client.queue.queueCount.get()).toBe(0);
    expect(client.queue.deadLetters.get()[0]).toMatchObject({
      item: { kind: 'recon_decision', attempts: 1, lastFailure: { status: 422, error_code: 'ENTRY_NOT_A_CANDIDATE', request_id: 'req-77' } },
    });
    expect((await stored(storage)).deadLetters.map((d) => d.error.error_code)).toEqual(['ENTRY_NOT_A_CANDIDATE']);

    const restarted = await openClient({ server, storage });
    expect(restarted.client.queue.deadLetters.get().map((d) => d.error.error_code)).toEqual(['ENTRY_NOT_A_CANDIDATE']);
  });

  it('are sent again only when retried, with their key (or a new one when asked)', async () => {
    const { client, server } = await openClient();
    server.next(
      { status: 400, body: { error_code: 'VALIDATION_FAILED', message: 'bad', request_id: 'r1', issues: [] } },
      { status: 422, body: { error_code: 'IDEMPOTENCY_KEY_REUSED', message: 'reused', request_id: 'r2' } },
    );
    const first = await client.requestManualReview(review('tx_a'));
    const second = await client.requestManualReview(review('tx_b'));
    expect([first.outcome, second.outcome]).toEqual(['dead_lettered', 'dead_lettered']);
    expect(server.writes()).toHaveLength(2);

    const again = await client.queue.retryDeadLetter(first.item.id);
    expect(again).toMatchObject({ outcome: 'applied', item: { idempotencyKey: first.item.idempotencyKey } });
    const renewed = await client.queue.retryDeadLetter(second.item.id, { newIdempotencyKey: true });
    expect(renewed.outcome).toBe('applied');
    expect(renewed.item.idempotencyKey).not.toBe(second.item.idempotencyKey);
    expect(client.queue.deadLetters.get()).toEqual([]);
    expect(server.applied).toHaveLength(2);
  });

  it('are removed only when discarded', async () => {
    const { client, server } = await openClient();
    server.next({ status: 403, body: { error_code: 'FORBIDDEN', message: 'no', request_id: 'r', permission: 'recon:decide', role: 'viewer' } });
    const outcome = await client.decideReconSuggestion('5', { decision: 'decline' });
    expect(outcome.outcome === 'dead_lettered' && outcome.deadLetter.error).toMatchObject({ permission: 'recon:decide' });
    await expect(client.queue.discardDeadLetter('no-such-id')).rejects.toThrow('no dead letter');
    expect(client.queue.deadLetters.get()).toHaveLength(1);
    const discarded = await client.queue.discardDeadLetter(outcome.item.id);
    expect(discarded.error.error_code).toBe('FORBIDDEN');
    expect(client.queue.deadLetters.get()).toEqual([]);
  });
});

describe('the queue storage', () => {
  it('is the commit point: a write the storage refused is not queued, and the caller hears so', async () => {
    const refusing: QueueStorage = { read: async () => null, write: async () => Promise.reject(new Error('quota exceeded')) };
    const { client, server } = await openClient({ storage: refusing });
    await expect(client.requestManualReview(review('tx_1'))).rejects.toThrow('quota exceeded');
    expect(client.queue.queueCount.get()).toBe(0);
    expect(server.attempts).toEqual([]);
  });

  it('is never started over when it holds something unreadable: opening fails and the text stays', async () => {
    const storage = createMemoryStorage('{"format":"something-else"');
    const opening = openClient({ storage });
    await expect(opening).rejects.toBeInstanceOf(QueueStorageError);
    await expect(opening).rejects.toMatchObject({ stored: '{"format":"something-else"' });
    expect(storage.document()).toBe('{"format":"something-else"');
  });

  it('reports a listener that throws and keeps notifying the others', async () => {
    const errors: unknown[] = [];
    const { client } = await openClient({ online: false, onError: (error) => errors.push(error) });
    const seen: number[] = [];
    client.queue.queueCount.subscribe(() => {
      throw new Error('bad badge');
    });
    client.queue.queueCount.subscribe((count) => seen.push(count));
    await client.requestManualReview(review('tx_1'));
    expect(seen).toEqual([1]);
    expect(errors).toEqual([new Error('bad badge')]);
  });
});
