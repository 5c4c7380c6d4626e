import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { unavailableReason } from './databaseErrors.js';
import { grantAppRole } from './appRole.js';
import { getAuditChainKeyring } from './auditChainMac.js';
import { chainAllUnchainedAuditEvents } from './repositories/auditChain.js';
import type { Db, Queryable, Session } from './db.js';

/** One numbered, forward-only SQL file from `migrations/`. */
export interface Migration {
  /** File name, e.g. `003_external_ledger.sql`; the key recorded in `schema_migrations`. */
  name: string;
  version: number;
  sql: string;
  /** sha256 of the file's bytes, recorded when applied and checked on every start. */
  hash: string;
}

export interface MigrationStatus {
  /** In the code, not yet applied. */
  pending: string[];
  /** Applied, but the file's content changed since: the runner refuses to go on. */
  changed: string[];
  /** Applied, but unknown to this code (a newer release ran, e.g. before a rollback). */
  unknown: string[];
}

/** Thrown when migrations cannot be applied safely; the message says which file and why. */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
const FILE_PATTERN = /^(\d{3})_[a-z0-9_]+\.sql$/;

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  name        text PRIMARY KEY,
  hash        text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
)`;

/** How long a migration's DDL may wait for a table lock before it fails (and is retried). */
const MIGRATION_LOCK_TIMEOUT = '5s';

// One lock per schema, so test files that each own a schema do not wait for each other.
const LOCK_KEY_SQL = `hashtext('accounting.schema_migrations.' || current_schema())`;

/** Reads and orders the migration files of `dir`; rejects stray names and duplicate numbers. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const name of names) {
    const match = FILE_PATTERN.exec(name);
    if (!match) throw new MigrationError(`migration file ${name} does not match NNN_name.sql`);
    const version = Number(match[1]);
    const previous = migrations.at(-1);
    if (previous?.version === version) {
      throw new MigrationError(`migrations ${previous.name} and ${name} share the number ${match[1]}`);
    }
    const sql = await readFile(`${dir}/${name}`, 'utf8');
    migrations.push({ name, version, sql, hash: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

async function readApplied(db: Queryable): Promise<Map<string, string> | undefined> {
  const exists = await db.query<{ present: boolean }>(
    `SELECT to_regclass('schema_migrations') IS NOT NULL AS present`,
  );
  if (!exists.rows[0]?.present) return undefined;
  const { rows } = await db.query<{ name: string; hash: string }>('SELECT name, hash FROM schema_migrations');
  return new Map(rows.map((row) => [row.name, row.hash]));
}

function compare(migrations: readonly Migration[], applied: Map<string, string> | undefined): MigrationStatus {
  const known = new Set(migrations.map((m) => m.name));
  return {
    pending: migrations.filter((m) => !applied?.has(m.name)).map((m) => m.name),
    changed: migrations.filter((m) => applied?.has(m.name) && applied.get(m.name) !== m.hash).map((m) => m.name),
    unknown: [...(applied?.keys() ?? [])].filter((name) => !known.has(name)).sort(),
  };
}

/** Compares the database with the migration files without changing anything (used by `/ready`). */
export async function getMigrationStatus(db: Queryable, migrations: readonly Migration[]): Promise<MigrationStatus> {
  return compare(migrations, await readApplied(db));
}

export interface RunMigrationsOptions {
  /**
   * The application's role (the user of `DATABASE_URL`) when the migrations run as another role,
   * the owner: after the migrations it is granted exactly `APP_ROLE_PRIVILEGES` (appRole.ts).
   * Absent, or the same role as the migrations', nothing is granted (one role owns everything).
   */
  appRole?: string;
}

export interface RunMigrationsResult {
  applied: string[];
  /** The role granted the application's privileges, when one was (see `RunMigrationsOptions.appRole`). */
  grantedRole?: string;
  /** Applied in the database but unknown to this code; not an error (a rollback runs older code). */
  unknown: string[];
  /** Rows chained per tenant that had no audit chain columns (written before migration 011); absent when none. */
  auditChained?: Record<string, number>;
}

/**
 * Refuses, with a message that says what to do, when migrations are pending and this role cannot
 * create tables in the schema: the application's role, run where the owner's should be.
 */
async function assertCanApply(session: Session, pending: readonly string[]): Promise<void> {
  if (pending.length === 0) return;
  const { rows } = await session.query<{ me: string; schema: string | null; can_create: boolean }>(
    `SELECT current_user AS me, current_schema() AS schema,
            coalesce(has_schema_privilege(current_schema(), 'CREATE'), false) AS can_create`,
  );
  const row = rows[0];
  if (!row || row.can_create) return;
  throw new MigrationError(
    `${pending.length} migration(s) pending (${pending[0]}...) but role ${row.me} may not create tables in ` +
      `${row.schema ?? 'the schema on its search_path'}: run the migrations as the tables' owner (MIGRATION_DATABASE_URL)`,
  );
}

/** Whether this role may change the tables' policies: it owns `schema_migrations`, or is a superuser. */
async function ownsTables(session: Session): Promise<boolean> {
  const { rows } = await session.query<{ owns: boolean }>(
    `SELECT pg_has_role(current_user, c.relowner, 'USAGE') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS owns
     FROM pg_class c WHERE c.oid = to_regclass('schema_migrations')`,
  );
  return rows[0]?.owns === true;
}

/**
 * Points the owner's policies (`owner_*`, migration 012) at the role that owns their table now,
 * after every run: `REASSIGN OWNED` (moving a database to two roles) changes a table's owner but
 * not whom a policy names, which would leave the search function's owner without `owner_reads`
 * and the former owner, perhaps now the application's role, with it.
 */
async function retargetOwnerPolicies(session: Session): Promise<void> {
  await session.exec(`DO $$
    DECLARE p record;
    BEGIN
      FOR p IN SELECT pol.polname, c.relname, pg_get_userbyid(c.relowner) AS owner
               FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
               WHERE c.relnamespace = current_schema()::regnamespace AND pol.polname LIKE 'owner\\_%'
                 AND pol.polroles <> ARRAY[c.relowner] LOOP
        EXECUTE format('ALTER POLICY %I ON %I TO %I', p.polname, p.relname, p.owner);
      END LOOP;
    END $$`);
}

/** Grants `appRole` its privileges unless it is the role running the migrations; returns it when granted. */
async function grantToAppRole(session: Session, appRole: string | undefined): Promise<string | undefined> {
  if (!appRole) return undefined;
  const { rows } = await session.query<{ me: string }>('SELECT current_user AS me');
  if (rows[0]?.me === appRole) return undefined;
  await session.transaction((tx) => grantAppRole(tx, appRole));
  return appRole;
}

/**
 * Applies the pending migrations, each in its own transaction, under a session-level advisory
 * lock so concurrent runners (several pods starting at once) apply each file exactly once.
 * Running it again is a no-op. Refuses, before applying anything, when an applied file changed.
 */
export async function runMigrations(db: Db, migrations?: readonly Migration[], options: RunMigrationsOptions = {}): Promise<RunMigrationsResult> {
  const files = migrations ?? (await loadMigrations());
  return db.withSession(async (session) => {
    // A migration may build an index for minutes, and a second replica waits for the first one's
    // lock: neither is bound by the service's statement timeout or its lock timeout.
    await session.exec('SET statement_timeout = 0; SET lock_timeout = 0');
    await session.query(`SELECT pg_advisory_lock(${LOCK_KEY_SQL})`);
    // A migration's DDL waiting behind a long transaction would queue every later statement on its
    // table: it gives up after MIGRATION_LOCK_TIMEOUT instead (the start-up retries it).
    await session.exec(`SET lock_timeout = '${MIGRATION_LOCK_TIMEOUT}'`);
    try {
      // Created only when missing: the application's role, which may run this to find nothing
      // pending (a BFF started after the migration Job), has no right to create tables.
      let recorded = await readApplied(session);
      await assertCanApply(session, compare(files, recorded).pending);
      if (!recorded) {
        await session.exec(CREATE_TABLE);
        recorded = new Map();
      }
      const status = compare(files, recorded);
      if (status.changed.length > 0) {
        throw new MigrationError(
          `applied migration ${status.changed.join(', ')} was edited after it ran; migrations are forward-only: ` +
            'restore the file and add a new numbered migration instead',
        );
      }
      const pending = new Set(status.pending);
      const applied: string[] = [];
      for (const migration of files.filter((m) => pending.has(m.name))) {
        try {
          await session.transaction(async (tx) => {
            await tx.exec(migration.sql);
            await tx.query('INSERT INTO schema_migrations (name, hash) VALUES ($1, $2)', [migration.name, migration.hash]);
          });
        } catch (err) {
          // A database that went away is not the migration's fault: the caller may retry.
          if (unavailableReason(err)) throw err;
          const reason = err instanceof Error ? err.message : String(err);
          throw new MigrationError(`migration ${migration.name} failed and was rolled back: ${reason}`);
        }
        applied.push(migration.name);
      }
      if (await ownsTables(session)) await retargetOwnerPolicies(session);
      const grantedRole = await grantToAppRole(session, options.appRole);
      // The database never holds the chain key: rows written before migration 011 are chained here.
      const auditChained = await chainAllUnchainedAuditEvents(session, getAuditChainKeyring());
      return {
        applied,
        unknown: status.unknown,
        ...(grantedRole ? { grantedRole } : {}),
        ...(Object.keys(auditChained).length > 0 ? { auditChained } : {}),
      };
    } finally {
      await session.query(`SELECT pg_advisory_unlock(${LOCK_KEY_SQL})`);
      await session.exec('RESET statement_timeout; RESET lock_timeout');
    }
  });
}
