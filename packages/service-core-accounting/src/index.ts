export * from './errors.js';
export * from './audit/manualReview.js';
export * from './adapters/BankSandboxAdapter.js';
export * from './adapters/BankSandboxError.js';
export * from './adapters/bankSandboxContract.js';
export * from './sync/syncExternalSource.js';
export * from './sync/sourceStatus.js';
