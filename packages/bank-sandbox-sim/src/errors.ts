/**
 * Domain errors of the simulator. They carry the contract's `error_code` and know nothing of
 * HTTP: the error middleware maps each code to a status.
 */
export type SandboxErrorCode =
  | 'INVALID_TOKEN'
  | 'INVALID_REQUEST'
  | 'INVALID_CURSOR'
  | 'MUTATION_DURING_PAGINATION'
  | 'CONNECTION_NOT_FOUND'
  | 'TRANSACTION_NOT_FOUND'
  | 'CONFLICT';

export class SandboxError extends Error {
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidTokenError extends SandboxError {
  constructor() {
    super('INVALID_TOKEN', 'missing or invalid bearer token');
  }
}

export class InvalidRequestError extends SandboxError {
  constructor(message: string) {
    super('INVALID_REQUEST', message);
  }
}

export class InvalidCursorError extends SandboxError {
  constructor(message = 'the cursor is expired or unknown; start a full sync') {
    super('INVALID_CURSOR', message);
  }
}

export class MutationDuringPaginationError extends SandboxError {
  constructor() {
    super('MUTATION_DURING_PAGINATION', 'data changed while paging; restart from the first cursor of this run');
  }
}

export class ConnectionNotFoundError extends SandboxError {
  constructor(connectionId: string) {
    super('CONNECTION_NOT_FOUND', `no connection ${connectionId}`);
  }
}

export class TransactionNotFoundError extends SandboxError {
  constructor(connectionId: string, transactionId: string) {
    super('TRANSACTION_NOT_FOUND', `no current transaction ${transactionId} in connection ${connectionId}`);
  }
}

export class ConflictError extends SandboxError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}
