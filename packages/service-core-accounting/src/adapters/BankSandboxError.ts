import { DomainError, type ErrorKind } from '../errors.js';

/** Error codes of the bank sandbox contract, plus the client's own for transport failures. */
export type BankErrorCode =
  | 'INVALID_TOKEN'
  | 'CONNECTION_NOT_FOUND'
  | 'INVALID_REQUEST'
  | 'INVALID_CURSOR'
  | 'MUTATION_DURING_PAGINATION'
  | 'RATE_LIMITED'
  | 'UPSTREAM_UNAVAILABLE'
  | 'TIMEOUT'
  | 'NETWORK_ERROR'
  | 'MALFORMED_RESPONSE';

/**
 * A failed call to the bank. The message names what happened and never contains the token or
 * the response body (which could echo it). `attempts` counts the HTTP requests made.
 */
export class BankSandboxError extends DomainError {
  readonly kind: ErrorKind = 'unavailable';
  constructor(
    readonly code: BankErrorCode,
    message: string,
    readonly attempts: number,
    readonly status?: number,
  ) {
    super(message, { attempts, ...(status !== undefined ? { status } : {}) });
  }
}
