/**
 * Where the offline queue keeps its one document (the queued writes and the dead letters).
 * The queue writes the whole document after every change and counts a change as made only once
 * `write` resolved, so an adapter must be durable on resolve and atomic: after a crash a reader
 * sees the previous document or the new one, never a mix.
 */
export interface QueueStorage {
  /** The stored document, or `null` when nothing was stored yet. */
  read(): Promise<string | null>;
  /** Replaces the stored document. */
  write(document: string): Promise<void>;
}

/** A `QueueStorage` in memory; `document()` shows what a restarted app would read. */
export interface MemoryQueueStorage extends QueueStorage {
  document(): string | null;
}

/**
 * Storage in memory, for tests and for sessions that need no durability. Two queues opened over
 * the same instance one after the other behave like an app restarted over the same disk.
 */
export function createMemoryStorage(initial: string | null = null): MemoryQueueStorage {
  let stored = initial;
  return {
    read: async () => stored,
    write: async (document) => {
      stored = document;
    },
    document: () => stored,
  };
}

/**
 * A string key-value store: the Web Storage API (`window.localStorage`) has this shape, and so
 * has React Native's AsyncStorage (its methods answer promises).
 */
export interface KeyValueStore {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
}

/** The key the queue document is stored under by default. */
export const DEFAULT_QUEUE_STORAGE_KEY = 'accounting.hud-client.queue.v1';

/**
 * Queue storage in one entry of a key-value store (`localStorage`, AsyncStorage, an MMKV
 * wrapper...). One `setItem` replaces the entry whole, which is the atomicity the queue needs.
 * Errors of the store (quota exceeded, private mode) reach the caller: the write is then not made.
 */
export function createKeyValueStorage(store: KeyValueStore, key: string = DEFAULT_QUEUE_STORAGE_KEY): QueueStorage {
  return {
    read: async () => (await store.getItem(key)) ?? null,
    write: async (document) => {
      await store.setItem(key, document);
    },
  };
}
