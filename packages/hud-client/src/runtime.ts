/**
 * What the client needs from its host, as small structural types: React Native, browsers and
 * Node all provide them, and tests pass their own. The core never imports a platform module.
 */

/** The response fields the client reads; `Response` of fetch fits. */
export interface ResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** The request fields the client sets; fetch's `RequestInit` accepts them. */
export interface RequestInitLike {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** `fetch` as the client calls it; the global fetch of React Native, browsers and Node fits. */
export type FetchLike = (url: string, init: RequestInitLike) => Promise<ResponseLike>;

/** Wall-clock milliseconds since the epoch. */
export interface Clock {
  now(): number;
}

/** An opaque timer handle. */
export type TimerHandle = unknown;

/** One-shot timers (the global `setTimeout`/`clearTimeout`, or a test's manual timers). */
export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The globals the defaults use, typed only as far as the client needs them. */
interface HostGlobals {
  fetch?: (url: string, init: RequestInitLike) => Promise<ResponseLike>;
  setTimeout?: (callback: () => void, ms: number) => TimerHandle;
  clearTimeout?: (handle: TimerHandle) => void;
  crypto?: { randomUUID?: () => string };
}

const host = globalThis as unknown as HostGlobals;

function missing(what: string, option: string): Error {
  return new Error(`${what} is not available in this runtime: pass the "${option}" option`);
}

/** The host's global fetch, called on `globalThis` (browsers refuse it detached). */
export function globalFetch(): FetchLike {
  if (typeof host.fetch !== 'function') throw missing('fetch', 'fetch');
  return (url, init) => (host.fetch as NonNullable<HostGlobals['fetch']>).call(globalThis, url, init);
}

/** The host's clock (`Date.now`). */
export const systemClock: Clock = { now: () => Date.now() };

/** The host's global timers. */
export function globalTimers(): Timers {
  if (typeof host.setTimeout !== 'function' || typeof host.clearTimeout !== 'function') throw missing('setTimeout', 'timers');
  return {
    setTimeout: (callback, ms) => (host.setTimeout as NonNullable<HostGlobals['setTimeout']>).call(globalThis, callback, ms),
    clearTimeout: (handle) => (host.clearTimeout as NonNullable<HostGlobals['clearTimeout']>).call(globalThis, handle),
  };
}

/**
 * `crypto.randomUUID` of the host. React Native has none without a polyfill (for example
 * `react-native-get-random-values` with `uuid`, or `expo-crypto`): pass `randomUUID` then.
 */
export function globalRandomUUID(): () => string {
  const crypto = host.crypto;
  if (!crypto || typeof crypto.randomUUID !== 'function') throw missing('crypto.randomUUID', 'randomUUID');
  return () => (crypto.randomUUID as () => string).call(crypto);
}
