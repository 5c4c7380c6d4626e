import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, callApi, type Identity } from './api';

/** What a view shows for one API read. `loading` is true until the answer for this exact request arrives. */
export interface Loaded<T> {
  loading: boolean;
  data: T | null;
  error: ApiError | null;
  reload: () => void;
}

const identityKey = (identity: Identity) => (identity ? `${identity.tenant}|${identity.role}` : 'gateway');

/** GETs `path` as `identity`; a new path, identity or `reload()` cancels the previous request. */
export function useApi<T>(path: string, identity: Identity): Loaded<T> {
  const [tick, setTick] = useState(0);
  const key = `${identityKey(identity)} ${path} ${tick}`;
  const [state, setState] = useState<{ key: string; data: T | null; error: ApiError | null }>({ key: '', data: null, error: null });
  useEffect(() => {
    const controller = new AbortController();
    callApi<T>(path, identity, { signal: controller.signal }).then(
      (data) => setState({ key, data, error: null }),
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setState({ key, data: null, error: err instanceof ApiError ? err : new ApiError(0, 'CLIENT_ERROR', String(err), null, null) });
      },
    );
    return () => controller.abort();
    // `key` names path, identity and tick.
  }, [key]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  const current = state.key === key;
  return { loading: !current, data: state.data, error: current ? state.error : null, reload };
}

/**
 * Keyset pages: the cursors that led to the pages after the first, so "previous" pops one.
 * The stack empties whenever the identity or `filtersKey` (the view's filters) changes.
 */
export function useCursorStack(identity: Identity, filtersKey: string) {
  const resetKey = `${identityKey(identity)} ${filtersKey}`;
  const [pages, setPages] = useState<{ key: string; stack: string[] }>({ key: resetKey, stack: [] });
  const stack = pages.key === resetKey ? pages.stack : [];
  return {
    cursor: stack.at(-1) ?? null,
    page: stack.length + 1,
    next: (cursor: string) => setPages({ key: resetKey, stack: [...stack, cursor] }),
    previous: () => setPages({ key: resetKey, stack: stack.slice(0, -1) }),
  };
}

function headline(error: ApiError): string {
  switch (error.code) {
    case 'TENANT_NOT_ENABLED':
      return `Tenant "${error.tenant ?? '?'}" is not enabled for this service`;
    case 'FORBIDDEN':
      return 'Your role is not allowed to do this';
    case 'ROLE_NOT_MAPPED':
      return 'Your role is not known to this service';
    case 'TENANT_REQUIRED':
    case 'INVALID_TENANT':
      return 'No valid tenant: the gateway did not say who you are';
    case 'NETWORK_ERROR':
      return 'The API is unreachable';
    default:
      return 'The request failed';
  }
}

/** An API error as a person reads it: what happened, the API's message, and what to quote. */
export function ErrorNotice({ error }: { error: ApiError }) {
  return (
    <div role="alert" class="notice error">
      <strong>{headline(error)}</strong>
      <p>{error.message}</p>
      <p class="meta">
        <code>{error.code}</code>
        {error.status > 0 && ` · HTTP ${error.status}`}
        {error.requestId && ` · request ${error.requestId}`}
      </p>
    </div>
  );
}

/** Previous / next over keyset pages, with the page number once its rows are in. */
export function Pager(props: { label: string; page: number; shown: string; loading: boolean; hasNext: boolean; onPrevious: () => void; onNext: () => void }) {
  return (
    <nav class="pager" aria-label={props.label}>
      <button type="button" onClick={props.onPrevious} disabled={props.page === 1 || props.loading}>
        Previous
      </button>
      <span role="status">{props.loading ? 'Loading…' : `Page ${props.page}: ${props.shown}`}</span>
      <button type="button" onClick={props.onNext} disabled={!props.hasNext || props.loading}>
        Next
      </button>
    </nav>
  );
}

/** `n thing` / `n things`. */
export const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
