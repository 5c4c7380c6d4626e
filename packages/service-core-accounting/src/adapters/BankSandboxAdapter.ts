import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { BankSandboxError, type BankErrorCode } from './BankSandboxError.js';
import {
  accountsSchema,
  errorBodySchema,
  syncPageSchema,
  type BankAccount,
  type SyncPage,
} from './bankSandboxContract.js';

export interface BankSandboxAdapterOptions {
  /** `BANK_SBX_BASE`, with or without a trailing slash. */
  baseUrl: string;
  /** `BANK_SBX_TOKEN`: sent as a bearer token, never logged or put in an error. */
  token: string;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Most HTTP requests for one call, retries included. */
  maxAttempts?: number;
  /** First backoff step; doubles per retry, with full jitter, up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Longest `Retry-After` honoured; a longer one fails the call at once (the next run retries). */
  maxRetryAfterMs?: number;
  /** Total time one call may take, retries and waits included. */
  callDeadlineMs?: number;
  fetch?: typeof globalThis.fetch;
  /** Injected in tests to make backoff instant and jitter fixed; must end early when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface SyncRequest {
  connectionId: string;
  /** `null` starts a full sync from `startDate`. */
  cursor: string | null;
  count: number;
  /** `YYYY-MM-DD`; sent only with a null cursor. */
  startDate: string;
}

/** A result and how many HTTP requests it took. */
export interface Attempted<T> {
  value: T;
  attempts: number;
}

const TERMINAL_CODES = new Set<string>([
  'INVALID_TOKEN',
  'CONNECTION_NOT_FOUND',
  'INVALID_REQUEST',
  'INVALID_CURSOR',
  'MUTATION_DURING_PAGINATION',
]);

/**
 * Parses `Retry-After` into milliseconds: whole seconds, or an HTTP date (RFC 9110). Anything
 * else (`1.5`, `-1`, garbage) is `undefined`, and the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  const text = value?.trim() ?? '';
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

class Retryable extends Error {
  constructor(
    readonly code: BankErrorCode,
    message: string,
    readonly status?: number,
    readonly waitMs?: number,
  ) {
    super(message);
  }
}

/**
 * The client of the bank sandbox contract (shared/contracts/bank-sandbox-api.md).
 * Transient failures (5xx, timeouts, connection resets, 429) are retried with exponential
 * backoff and full jitter, bounded in attempts and total time; `Retry-After` is honoured up to
 * a bound. The contract's error codes become `BankSandboxError`s; every 200 body is validated
 * before it is returned.
 */
export class BankSandboxAdapter {
  private readonly base: string;
  private readonly options: Required<Omit<BankSandboxAdapterOptions, 'baseUrl' | 'token'>>;

  constructor(private readonly settings: BankSandboxAdapterOptions) {
    this.base = settings.baseUrl.replace(/\/+$/, '');
    this.options = {
      timeoutMs: settings.timeoutMs ?? 10_000,
      maxAttempts: settings.maxAttempts ?? 5,
      baseBackoffMs: settings.baseBackoffMs ?? 250,
      maxBackoffMs: settings.maxBackoffMs ?? 5_000,
      maxRetryAfterMs: settings.maxRetryAfterMs ?? 30_000,
      callDeadlineMs: settings.callDeadlineMs ?? 60_000,
      fetch: settings.fetch ?? globalThis.fetch,
      sleep: settings.sleep ?? ((ms, signal) => sleep(ms, undefined, signal ? { signal } : {}).catch(() => undefined)),
      random: settings.random ?? Math.random,
    };
  }

  /** `GET /v1/connections/{id}/accounts`. */
  async listAccounts(connectionId: string): Promise<Attempted<BankAccount[]>> {
    const result = await this.call('GET', `/v1/connections/${encodeURIComponent(connectionId)}/accounts`, undefined, accountsSchema);
    return { value: result.value.accounts, attempts: result.attempts };
  }

  /** One page of `POST /v1/transactions/sync`; `signal` aborts it (worker deadline, SIGTERM). */
  async syncTransactions(request: SyncRequest, signal?: AbortSignal): Promise<Attempted<SyncPage>> {
    const body = {
      connection_id: request.connectionId,
      cursor: request.cursor,
      count: request.count,
      ...(request.cursor === null ? { start_date: request.startDate } : {}),
    };
    return this.call('POST', '/v1/transactions/sync', body, syncPageSchema, signal);
  }

  private async call<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    schema: S,
    signal?: AbortSignal,
  ): Promise<Attempted<z.output<S>>> {
    const { maxAttempts, callDeadlineMs, maxRetryAfterMs } = this.options;
    const deadline = Date.now() + callDeadlineMs;
    for (let attempt = 1; ; attempt += 1) {
      if (signal?.aborted) throw new BankSandboxError('TIMEOUT', `${method} ${path} was cancelled`, attempt - 1);
      try {
        return { value: await this.once(method, path, body, schema, attempt, deadline, signal), attempts: attempt };
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        if (err.waitMs !== undefined && err.waitMs > maxRetryAfterMs) {
          const asked = Math.ceil(err.waitMs / 1_000);
          throw new BankSandboxError('RATE_LIMITED', `bank asked to wait ${asked} s, more than the ${maxRetryAfterMs / 1_000} s allowed`, attempt, err.status);
        }
        const wait = err.waitMs ?? this.backoff(attempt);
        if (attempt >= maxAttempts || Date.now() + wait >= deadline) {
          throw new BankSandboxError(err.code, `${err.message} (gave up after ${attempt} attempts)`, attempt, err.status);
        }
        await this.options.sleep(wait, signal);
      }
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.options.maxBackoffMs, this.options.baseBackoffMs * 2 ** (attempt - 1));
    return Math.floor(this.options.random() * ceiling);
  }

  /** One HTTP request: a value, a terminal `BankSandboxError`, or a `Retryable`. */
  private async once<S extends z.ZodType>(
    method: string,
    path: string,
    body: unknown,
    schema: S,
    attempt: number,
    deadline: number,
    cancel?: AbortSignal,
  ): Promise<z.output<S>> {
    // Each request ends at its own timeout, at the call's deadline, or when the caller cancels.
    const timeout = AbortSignal.timeout(Math.max(1, Math.min(this.options.timeoutMs, deadline - Date.now())));
    const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
    let response: Response;
    try {
      response = await this.options.fetch(`${this.base}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.settings.token}`,
          Accept: 'application/json',
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal,
      });
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new Retryable('TIMEOUT', `bank did not answer ${method} ${path} within ${this.options.timeoutMs} ms`);
      }
      throw new Retryable('NETWORK_ERROR', `could not reach the bank for ${method} ${path}`);
    }

    let text: string;
    try {
      text = await response.text();
    } catch {
      throw new Retryable('NETWORK_ERROR', `connection lost while reading ${method} ${path}`);
    }

    if (response.status === 429) {
      throw new Retryable('RATE_LIMITED', `bank rate-limited ${method} ${path}`, 429, parseRetryAfter(response.headers.get('retry-after')) ?? this.backoff(attempt));
    }
    if (response.status >= 500) {
      throw new Retryable('UPSTREAM_UNAVAILABLE', `bank answered ${response.status} to ${method} ${path}`, response.status);
    }
    const json = safeJson(text);
    if (response.status === 401) {
      // Whatever the body says: credentials were refused, and retrying will not change that.
      throw new BankSandboxError('INVALID_TOKEN', `bank refused the credentials for ${method} ${path} (401)`, attempt, 401);
    }
    if (response.status !== 200) {
      const code = errorBodySchema.safeParse(json).data?.error_code;
      if (code && TERMINAL_CODES.has(code)) {
        throw new BankSandboxError(code as BankErrorCode, `bank answered ${response.status} ${code} to ${method} ${path}`, attempt, response.status);
      }
      throw new BankSandboxError('INVALID_REQUEST', `bank answered ${response.status} to ${method} ${path}`, attempt, response.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'not JSON';
      throw new BankSandboxError('MALFORMED_RESPONSE', `bank sent a ${method} ${path} response that breaks the contract (${where})`, attempt, 200);
    }
    return parsed.data;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
