import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  appendAuditEvent,
  createAuditChainKeyring,
  readAuditChainHead,
  runMigrations,
  setAuditChainKeyring,
  withTransaction,
  type AuditChainKeyring,
  type Db,
} from '@accounting/data-pg';
import { publishAuditChainHeads, verifyAuditChain } from '@accounting/service-core-accounting';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

// The tamper-evident audit chain (migration 011) against a superuser who edits the table
// directly: the trigger is disabled as the superuser may, then one row is edited, deleted or
// moved, and the verifier must name it.

const KEY = 'audit-chain-test-key-0123456789abcdef';
const OLD_KEY = 'audit-chain-test-old-key-0123456789abcdef';
const keyring: AuditChainKeyring = createAuditChainKeyring(KEY);

let schema: TestSchema;
let db: Db;
let tenantNo = 0;
let tenant: string;

beforeAll(async () => {
  schema = await createTestSchema('vt_audit_chain');
  db = schema.db;
  await runMigrations(db);
});

afterAll(async () => {
  await schema?.drop();
});

beforeEach(() => {
  setAuditChainKeyring(keyring);
  tenantNo += 1;
  tenant = `chain-${tenantNo}`;
});

async function append(n: number, forTenant = tenant): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= n; i += 1) {
    const event = await appendAuditEvent(db, forTenant, {
      actorRole: 'operator',
      actorId: 'op.kim',
      action: 'manual_review_request',
      subjectType: 'bank_transaction',
      subjectId: `tx_${i}`,
      summary: `check ${i}`,
      details: { reason: `reason ${i}`, amount: '1200.50', nested: { z: 1, a: [1, 2.5, 'x'] } },
    });
    ids.push(event.id);
  }
  return ids;
}

/** Runs `sql` as the superuser with the append-only trigger off, as an attacker with the owner's rights could. */
async function tamper(sql: string, params: unknown[] = []): Promise<void> {
  await withTransaction(db, async (tx) => {
    await tx.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete');
    await tx.query(sql, params);
    await tx.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete');
  });
}

describe('an untouched chain', () => {
  it('verifies, with its head at the last row, and another tenant’s chain is its own', async () => {
    await append(5);
    await append(3, `${tenant}-other`);
    const result = await verifyAuditChain(db, keyring, tenant);
    const head = await readAuditChainHead(db, tenant);
    expect(result).toEqual({ tenant, valid: true, checked: 5, head: { seq: '5', mac: head.mac } });
    expect(head.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(await verifyAuditChain(db, keyring, `${tenant}-other`)).toMatchObject({ valid: true, checked: 3, head: { seq: '3' } });
  });

  it('of a tenant without events verifies as empty', async () => {
    expect(await verifyAuditChain(db, keyring, tenant)).toEqual({ tenant, valid: true, checked: 0, head: { seq: '0', mac: null } });
  });

  it('verifies in batches as in one read, and a break in a later batch is named', async () => {
    const ids = await append(10);
    expect(await verifyAuditChain(db, keyring, tenant, { batchSize: 3 })).toMatchObject({ valid: true, checked: 10 });
    await tamper(`UPDATE audit_events SET summary = 'changed' WHERE tenant = $1 AND id = $2`, [tenant, ids[7]]);
    expect(await verifyAuditChain(db, keyring, tenant, { batchSize: 3 })).toMatchObject({
      valid: false,
      checked: 8,
      head: { seq: '7' },
      first_broken: { seq: '8', id: ids[7], reason: 'mac_mismatch' },
    });
  });
});

describe('a superuser who changes one event is named', () => {
  it('an edited summary: mac_mismatch at its seq', async () => {
    const ids = await append(6);
    await tamper(`UPDATE audit_events SET summary = 'nothing to see' WHERE tenant = $1 AND id = $2`, [tenant, ids[3]]);
    expect(await verifyAuditChain(db, keyring, tenant)).toMatchObject({ valid: false, first_broken: { seq: '4', id: ids[3], reason: 'mac_mismatch' } });
  });

  it('edited details, even one whose keys come back in another order: mac_mismatch', async () => {
    const ids = await append(3);
    await tamper(`UPDATE audit_events SET details = details || '{"amount": "1.00"}' WHERE tenant = $1 AND id = $2`, [tenant, ids[1]]);
    expect(await verifyAuditChain(db, keyring, tenant)).toMatchObject({ first_broken: { seq: '2', id: ids[1], reason: 'mac_mismatch' } });
  });

  it('a deleted event: gap at its seq (no row)', async () => {
    const ids = await append(6);
    await tamper(`DELETE FROM audit_events WHERE tenant = $1 AND id = $2`, [tenant, ids[2]]);
    expect(await verifyAuditChain(db, keyring, tenant)).toMatchObject({ valid: false, checked: 3, first_broken: { seq: '3', id: null, reason: 'gap' } });
  });

  it('the last events deleted: gap after the last row left (the head remembers)', async () => {
    await append(5);
    await tamper(`DELETE FROM audit_events WHERE tenant = $1 AND chain_seq >= 4`, [tenant]);
    expect(await verifyAuditChain(db, keyring, tenant)).toMatchObject({ valid: false, head: { seq: '3' }, first_broken: { seq: '4', id: null, reason: 'gap' } });
  });

  it('two events whose contents are swapped: the first of them', async () => {
    const ids = await append(6);
    await tamper(
      `UPDATE audit_events AS a SET ts = b.ts, subject_id = b.subject_id, summary = b.summary, details = b.details
       FROM audit_events AS b
       WHERE a.tenant = $1 AND b.tenant = $1 AND ((a.id = $2 AND b.id = $3) OR (a.id = $3 AND b.id = $2))`,
      [tenant, ids[1], ids[4]],
    );
    expect(await verifyAuditChain(db, keyring, tenant)).toMatchObject({ valid: false, first_broken: { seq: '2', id: ids[1], reason: 'mac_mismatch' } });
  });

  it('two events moved to each other’s place in the chain: order, at the first place', async () => {
    const ids = await append(6);
    const move = (id: string | undefined, seq: number) => tamper(`UPDATE audit_events SET chain_seq = $3 WHERE tenant = $1 AND id = $2`, [tenant, id, seq]);
    await move(ids[1], 1_000);
    await move(ids[4], 2);
    await move(ids[1], 5);
    expect(await verifyAuditChain(db, keyring, tenant)).toMatchObject({ valid: false, first_broken: { seq: '2', id: ids[4], reason: 'order' } });
  });

  it('an edit after which every MAC is recomputed as a plain SHA-256 chain: still caught (no key)', async () => {
    const ids = await append(6);
    await tamper(`UPDATE audit_events SET summary = 'rewritten' WHERE tenant = $1 AND id = $2`, [tenant, ids[2]]);
    // The attacker re-links the whole chain with SHA-256 over the row and the previous MAC.
    const { rows } = await db.query<{ id: string; content: string }>(
      `SELECT id::text AS id, row_to_json(e)::text AS content FROM audit_events e WHERE tenant = $1 ORDER BY chain_seq`,
      [tenant],
    );
    let prev: string | null = null;
    for (const row of rows) {
      const mac: string = createHash('sha256').update(`${prev ?? ''}|${row.content}`).digest('hex');
      await tamper(`UPDATE audit_events SET chain_prev_mac = $3, chain_mac = $4 WHERE tenant = $1 AND id = $2`, [tenant, row.id, prev, mac]);
      prev = mac;
    }
    await db.query(`UPDATE audit_chain_heads SET mac = $2 WHERE tenant = $1`, [tenant, prev]);
    expect(await verifyAuditChain(db, keyring, tenant)).toMatchObject({ valid: false, checked: 1, first_broken: { seq: '1', id: ids[0], reason: 'mac_mismatch' } });
  });

  it('an edit hidden behind a head moved back to the row before it: head_mismatch at the edited row', async () => {
    const ids = await append(5);
    await tamper(`UPDATE audit_events SET summary = 'changed' WHERE tenant = $1 AND id = $2`, [tenant, ids[3]]);
    await db.query(
      `UPDATE audit_chain_heads h SET seq = 3, mac = e.chain_mac FROM audit_events e WHERE h.tenant = $1 AND e.tenant = $1 AND e.chain_seq = 3`,
      [tenant],
    );
    expect(await verifyAuditChain(db, keyring, tenant)).toMatchObject({ valid: false, first_broken: { seq: '4', reason: 'head_mismatch' } });
  });

  it('an event inserted past the application, without chain columns: unchained', async () => {
    await append(2);
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO audit_events (tenant, actor_role, action, summary) VALUES ($1, 'admin', 'export_created', 'forged') RETURNING id::text AS id`,
      [tenant],
    );
    expect(await verifyAuditChain(db, keyring, tenant)).toMatchObject({ valid: false, first_broken: { seq: null, id: rows[0]?.id, reason: 'unchained' } });
  });
});

describe('20 parallel writers over 3 tenants', () => {
  it('leave one valid chain per tenant, its places 1..n without a gap', async () => {
    const tenants = [`${tenant}-a`, `${tenant}-b`, `${tenant}-c`];
    const pool = schema.connect();
    await Promise.all(
      Array.from({ length: 20 }, (_, writer) =>
        (async () => {
          for (let i = 0; i < 10; i += 1) {
            const target = tenants[(writer + i) % tenants.length] as string;
            // Half in a transaction of their own with other work, half straight on the pool.
            if (writer % 2 === 0) {
              await withTransaction(pool, (tx) => appendAuditEvent(tx, target, { actorRole: 'operator', action: 'manual_review_request', subjectId: `w${writer}_${i}` }));
            } else {
              await appendAuditEvent(pool, target, { actorRole: 'operator', action: 'manual_review_request', subjectId: `w${writer}_${i}` });
            }
          }
        })(),
      ),
    );
    let total = 0;
    for (const t of tenants) {
      const { rows } = await db.query<{ seq: string; id: string }>(`SELECT chain_seq::text AS seq, id::text AS id FROM audit_events WHERE tenant = $1 ORDER BY chain_seq`, [t]);
      expect(rows.map((row) => Number(row.seq))).toEqual(rows.map((_, i) => i + 1));
      const result = await verifyAuditChain(db, keyring, t);
      expect(result).toMatchObject({ valid: true, checked: rows.length, head: { seq: String(rows.length) } });
      total += rows.length;
    }
    expect(total).toBe(200);
  });
});

describe('key rotation', () => {
  it('rows of the old and the new key verify with both configured; without the old one, its first row is unknown_key', async () => {
    setAuditChainKeyring(createAuditChainKeyring(OLD_KEY));
    const old = await append(3);
    const rotated = createAuditChainKeyring(KEY, OLD_KEY);
    setAuditChainKeyring(rotated);
    await append(2);
    expect(await verifyAuditChain(db, rotated, tenant)).toMatchObject({ valid: true, checked: 5 });
    const { rows } = await db.query<{ key_id: string }>(`SELECT DISTINCT chain_key_id AS key_id FROM audit_events WHERE tenant = $1`, [tenant]);
    expect(rows.map((row) => row.key_id).sort()).toEqual([...rotated.byId.keys()].sort());
    expect(await verifyAuditChain(db, keyring, tenant)).toMatchObject({ valid: false, first_broken: { seq: '1', id: old[0], reason: 'unknown_key' } });
  });

  it('a chain checked with another key altogether fails at its first row', async () => {
    await append(2);
    const other = createAuditChainKeyring('some-other-key-of-32-bytes-or-more!!');
    expect(await verifyAuditChain(db, other, tenant)).toMatchObject({ valid: false, first_broken: { seq: '1', reason: 'unknown_key' } });
  });
});

describe('a head saved outside the database', () => {
  it('is held by the chain that grew from it, and not by a chain restored from an earlier state', async () => {
    await append(5);
    const saved = await readAuditChainHead(db, tenant);
    await append(3);
    const expect8 = { seq: saved.seq, mac: saved.mac as string };
    expect(await verifyAuditChain(db, keyring, tenant, { expect: expect8 })).toMatchObject({ valid: true, expected_head: { ...expect8, contained: true } });

    const later = await readAuditChainHead(db, tenant);
    // A restore of the state at seq 5: rows 6-8 gone, the heads table set back. The chain itself verifies...
    await tamper(`DELETE FROM audit_events WHERE tenant = $1 AND chain_seq > 5`, [tenant]);
    await db.query(`UPDATE audit_chain_heads SET seq = 5, mac = $2 WHERE tenant = $1`, [tenant, saved.mac]);
    const restored = await verifyAuditChain(db, keyring, tenant, { expect: { seq: later.seq, mac: later.mac as string } });
    // ...but not the head published after it.
    expect(restored).toMatchObject({ valid: true, head: { seq: '5' }, expected_head: { seq: '8', contained: false } });
  });

  it('a saved head with another MAC at its place is not held', async () => {
    await append(3);
    const result = await verifyAuditChain(db, keyring, tenant, { expect: { seq: '2', mac: 'f'.repeat(64) } });
    expect(result).toMatchObject({ valid: true, expected_head: { seq: '2', contained: false } });
  });
});

describe('publishing the heads', () => {
  it('queues each tenant’s head to the feedback outbox once per interval, pointing at its last row', async () => {
    const ids = await append(2);
    const first = await publishAuditChainHeads(db, 3_600_000);
    const mine = first.find((head) => head.tenant === tenant);
    const head = await readAuditChainHead(db, tenant);
    expect(mine).toEqual({ tenant, seq: '2', mac: head.mac, key_id: keyring.current.id, event_id: ids[1] });
    const { rows } = await db.query<{ audit_event_id: string; action: string; summary: string }>(
      `SELECT audit_event_id::text AS audit_event_id, action, summary FROM feedback_outbox WHERE tenant = $1`,
      [tenant],
    );
    expect(rows).toEqual([{ audit_event_id: ids[1], action: 'audit_chain_head', summary: `audit chain head seq=2 mac=${head.mac} key_id=${keyring.current.id}` }]);
    // Within the interval nothing is queued again.
    expect((await publishAuditChainHeads(db, 3_600_000)).find((h) => h.tenant === tenant)).toBeUndefined();
  });
});
