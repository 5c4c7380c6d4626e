import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendAuditEvent,
  AuditChainWalker,
  createAuditChainKeyring,
  loadMigrations,
  readAuditChainBatch,
  readAuditChainHead,
  runMigrations,
  setAuditChainKeyring,
  type AuditChainBrokenLink,
  type Db,
} from '@accounting/data-pg';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

// Rows written before migration 011 have no MAC; the database never holds the key, so the
// migration runner chains them once, with the key, in id order, through the one UPDATE the
// append-only trigger lets through.

const keyring = createAuditChainKeyring('legacy-chain-test-key-0123456789abcdef');

let schema: TestSchema;
let db: Db;
let legacy: { tenant: string; id: string }[];

/** Walks the tenant's whole chain; the first broken link, or undefined. */
async function firstBroken(tenant: string): Promise<AuditChainBrokenLink | undefined> {
  const walker = new AuditChainWalker(keyring);
  const rows = await readAuditChainBatch(db, tenant, '0', 10_000);
  for (const row of rows) if (!walker.next(row)) break;
  return walker.broken;
}

beforeAll(async () => {
  setAuditChainKeyring(keyring);
  schema = await createTestSchema('vt_audit_chain_legacy');
  db = schema.db;
  const all = await loadMigrations();
  await runMigrations(db, all.filter((m) => m.version <= 10));
  const { rows } = await db.query<{ tenant: string; id: string }>(
    `INSERT INTO audit_events (tenant, ts, actor_role, actor_id, action, subject_id, summary, details)
     SELECT CASE WHEN g % 3 = 0 THEN 'legacy-b' ELSE 'legacy-a' END, timestamptz '2025-06-01 00:00:00.123456+00' + g * interval '1 hour',
            'operator', 'op.lee', 'manual_review_request', 'tx_' || g, 'legacy row ' || g,
            jsonb_build_object('z', g, 'a', 'first', 'big', 12345678901234567890.5)
     FROM generate_series(1, 12) AS g
     RETURNING tenant, id::text AS id`,
  );
  legacy = rows.sort((a, b) => Number(a.id) - Number(b.id));
});

afterAll(async () => {
  await schema?.drop();
});

describe('migration 011 on rows written before it', () => {
  it('the runner chains them per tenant, in id order, and the chains verify', async () => {
    const result = await runMigrations(db);
    expect(result.applied).toContain('011_audit_chain.sql');
    expect(result.auditChained).toEqual({ 'legacy-a': 8, 'legacy-b': 4 });
    for (const tenant of ['legacy-a', 'legacy-b']) {
      const rows = await readAuditChainBatch(db, tenant, '0', 100);
      expect(rows.map((row) => row.id)).toEqual(legacy.filter((row) => row.tenant === tenant).map((row) => row.id));
      expect(rows.map((row) => row.seq)).toEqual(rows.map((_, i) => String(i + 1)));
      expect(await firstBroken(tenant)).toBeUndefined();
      expect((await readAuditChainHead(db, tenant)).seq).toBe(String(rows.length));
    }
  });

  it('running the migrations again chains nothing more', async () => {
    expect((await runMigrations(db)).auditChained).toBeUndefined();
  });

  it('new events continue the chain after the legacy rows', async () => {
    const event = await appendAuditEvent(db, 'legacy-b', { actorRole: 'operator', action: 'manual_review_request', subjectId: 'after' });
    const rows = await readAuditChainBatch(db, 'legacy-b', '4', 10);
    expect(rows).toMatchObject([{ id: event.id, seq: '5' }]);
    expect(await firstBroken('legacy-b')).toBeUndefined();
  });

  it('a legacy row edited after it was chained is caught', async () => {
    const target = legacy.filter((row) => row.tenant === 'legacy-a')[2] as { id: string };
    await db.transaction(async (tx) => {
      await tx.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete');
      await tx.query(`UPDATE audit_events SET actor_id = 'someone.else' WHERE tenant = 'legacy-a' AND id = $1`, [target.id]);
      await tx.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete');
    });
    expect(await firstBroken('legacy-a')).toEqual({ seq: '3', id: target.id, reason: 'mac_mismatch' });
  });
});

describe('the append-only trigger after migration 011', () => {
  it('refuses an UPDATE of a chained row, even of its chain columns alone', async () => {
    await expect(db.query(`UPDATE audit_events SET chain_mac = chain_mac WHERE tenant = 'legacy-b'`)).rejects.toThrow(/append-only \(UPDATE refused\)/);
  });

  it('refuses an UPDATE that fills the chain columns of an unchained row and changes anything else', async () => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO audit_events (tenant, actor_role, action) VALUES ('legacy-c', 'operator', 'x') RETURNING id::text AS id`,
    );
    await expect(
      db.query(
        `UPDATE audit_events SET summary = 'changed', chain_seq = 1, chain_key_id = 'k', chain_mac = 'm' WHERE tenant = 'legacy-c' AND id = $1`,
        [rows[0]?.id],
      ),
    ).rejects.toThrow(/append-only/);
    await expect(db.query(`UPDATE audit_events SET summary = 'changed' WHERE tenant = 'legacy-c'`)).rejects.toThrow(/append-only/);
  });

  it('refuses DELETE and TRUNCATE as before', async () => {
    await expect(db.query(`DELETE FROM audit_events WHERE tenant = 'legacy-a'`)).rejects.toThrow(/append-only \(DELETE refused\)/);
    await expect(db.query(`TRUNCATE audit_events CASCADE`)).rejects.toThrow(/append-only \(TRUNCATE refused\)/);
  });
});
