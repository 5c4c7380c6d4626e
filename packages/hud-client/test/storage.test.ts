import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStorage } from '../src/node/index.js';
import { createHudClient, createKeyValueStorage, DEFAULT_QUEUE_STORAGE_KEY, type KeyValueStore, type QueueStorage } from '../src/index.js';
import { ManualTimers } from './support/manualTimers.js';
import { ScriptedBff } from './support/scriptedBff.js';

/** The Web Storage API's shape (`window.localStorage`), over a Map. */
class MapStorage implements KeyValueStore {
  private readonly entries = new Map<string, string>();
  get length(): number {
    return this.entries.size;
  }
  getItem(key: string): string | null {
    return this.entries.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.entries.set(key, value);
  }
  removeItem(key: string): void {
    this.entries.delete(key);
  }
  clear(): void {
    this.entries.clear();
  }
  key(index: number): string | null {
    return [...this.entries.keys()][index] ?? null;
  }
}

/** React Native AsyncStorage's shape: the same methods, answering promises. */
class AsyncMapStorage implements KeyValueStore {
  readonly entries = new Map<string, string>();
  async getItem(key: string): Promise<string | null> {
    return this.entries.get(key) ?? null;
  }
  async setItem(key: string, value: string): Promise<void> {
    this.entries.set(key, value);
  }
}

/** Queues two writes offline in one "run" of the app, then opens another over the same storage. */
async function survivesRestart(open: () => QueueStorage): Promise<void> {
  const server = new ScriptedBff();
  const timers = new ManualTimers();
  const options = { baseUrl: 'http://bff.test', identity: { tenant: 'default', role: 'operator' }, fetch: server.fetch, clock: timers, timers };
  const first = await createHudClient({ ...options, storage: open(), online: false });
  await first.requestManualReview({ subject_type: 'bank_tx', subject_id: 'tx_1', reason: 'check' });
  await first.decideReconSuggestion('3', { decision: 'confirm' });
  const keys = first.queue.pending.get().map((item) => item.idempotencyKey);
  await first.close();

  const second = await createHudClient({ ...options, storage: open() });
  expect(second.queue.queueCount.get()).toBe(2);
  await second.online();
  expect(server.applied.map((a) => a.key)).toEqual(keys);
  expect(second.queue.queueCount.get()).toBe(0);
}

describe('the key-value storage', () => {
  it('keeps the queue in one localStorage entry across a restart', async () => {
    const localStorage = new MapStorage();
    await survivesRestart(() => createKeyValueStorage(localStorage));
    expect(localStorage.length).toBe(1);
    expect(JSON.parse(localStorage.getItem(DEFAULT_QUEUE_STORAGE_KEY) ?? 'null')).toMatchObject({ items: [], deadLetters: [] });
  });

  it('works over an AsyncStorage-like store, under the key it is given', async () => {
    const asyncStorage = new AsyncMapStorage();
    await survivesRestart(() => createKeyValueStorage(asyncStorage, 'hud/queue'));
    expect([...asyncStorage.entries.keys()]).toEqual(['hud/queue']);
  });
});

describe('the file storage (Node)', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'hud-client-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('reads nothing before the first write, creates its directory, and keeps the file to its owner', async () => {
    const path = join(directory, 'nested', 'queue.json');
    const storage = createFileStorage(path);
    expect(await storage.read()).toBeNull();
    await storage.write('{"a":1}');
    expect(await storage.read()).toBe('{"a":1}');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  it('keeps the queue across a restart (a new storage instance over the same file)', async () => {
    const path = join(directory, 'restart.json');
    await survivesRestart(() => createFileStorage(path));
  });

  it('replaces the file whole: a reader never sees a torn document, and no temporary file stays', async () => {
    const path = join(directory, 'atomic.json');
    const storage = createFileStorage(path);
    const documents = Array.from({ length: 40 }, (_, n) => JSON.stringify({ n, padding: 'x'.repeat(200_000 + n) }));
    let writing = true;
    const reads: (string | null)[] = [];
    const reader = (async () => {
      while (writing) reads.push(await createFileStorage(path).read());
    })();
    for (const document of documents) await storage.write(document);
    writing = false;
    await reader;

    const known = new Set(documents);
    const torn = reads.filter((read) => read !== null && !known.has(read));
    expect(reads.length).toBeGreaterThan(0);
    expect(torn).toEqual([]);
    expect(await storage.read()).toBe(documents.at(-1));
    expect((await readdir(directory)).filter((name) => name.startsWith('.atomic.json'))).toEqual([]);
  });
});
