/** Who the API calls are made as. `null`: the gateway sets the headers (production). */
export type Identity = { tenant: string; role: string } | null;

/** An answer of the BFF other than 2xx, in its one error shape, or a network failure. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly tenant: string | null,
  ) {
    super(message);
  }
}

interface ErrorBody {
  error_code?: unknown;
  message?: unknown;
  request_id?: unknown;
  tenant?: unknown;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * Calls the BFF's REST API on the same origin. With an identity, sends `X-Tenant` and
 * `X-User-Role` (the embedded demo); throws `ApiError` for any non-2xx answer.
 */
export async function callApi<T>(
  path: string,
  identity: Identity,
  options: { method?: 'GET' | 'POST'; body?: unknown; idempotencyKey?: string; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (identity) {
    headers['X-Tenant'] = identity.tenant;
    headers['X-User-Role'] = identity.role;
  }
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
  let res: Response;
  try {
    res = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK_ERROR', 'the Backoffice could not reach the API; check the connection and retry', null, null);
  }
  const body: unknown = await res.json().catch(() => null);
  if (res.ok) return body as T;
  const error = (body ?? {}) as ErrorBody;
  throw new ApiError(
    res.status,
    text(error.error_code) ?? `HTTP_${res.status}`,
    text(error.message) ?? `the API answered ${res.status}`,
    text(error.request_id),
    text(error.tenant),
  );
}

/** A fresh `Idempotency-Key`: random, printable ASCII (works outside secure contexts too). */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `bo-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** `2026-11-22 11:03:50 UTC` from an ISO timestamp. */
export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
