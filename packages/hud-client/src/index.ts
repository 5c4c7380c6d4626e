/**
 * `@accounting/hud-client`: the HUD app's typed client of the accounting BFF, with a durable
 * offline write queue. No Node built-ins here: it runs in React Native and browsers. The Node
 * file storage is in `@accounting/hud-client/node`.
 */
export { createHudClient, HudClient, type HudClientOptions } from './HudClient.js';
export { HudApiError, HudNetworkError, QueueStorageError } from './errors.js';
export { OfflineQueue, type OfflineQueueOptions } from './queue/OfflineQueue.js';
export { backoffDelay, classifyWriteOutcome, DEFAULT_BACKOFF, retryAfterMs, type BackoffPolicy, type WriteVerdict } from './queue/retryPolicy.js';
export {
  createKeyValueStorage,
  createMemoryStorage,
  DEFAULT_QUEUE_STORAGE_KEY,
  type KeyValueStore,
  type MemoryQueueStorage,
  type QueueStorage,
} from './queue/storage.js';
export type * from './queue/types.js';
export { createHttpTransport, type HttpOutcome, type HttpRequest, type HttpTransport } from './http.js';
export type { ValueObservable } from './observable.js';
export type { Clock, FetchLike, RequestInitLike, ResponseLike, TimerHandle, Timers } from './runtime.js';
export type * from './types.js';
