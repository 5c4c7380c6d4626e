import {
  AuditChainWalker,
  claimDueAuditChainHeads,
  enqueueFeedback,
  findUnchainedAuditEvent,
  readAuditChainBatch,
  readAuditChainHead,
  withTransaction,
  type AuditChainBrokenLink,
  type AuditChainKeyring,
  type Db,
  type DueAuditChainHead,
  type Queryable,
} from '@accounting/data-pg';

/** A head an operator saved earlier (from a log line, the webhook or an export receipt). */
export interface ExpectedChainHead {
  seq: string;
  mac: string;
}

/** The answer of `GET /v1/accounting/audit/verify`. */
export interface AuditChainVerification {
  tenant: string;
  /** The whole chain verified, up to its recorded head, and no row is outside it. */
  valid: boolean;
  /** Rows checked (up to and including the first broken one). */
  checked: number;
  /** The last row that verified: `seq` "0" and `mac` null when none did. */
  head: { seq: string; mac: string | null };
  /** The first link that does not verify; absent when `valid`. */
  first_broken?: AuditChainBrokenLink;
  /** Whether the chain that verified still holds the saved head (only when one was given). */
  expected_head?: ExpectedChainHead & { contained: boolean };
}

/** Rows read per query while verifying: memory stays flat however long the chain. */
export const AUDIT_CHAIN_VERIFY_BATCH = 1_000;

/**
 * Verifies the tenant's audit chain: reads the recorded head first, walks the chain up to it in
 * batches of `batchSize` rows with every configured key, and names the first broken link (a
 * missing place, a row out of order, an edited row, a key not configured, a chain that ends
 * before its head, a row without chain columns). With `expect`, also answers whether the
 * verified chain still holds that saved head: a chain rewritten from a saved state does not.
 */
export async function verifyAuditChain(
  db: Queryable,
  keyring: AuditChainKeyring,
  tenant: string,
  options: { expect?: ExpectedChainHead | undefined; batchSize?: number } = {},
): Promise<AuditChainVerification> {
  const batchSize = options.batchSize ?? AUDIT_CHAIN_VERIFY_BATCH;
  // Rows appended while the walk runs lie beyond this head and are left for the next check.
  const recorded = await readAuditChainHead(db, tenant);
  const walker = new AuditChainWalker(keyring, options.expect);
  let after = '0';
  for (;;) {
    const rows = await readAuditChainBatch(db, tenant, after, batchSize);
    const within = rows.filter((row) => BigInt(row.seq) <= BigInt(recorded.seq));
    if (!within.every((row) => walker.next(row))) break;
    if (within.length < batchSize) break;
    after = (within.at(-1) as { seq: string }).seq;
  }
  if (!walker.broken) {
    const walked = walker.head;
    if (recorded.beyond !== null) {
      // Rows past the recorded head: the head was moved back, e.g. to hide an edited row behind it.
      walker.breakAt({ seq: recorded.beyond, id: null, reason: 'head_mismatch' });
    } else if (BigInt(walked.seq) < BigInt(recorded.seq)) {
      walker.breakAt({ seq: (BigInt(walked.seq) + 1n).toString(), id: null, reason: 'gap' });
    } else if (walked.mac !== recorded.mac) {
      walker.breakAt({ seq: walked.seq, id: null, reason: 'head_mismatch' });
    }
  }
  if (!walker.broken) {
    const unchained = await findUnchainedAuditEvent(db, tenant);
    if (unchained) walker.breakAt({ seq: null, id: unchained, reason: 'unchained' });
  }
  const broken = walker.broken;
  return {
    tenant,
    valid: broken === undefined,
    checked: walker.checked,
    head: walker.head,
    ...(broken ? { first_broken: broken } : {}),
    ...(options.expect ? { expected_head: { ...options.expect, contained: walker.containsExpected === true } } : {}),
  };
}

/** The feedback action a published chain head is sent under. */
export const AUDIT_CHAIN_HEAD_ACTION = 'audit_chain_head';

/**
 * Publishes the chain heads not published for `intervalMs`: claims them and queues each to the
 * feedback webhook (outbox) in one transaction, so every replica may run it and each head goes
 * out once per interval. Answers the heads, for the caller to log: kept outside the database,
 * they catch a rewrite of a whole chain.
 */
export function publishAuditChainHeads(db: Db, intervalMs: number): Promise<DueAuditChainHead[]> {
  return withTransaction(db, async (tx) => {
    const heads = await claimDueAuditChainHeads(tx, intervalMs);
    for (const head of heads) {
      await enqueueFeedback(tx, head.tenant, {
        auditEventId: head.event_id,
        action: AUDIT_CHAIN_HEAD_ACTION,
        subjectId: null,
        summary: `audit chain head seq=${head.seq} mac=${head.mac} key_id=${head.key_id}`,
      });
    }
    return heads;
  });
}
