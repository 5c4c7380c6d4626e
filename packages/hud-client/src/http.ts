import type { FetchLike, ResponseLike, Timers } from './runtime.js';
import type { ApiErrorBody, JsonValue } from './types.js';

/** What one HTTP exchange gave: an answer, or none at all. */
export type HttpOutcome =
  | { kind: 'response'; status: number; headers: ResponseLike['headers']; body: JsonValue | null; text: string }
  | { kind: 'network'; message: string };

/** One request: method, path under the base URL, headers and an optional JSON body. */
export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: JsonValue | undefined;
}

export interface HttpTransportOptions {
  baseUrl: string;
  fetch: FetchLike;
  timers: Timers;
  /** No answer (headers and body) within this many ms counts as a network failure. */
  requestTimeoutMs: number;
}

/** Sends requests; never throws: a missing answer is a `network` outcome. */
export type HttpTransport = (request: HttpRequest) => Promise<HttpOutcome>;

const TIMED_OUT = Symbol('timed out');

function parseJson(text: string): JsonValue | null {
  if (text === '') return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A transport over `fetch`. A request that gets no complete answer in time is reported as a
 * network failure; it may still reach the server, which is why every write carries an
 * `Idempotency-Key`.
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const base = options.baseUrl.replace(/\/+$/, '');
  return async (request) => {
    const exchange = (async () => {
      const headers: Record<string, string> = { Accept: 'application/json', ...request.headers };
      if (request.body !== undefined) headers['Content-Type'] = 'application/json';
      const init = { method: request.method, headers, ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}) };
      const response = await options.fetch(`${base}${request.path}`, init);
      const text = await response.text();
      return { response, text };
    })();
    let timer: unknown;
    const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = options.timers.setTimeout(() => resolve(TIMED_OUT), options.requestTimeoutMs);
    });
    try {
      const answer = await Promise.race([exchange, deadline]);
      if (answer === TIMED_OUT) {
        exchange.catch(() => undefined);
        return { kind: 'network', message: `no answer within ${options.requestTimeoutMs} ms` };
      }
      const { response, text } = answer;
      return { kind: 'response', status: response.status, headers: response.headers, body: parseJson(text), text };
    } catch (error) {
      return { kind: 'network', message: describe(error) };
    } finally {
      options.timers.clearTimeout(timer);
    }
  };
}

function isObject(value: JsonValue | null): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The error body of a non-2xx answer. A body in the API's shape is kept whole; anything else (a
 * proxy's HTML page, an empty body) becomes `HTTP_<status>` with the start of the text.
 */
export function errorBodyOf(outcome: Extract<HttpOutcome, { kind: 'response' }>): ApiErrorBody {
  const requestId = outcome.headers.get('x-request-id');
  if (isObject(outcome.body) && typeof outcome.body.error_code === 'string') {
    const body = outcome.body;
    return {
      ...body,
      error_code: body.error_code as string,
      message: typeof body.message === 'string' ? body.message : '',
      request_id: typeof body.request_id === 'string' ? body.request_id : requestId,
    };
  }
  const text = outcome.text.trim().slice(0, 200);
  return { error_code: `HTTP_${outcome.status}`, message: text || `HTTP ${outcome.status}`, request_id: requestId };
}

/** `?a=1&b=x,y` from defined values; arrays are joined with commas (the API accepts both forms). */
export function queryString(params: Record<string, string | number | readonly string[] | undefined>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const text = typeof value === 'string' || typeof value === 'number' ? String(value) : value.join(',');
    if (text === '') continue;
    parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(text)}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}
