import type { ApiErrorBody } from './types.js';

/** The server answered with an error: its status and its `{error_code, message, request_id}` body. */
export class HudApiError extends Error {
  override readonly name = 'HudApiError';
  /** The HTTP status, e.g. 404. */
  readonly status: number;
  /** The API's `error_code`, e.g. `NOT_FOUND`, `VALIDATION_FAILED`. */
  readonly errorCode: string;
  /** Quote it when reporting a problem: the server logs it. */
  readonly requestId: string | null;
  /** The whole error body, extra fields included (`issues`, `permission`, ...). */
  readonly body: ApiErrorBody;

  constructor(status: number, body: ApiErrorBody) {
    super(`${status} ${body.error_code}: ${body.message}`);
    this.status = status;
    this.errorCode = body.error_code;
    this.requestId = body.request_id;
    this.body = body;
  }
}

/** No answer from the server: no network, refused connection, cut response or timeout. */
export class HudNetworkError extends Error {
  override readonly name = 'HudNetworkError';
}

/** The queue's storage holds something that is not a queue document; nothing was read or dropped. */
export class QueueStorageError extends Error {
  override readonly name = 'QueueStorageError';
  /** What the storage holds, so the app can keep or export it. */
  readonly stored: string;

  constructor(message: string, stored: string) {
    super(message);
    this.stored = stored;
  }
}
