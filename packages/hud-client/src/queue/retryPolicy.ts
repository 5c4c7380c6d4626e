import { errorBodyOf, type HttpOutcome } from '../http.js';
import type { ApiErrorBody, JsonValue } from '../types.js';
import type { FailureInfo } from './types.js';

/** Exponential backoff between retries of the head of the queue. */
export interface BackoffPolicy {
  /** Delay after the first failure. */
  initialMs: number;
  /** Each further failure multiplies the delay by this. */
  multiplier: number;
  /** The delay never grows beyond this. */
  maxMs: number;
  /** 0..1: up to this fraction is taken off at random, so phones do not retry in step. */
  jitter: number;
}

/** 1 s, 2 s, 4 s ... up to 5 minutes, minus up to 20 %. */
export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ initialMs: 1_000, multiplier: 2, maxMs: 300_000, jitter: 0.2 });

/** The delay before the next attempt after `failures` consecutive failures (1 or more). */
export function backoffDelay(failures: number, policy: BackoffPolicy, random: () => number): number {
  const exact = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** Math.max(0, failures - 1));
  return Math.round(exact * (1 - policy.jitter * random()));
}

/** What to do with a write after one attempt. */
export type WriteVerdict =
  | { kind: 'applied'; status: number; body: JsonValue | null; replayed: boolean }
  | { kind: 'retry'; failure: FailureInfo; noAnswer: boolean; retryAfterMs: number | null }
  | { kind: 'permanent'; status: number; error: ApiErrorBody };

/** `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date; `null` when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * Sorts one answer to a write: 2xx is applied (a replay too); no answer, 5xx, 408, 429 and
 * `409 IDEMPOTENCY_IN_PROGRESS` are worth retrying with the same key; any other status is a
 * permanent refusal that no retry can fix (the dead letters).
 */
export function classifyWriteOutcome(outcome: HttpOutcome, now: number): WriteVerdict {
  const at = new Date(now).toISOString();
  if (outcome.kind === 'network') {
    return {
      kind: 'retry',
      noAnswer: true,
      retryAfterMs: null,
      failure: { at, status: null, error_code: 'NETWORK_ERROR', message: outcome.message, request_id: null },
    };
  }
  const { status } = outcome;
  if (status >= 200 && status < 300) {
    return { kind: 'applied', status, body: outcome.body, replayed: outcome.headers.get('idempotent-replayed') === 'true' };
  }
  const error = errorBodyOf(outcome);
  const transient = status >= 500 || status === 408 || status === 429 || (status === 409 && error.error_code === 'IDEMPOTENCY_IN_PROGRESS');
  if (!transient) return { kind: 'permanent', status, error };
  return {
    kind: 'retry',
    noAnswer: false,
    retryAfterMs: retryAfterMs(outcome.headers.get('retry-after'), now),
    failure: { at, status, error_code: error.error_code, message: error.message, request_id: error.request_id },
  };
}
