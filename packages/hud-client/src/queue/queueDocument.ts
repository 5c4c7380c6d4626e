import { QueueStorageError } from '../errors.js';
import type { DeadLetter, QueuedWrite, WriteMethod } from './types.js';

const FORMAT = 'accounting.hud-client.queue';
const VERSION = 1;

/** Everything the queue keeps: the writes in order, and the dead letters. */
export interface QueueDocument {
  readonly items: readonly QueuedWrite[];
  readonly deadLetters: readonly DeadLetter[];
}

export const EMPTY_QUEUE_DOCUMENT: QueueDocument = Object.freeze({ items: Object.freeze([]), deadLetters: Object.freeze([]) });

/** The stored form of a document. */
export function serializeQueueDocument(document: QueueDocument): string {
  return JSON.stringify({ format: FORMAT, version: VERSION, items: document.items, deadLetters: document.deadLetters });
}

type Fields = Record<string, unknown>;

const isFields = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string';
/** The HTTP methods a queued write may use (`WriteMethod`). */
export const WRITE_METHODS: ReadonlySet<string> = new Set<WriteMethod>(['POST', 'PUT', 'PATCH', 'DELETE']);

function isQueuedWrite(value: unknown): value is QueuedWrite {
  if (!isFields(value)) return false;
  const identity = value.identity;
  return (
    isString(value.id) &&
    isString(value.idempotencyKey) &&
    isString(value.kind) &&
    isString(value.method) &&
    WRITE_METHODS.has(value.method) &&
    isString(value.path) &&
    isString(value.enqueuedAt) &&
    typeof value.attempts === 'number' &&
    (value.lastFailure === null || isFields(value.lastFailure)) &&
    isFields(identity) &&
    isString(identity.tenant) &&
    isString(identity.role)
  );
}

function isDeadLetter(value: unknown): value is DeadLetter {
  return (
    isFields(value) &&
    isQueuedWrite(value.item) &&
    isString(value.failedAt) &&
    typeof value.status === 'number' &&
    isFields(value.error) &&
    isString(value.error.error_code)
  );
}

/**
 * Reads a stored document (`null`: nothing stored yet, an empty queue). Anything else than a
 * document of this format throws `QueueStorageError` carrying the stored text: the queue never
 * starts over an unreadable store, which would drop its writes without a word.
 */
export function parseQueueDocument(stored: string | null): QueueDocument {
  if (stored === null) return EMPTY_QUEUE_DOCUMENT;
  let value: unknown;
  try {
    value = JSON.parse(stored);
  } catch {
    throw new QueueStorageError('the queue storage does not hold JSON', stored);
  }
  if (!isFields(value) || value.format !== FORMAT) throw new QueueStorageError('the queue storage holds something else than a queue', stored);
  if (value.version !== VERSION) throw new QueueStorageError(`the queue storage has version ${String(value.version)}, this client reads ${VERSION}`, stored);
  const { items, deadLetters } = value;
  if (!Array.isArray(items) || !items.every(isQueuedWrite)) throw new QueueStorageError('the stored queue has a malformed write', stored);
  if (!Array.isArray(deadLetters) || !deadLetters.every(isDeadLetter)) throw new QueueStorageError('the stored queue has a malformed dead letter', stored);
  return { items, deadLetters };
}
