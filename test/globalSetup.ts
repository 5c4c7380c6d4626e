import { assertPostgresReachable } from './support/postgres.js';

/** Runs once before every test file: fail fast, and say why, when PostgreSQL is not there. */
export default async function setup(): Promise<void> {
  await assertPostgresReachable();
}
