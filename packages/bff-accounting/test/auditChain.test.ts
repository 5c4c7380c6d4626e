import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuditChainKeyring, readAuditChainHead, setAuditChainKeyring, withTransaction } from '@accounting/data-pg';
import { auditChainHeadText } from '@accounting/service-core-accounting';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { startBackgroundJobs } from '../src/housekeeping.js';
import { createLogger } from '../src/logger.js';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { appRoleDbFor, createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { spawnNode } from '../../../test/support/process.js';

const CHAIN_KEY = 'audit-chain-key-for-the-api-test-7Qm2Xv9L';
const EXPORT_SECRET = 'export-secret-for-the-chain-test-Hk4Tz8Pw';
const CLI_ENTRY = fileURLToPath(new URL('../../../scripts/verify_audit_chain.mjs', import.meta.url));

const auditor = { 'X-Tenant': 'default', 'X-User-Role': 'auditor' };
const admin = { 'X-Tenant': 'default', 'X-User-Role': 'admin' };
const operator = { 'X-Tenant': 'default', 'X-User-Role': 'operator', 'X-User-Id': 'op.kim' };

let schema: TestSchema;
let t: TestApp;
const tmp: string[] = [];

async function manualReviews(n: number, headers: Record<string, string> = operator, prefix = 'tx'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i <= n; i += 1) {
    const res = await request(t.app)
      .post('/v1/accounting/audit/manual-review')
      .set(headers)
      .set('Idempotency-Key', `${prefix}-${i}-${Math.random()}`)
      .send({ subject_type: 'bank_transaction', subject_id: `${prefix}_${i}`, reason: `amount differs ${i}`, note: 'see "ref" 12.50' });
    expect(res.status).toBe(201);
    ids.push(res.body.id as string);
  }
  return ids;
}

/** As a superuser with the owner's rights could: the append-only trigger off for one statement. */
async function tamper(sql: string, params: unknown[] = []): Promise<void> {
  await withTransaction(schema.db, async (tx) => {
    await tx.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete');
    await tx.query(sql, params);
    await tx.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete');
  });
}

const verify = (headers: Record<string, string>, query = '') => request(t.app).get(`/v1/accounting/audit/verify${query}`).set(headers);

beforeAll(async () => {
  setAuditChainKeyring(createAuditChainKeyring(CHAIN_KEY));
  schema = await createTestSchema('vt_chain_api');
  t = await buildTestApp(schema.db, { AUDIT_CHAIN_KEY: CHAIN_KEY, EXPORT_SIGN_SECRET: EXPORT_SECRET, OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a"]' });
});

afterAll(async () => {
  await t?.reconRuns.stop();
  await schema?.drop();
  await Promise.all(tmp.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('GET /v1/accounting/audit/verify', () => {
  it('answers an untouched chain as valid, with its head, to auditors and admins', async () => {
    await manualReviews(4);
    const head = await readAuditChainHead(schema.db, 'default');
    for (const headers of [auditor, admin]) {
      const res = await verify(headers);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ tenant: 'default', valid: true, checked: 4, head: { seq: '4', mac: head.mac } });
    }
  });

  it('is forbidden to operators and viewers (403 FORBIDDEN, permission audit:verify)', async () => {
    for (const role of ['operator', 'viewer']) {
      const res = await verify({ 'X-Tenant': 'default', 'X-User-Role': role });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error_code: 'FORBIDDEN', permission: 'audit:verify', role });
    }
  });

  it('checks the caller tenant’s chain only: another tenant’s break is not reported here', async () => {
    await manualReviews(2, { ...operator, 'X-Tenant': 'pilot-a' }, 'pa');
    const { rows } = await schema.db.query<{ id: string }>(`SELECT id::text AS id FROM audit_events WHERE tenant = 'pilot-a' AND chain_seq = 1`);
    await tamper(`UPDATE audit_events SET summary = 'x' WHERE tenant = 'pilot-a' AND id = $1`, [rows[0]?.id]);
    expect((await verify(auditor)).body).toMatchObject({ tenant: 'default', valid: true });
    expect((await verify({ ...auditor, 'X-Tenant': 'pilot-a' })).body).toMatchObject({
      tenant: 'pilot-a',
      valid: false,
      first_broken: { seq: '1', id: rows[0]?.id, reason: 'mac_mismatch' },
    });
  });

  it('says whether a saved head is still held, and refuses half of one (400)', async () => {
    const saved = await readAuditChainHead(schema.db, 'default');
    await manualReviews(1, operator, 'later');
    const held = await verify(auditor, `?expect_seq=${saved.seq}&expect_mac=${saved.mac}`);
    expect(held.body).toMatchObject({ valid: true, expected_head: { seq: saved.seq, mac: saved.mac, contained: true } });
    const forged = await verify(auditor, `?expect_seq=${saved.seq}&expect_mac=${'0'.repeat(64)}`);
    expect(forged.body).toMatchObject({ valid: true, expected_head: { contained: false } });
    const half = await verify(auditor, `?expect_seq=${saved.seq}`);
    expect(half.status).toBe(400);
    expect(half.body).toMatchObject({ error_code: 'VALIDATION_FAILED' });
  });
});

describe('the export receipt', () => {
  it('carries the chain head at export time (before its own export_created), signed with the tenant’s export key', async () => {
    const head = await readAuditChainHead(schema.db, 'default');
    const res = await request(t.app).get('/v1/accounting/exports/audit?format=ndjson').set(auditor);
    expect(res.status).toBe(200);
    const exportId = res.headers['x-export-id'] as string;
    const receipt = await request(t.app).get(`/v1/accounting/exports/${exportId}/signature`).set(auditor);
    expect(receipt.body.chain_head).toEqual({ seq: head.seq, mac: head.mac, signature: expect.stringMatching(/^kid=[0-9a-f]{16},v1=[0-9a-f]{64}$/) });
    const text = auditChainHeadText('default', receipt.body as { export_id: string; sha256: string }, head);
    const sha256 = createHash('sha256').update(text, 'utf8').digest('hex');
    const checked = await request(t.app).post('/v1/accounting/exports/verify').set(auditor).send({ sha256, signature: receipt.body.chain_head.signature });
    expect(checked.body).toMatchObject({ valid: true, key: 'current' });
    const otherHead = createHash('sha256').update(auditChainHeadText('default', receipt.body as { export_id: string; sha256: string }, { seq: '1', mac: head.mac }), 'utf8').digest('hex');
    const wrong = await request(t.app).post('/v1/accounting/exports/verify').set(auditor).send({ sha256: otherHead, signature: receipt.body.chain_head.signature });
    expect(wrong.body).toMatchObject({ valid: false, reason: 'mismatch' });
  });
});

describe('scripts/verify_audit_chain.mjs on a real export', () => {
  let file: string;
  let lines: string[];
  beforeAll(async () => {
    const res = await request(t.app).get('/v1/accounting/exports/audit?format=ndjson').set(admin).buffer(true).parse((r, done) => {
      const parts: Buffer[] = [];
      r.on('data', (chunk: Buffer) => parts.push(chunk));
      r.on('end', () => done(null, Buffer.concat(parts)));
    });
    const dir = await mkdtemp(join(tmpdir(), 'chain-cli-'));
    tmp.push(dir);
    file = join(dir, 'audit.ndjson');
    await writeFile(file, res.body as Buffer);
    lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  });

  const cli = async (args: string[], env: Record<string, string> = { AUDIT_CHAIN_KEY: CHAIN_KEY }) => {
    const run = spawnNode(CLI_ENTRY, args, env);
    const code = await run.exited;
    return { code, stdout: run.stdout.join('\n'), stderr: run.stderr.join('') };
  };
  const variant = async (name: string, edited: string[]) => {
    const path = `${file}.${name}`;
    await writeFile(path, `${edited.join('\n')}\n`);
    return path;
  };

  it('exits 0 for the untouched export, naming its head, and holds a head saved from the API', async () => {
    const run = await cli(['--tenant', 'default', '--expect-seq', '2', '--expect-mac', await macAt('default', 2), file]);
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toContain(`valid: ${lines.length} rows of tenant default; head seq ${lines.length} mac ${await macAt('default', lines.length)}`);
    expect(run.stdout).toContain('expected head seq 2: held');
  });

  it('names the row whose summary was changed in the file (mac_mismatch)', async () => {
    const edited = [...lines];
    const target = JSON.parse(edited[1] as string) as { id: string; chain: { seq: string } };
    edited[1] = (edited[1] as string).replace('"summary":"amount differs', '"summary":"amount agrees');
    const run = await cli(['--tenant', 'default', await variant('edited', edited)]);
    expect(run).toMatchObject({ code: 1, stdout: expect.stringContaining(`invalid: first broken link at seq ${target.chain.seq} (row ${target.id}): mac_mismatch`) });
  });

  it('names the place of a line removed from the file (gap), and accepts a time-range export with --partial', async () => {
    const removed = lines.filter((_, i) => i !== 2);
    const seq = (JSON.parse(lines[2] as string) as { chain: { seq: string } }).chain.seq;
    expect(await cli(['--tenant', 'default', await variant('removed', removed)])).toMatchObject({
      code: 1,
      stdout: expect.stringContaining(`invalid: first broken link at seq ${seq} (no row): gap`),
    });
    const tail = lines.slice(2);
    expect(await cli(['--tenant', 'default', await variant('tail', tail)])).toMatchObject({ code: 1 });
    expect(await cli(['--tenant', 'default', '--partial', await variant('tail2', tail)])).toMatchObject({ code: 0 });
  });

  it('exits 1 with unknown_key without the key the rows were chained with', async () => {
    expect(await cli(['--tenant', 'default', file], { AUDIT_CHAIN_KEY: 'another-key-that-is-long-enough-0123456789' })).toMatchObject({
      code: 1,
      stdout: expect.stringContaining(': unknown_key'),
    });
  });

  it('exits 2 for another tenant’s file, no key, a short key, or half an expected head, never printing the key', async () => {
    const short = 'short-key';
    const runs = [
      await cli(['--tenant', 'pilot-a', file]),
      await cli(['--tenant', 'default', file], {}),
      await cli(['--tenant', 'default', file], { AUDIT_CHAIN_KEY: short }),
      await cli(['--tenant', 'default', '--expect-seq', '2', file]),
    ];
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^verify_audit_chain: /);
      expect(run.stderr + run.stdout).not.toContain(CHAIN_KEY);
      expect(run.stderr + run.stdout).not.toContain(short);
    }
  });
});

async function macAt(tenant: string, seq: number): Promise<string> {
  const { rows } = await schema.db.query<{ mac: string }>(`SELECT chain_mac AS mac FROM audit_events WHERE tenant = $1 AND chain_seq = $2`, [tenant, seq]);
  return rows[0]?.mac as string;
}

describe('the heads on a schedule', () => {
  it('are logged (tenant, seq, mac, never the key) and queued to the feedback outbox at start', async () => {
    const head = await readAuditChainHead(schema.db, 'default');
    const stop = startBackgroundJobs(appRoleDbFor(schema.db), t.config, createLogger('info', t.logs));
    try {
      await expect.poll(() => t.logs.find('audit chain head').length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    } finally {
      stop();
    }
    const logged = t.logs.find('audit chain head');
    expect(logged).toEqual(expect.arrayContaining([expect.objectContaining({ tenant: 'default', seq: head.seq, mac: head.mac })]));
    expect(t.logs.raw.join('\n')).not.toContain(CHAIN_KEY);
    const { rows } = await schema.db.query<{ summary: string }>(`SELECT summary FROM feedback_outbox WHERE tenant = 'default' AND action = 'audit_chain_head'`);
    expect(rows).toEqual([{ summary: expect.stringContaining(`seq=${head.seq} mac=${head.mac}`) }]);
  });
});

describe('configuration', () => {
  it('refuses NODE_ENV=production without AUDIT_CHAIN_KEY, and a short key, without echoing it', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_MODE: 'headers', OS_TENANT_ALLOWLIST_JSON: '["default"]' })).toThrow(/AUDIT_CHAIN_KEY: is required when NODE_ENV=production/);
    let error: unknown;
    try {
      loadConfig({ AUDIT_CHAIN_KEY: 'short-chain-key' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('AUDIT_CHAIN_KEY: must be at least 32 bytes');
    expect(String(error)).not.toContain('short-chain-key');
  });
});
