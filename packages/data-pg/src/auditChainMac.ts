import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * The MAC of the audit chain (migration 011, docs/POLICY.md "Audit trail integrity"):
 * HMAC-SHA256, keyed with the UTF-8 bytes of `AUDIT_CHAIN_KEY`, over the UTF-8 bytes of
 *
 *   JSON.stringify(["audit-chain/v1", tenant, seq, id, ts, actor_role, actor_id, action,
 *                   subject_type, subject_id, summary, details, request_id, key_id, prev_mac])
 *
 * every element a string or null: `seq` and `id` in decimal, `ts` as the API and exports show it
 * (ISO 8601 UTC with microseconds), `details` as PostgreSQL prints the jsonb (`details::text`:
 * keys in jsonb's order, numbers exactly as stored), `prev_mac` null for `seq` 1. As lowercase hex.
 */
export const AUDIT_CHAIN_VERSION = 'audit-chain/v1';

/** A chained row's stored content, as text: what the MAC covers besides `key_id` and `prev_mac`. */
export interface AuditChainContent {
  tenant: string;
  seq: string;
  id: string;
  ts: string;
  actor_role: string;
  actor_id: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  summary: string;
  /** `details::text`. */
  details: string;
  request_id: string | null;
}

/** The canonical text a row's MAC is computed over. */
export function auditChainCanonical(row: AuditChainContent, keyId: string, prevMac: string | null): string {
  return JSON.stringify([
    AUDIT_CHAIN_VERSION,
    row.tenant,
    row.seq,
    row.id,
    row.ts,
    row.actor_role,
    row.actor_id,
    row.action,
    row.subject_type,
    row.subject_id,
    row.summary,
    row.details,
    row.request_id,
    keyId,
    prevMac,
  ]);
}

/** One chain key: its public id and the HMAC. Holds the key only as a `KeyObject`. */
export interface AuditChainKey {
  /** First 16 hex characters of SHA-256 over `audit-chain-kid:` + key: names the key in rows, never reveals it. */
  readonly id: string;
  mac(row: AuditChainContent, prevMac: string | null): string;
}

/** The keys a deployment chains and verifies with (`AUDIT_CHAIN_KEY`, `AUDIT_CHAIN_KEY_PREV`). */
export interface AuditChainKeyring {
  /** New rows are chained with this key. */
  readonly current: AuditChainKey;
  /** Every key a row may have been chained with, by id. */
  readonly byId: ReadonlyMap<string, AuditChainKey>;
}

/** The public id of a chain key. */
export function auditChainKeyId(key: string): string {
  return createHash('sha256').update(`audit-chain-kid:${key}`, 'utf8').digest('hex').slice(0, 16);
}

function createAuditChainKey(secret: string): AuditChainKey {
  const key: KeyObject = createSecretKey(Buffer.from(secret, 'utf8'));
  const id = auditChainKeyId(secret);
  return {
    id,
    mac: (row, prevMac) => createHmac('sha256', key).update(auditChainCanonical(row, id, prevMac), 'utf8').digest('hex'),
  };
}

/** The keyring of the current key and, during a rotation, the previous one. */
export function createAuditChainKeyring(current: string, previous?: string): AuditChainKeyring {
  const currentKey = createAuditChainKey(current);
  const keys = [currentKey, ...(previous ? [createAuditChainKey(previous)] : [])];
  return { current: currentKey, byId: new Map(keys.map((key) => [key.id, key])) };
}

/**
 * The chain key of development and tests when `AUDIT_CHAIN_KEY` is unset outside production.
 * It is public: a chain made with it proves nothing. Production refuses to start without a key.
 */
export const DEVELOPMENT_AUDIT_CHAIN_KEY = 'bff-accounting-development-audit-chain-key-NOT-SECRET';

let processKeyring: AuditChainKeyring | undefined;

/**
 * Sets the keyring `appendAuditEvent` chains with, once at start-up (BFF, worker, migration Job).
 * Process-wide because every service records audit events: passing the key through each of
 * them would put it in every function signature between the config and the repository.
 */
export function setAuditChainKeyring(keyring: AuditChainKeyring): void {
  processKeyring = keyring;
}

/**
 * The keyring set at start-up. Unset: the development key, except under `NODE_ENV=production`,
 * where appending without a configured key throws (the config already refuses to start then).
 */
export function getAuditChainKeyring(): AuditChainKeyring {
  if (processKeyring) return processKeyring;
  if (process.env.NODE_ENV === 'production') throw new Error('audit chain key not configured (AUDIT_CHAIN_KEY)');
  processKeyring = createAuditChainKeyring(DEVELOPMENT_AUDIT_CHAIN_KEY);
  return processKeyring;
}

/** Why a chain is broken at a row. */
export type AuditChainBreak =
  /** A place in the chain has no row (a row was deleted). */
  | 'gap'
  /** The row does not follow the row before it (its previous MAC is another row's: reordered, replaced or inserted). */
  | 'order'
  /** The row's content is not what its MAC was made over (edited). */
  | 'mac_mismatch'
  /** The row names a key that is not configured. */
  | 'unknown_key'
  /** The row has no chain columns (written past the application). */
  | 'unchained'
  /** The chain ends elsewhere than its recorded head (rows at its end deleted, or the head rewritten). */
  | 'head_mismatch';

/** A chained row as the verifier reads it. */
export interface AuditChainRow extends AuditChainContent {
  key_id: string;
  prev_mac: string | null;
  mac: string;
}

/** The first broken link of a chain. `id` is null where the row is missing; `seq` is null for an unchained row. */
export interface AuditChainBrokenLink {
  seq: string | null;
  id: string | null;
  reason: AuditChainBreak;
}

const macEquals = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Walks one chain in `seq` order, row by row, in constant memory: feed it the rows with
 * `next`; it remembers the last row and the first break. The service's verify route and
 * `scripts/verify_audit_chain.mjs` both use it.
 */
export class AuditChainWalker {
  #checked = 0;
  #seq = 0n;
  #mac: string | null = null;
  #broken: AuditChainBrokenLink | undefined;
  /** Whether the row at `expect.seq` was seen with `expect.mac` (undefined: not reached). */
  #contains: boolean | undefined;

  /**
   * `expect`: a head saved earlier, to look for. `start`: where the rows begin when they are not
   * the whole chain (an export of a time range): the place and MAC before the first row.
   */
  constructor(
    private readonly keyring: AuditChainKeyring,
    private readonly expect?: { seq: string; mac: string },
    start?: { seq: string; mac: string | null },
  ) {
    if (start) {
      this.#seq = BigInt(start.seq);
      this.#mac = start.mac;
    }
  }

  /** Checks the next row; answers false once the chain is broken (stop reading). */
  next(row: AuditChainRow): boolean {
    if (this.#broken) return false;
    this.#checked += 1;
    const expected = this.#seq + 1n;
    const seq = BigInt(row.seq);
    const broken = (reason: AuditChainBreak, at = row.seq, id: string | null = row.id) => {
      this.#broken = { seq: at, id, reason };
      return false;
    };
    if (seq > expected) return broken('gap', expected.toString(), null);
    if (seq < expected || row.prev_mac !== this.#mac) return broken('order');
    const key = this.keyring.byId.get(row.key_id);
    if (!key) return broken('unknown_key');
    if (!macEquals(key.mac(row, row.prev_mac), row.mac)) return broken('mac_mismatch');
    this.#seq = seq;
    this.#mac = row.mac;
    if (this.expect && this.expect.seq === row.seq) this.#contains = macEquals(this.expect.mac, row.mac);
    return true;
  }

  /** Records a break found outside the rows (an unchained row, a head that disagrees). */
  breakAt(link: AuditChainBrokenLink): void {
    this.#broken ??= link;
  }

  get broken(): AuditChainBrokenLink | undefined {
    return this.#broken;
  }

  /** The last row that verified: `seq` 0 and `mac` null before the first. */
  get head(): { seq: string; mac: string | null } {
    return { seq: this.#seq.toString(), mac: this.#mac };
  }

  get checked(): number {
    return this.#checked;
  }

  /** For an expected head: whether the verified chain holds it (false also when it ends before it). */
  get containsExpected(): boolean | undefined {
    if (!this.expect) return undefined;
    return this.#contains ?? false;
  }
}
