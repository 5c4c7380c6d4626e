export * from './db.js';
export { createPgDb, type PgDbOptions } from './pgDb.js';
export { createPgliteDb } from './pgliteDb.js';
export * from './migrate.js';
export * from './repositories/auditEvents.js';
export * from './repositories/externalSources.js';
export * from './repositories/externalLedger.js';
export * from './repositories/syncRuns.js';
export * from './repositories/idempotencyKeys.js';
