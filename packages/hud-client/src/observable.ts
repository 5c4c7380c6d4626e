/**
 * A value that changes over time. `get` and `subscribe` are bound functions, so React's
 * `useSyncExternalStore(observable.subscribe, observable.get)` works as is.
 */
export interface ValueObservable<T> {
  /** The current value. */
  readonly get: () => T;
  /** Calls `listener` after every change (not with the current value); returns the unsubscribe. */
  readonly subscribe: (listener: (value: T) => void) => () => void;
}

/** A `ValueObservable` its owner can set. */
export interface ValueSubject<T> extends ValueObservable<T> {
  set(value: T): void;
}

/**
 * A value with listeners. Setting an equal value (`Object.is`) notifies no one. A listener that
 * throws is reported to `onListenerError` and does not stop the others.
 */
export function createValueSubject<T>(initial: T, onListenerError: (error: unknown) => void): ValueSubject<T> {
  let value = initial;
  const listeners = new Set<(value: T) => void>();
  return {
    get: () => value,
    subscribe: (listener) => {
      const entry = (next: T) => listener(next);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    set(next) {
      if (Object.is(next, value)) return;
      value = next;
      for (const listener of [...listeners]) {
        try {
          listener(next);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
  };
}
