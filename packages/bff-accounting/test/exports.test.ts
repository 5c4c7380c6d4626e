import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { appendAuditEvent, readAuditClock, readAuditExportBatches, runMigrations, type AuditExportRow, type Db } from '@accounting/data-pg';
import { createExportKeyring, startAuditExport, type ExportKeyring } from '@accounting/service-core-accounting';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { interceptQueries } from '../../../test/support/interceptDb.js';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { spawnBff, spawnNode } from '../../../test/support/process.js';

const OLD_SECRET = 'old-export-secret-Q7v2k9Lm4Xp8Rt1Wz6Nb3Hc5';
const NEW_SECRET = 'new-export-secret-J4d8Fs2Gh6Kl0Mn9Pq3Rv7Tx';
const CLI_ENTRY = fileURLToPath(new URL('../../../scripts/verify_export_signature.mjs', import.meta.url));

const auditor = { 'X-Tenant': 'default', 'X-User-Role': 'auditor', 'X-User-Id': 'auditor-1' };
const admin = { 'X-Tenant': 'default', 'X-User-Role': 'admin' };
const otherAuditor = { 'X-Tenant': 'pilot-a', 'X-User-Role': 'auditor' };

/** The tenant's export key as docs/EXPORTS.md specifies it: HKDF-SHA256 of the secret. */
const tenantKey = (secret: string, tenant: string) =>
  Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'bff-accounting/audit-export-signing/v1', `tenant=${tenant}`, 32));

/** Fixture events: 2,400 for `default` and 1,200 for `pilot-a`, interleaved, several sharing one `ts`. */
const FIXTURE_START = '2025-01-01T00:00:00Z';
const FIXTURE_ROWS = 3_600;

let schema: TestSchema;
/** The app as first deployed: signing with the old secret. */
let t: TestApp;
const tmp: string[] = [];

async function seedFixtures(db: TestSchema['db']): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (tenant, ts, actor_role, actor_id, action, subject_type, subject_id, summary, details)
     SELECT CASE WHEN i % 3 = 0 THEN 'pilot-a' ELSE 'default' END,
            $1::timestamptz + (i / 4) * interval '1 millisecond' + (i % 2) * interval '1 microsecond',
            'operator', 'op-' || (i % 7), 'fixture', 'invoice', 'inv-' || i, 'fixture row ' || i,
            jsonb_build_object('i', i)
     FROM generate_series(1, $2::int) AS i`,
    [FIXTURE_START, FIXTURE_ROWS],
  );
  // Cells a spreadsheet would run as formulas, RFC 4180 specials, non-ASCII, and a number no double holds.
  const tricky = ['=HYPERLINK("http://evil.example","click")', '+31 20 555 0100', '-5', '@SUM(A1:A9)', 'two\nlines, "quoted"', 'Zürich €'];
  for (const [index, summary] of tricky.entries()) {
    await db.query(
      `INSERT INTO audit_events (tenant, ts, actor_role, action, subject_id, summary, details)
       VALUES ('default', $1::timestamptz, 'operator', 'tricky', $2, $3, $4::jsonb)`,
      [`2025-06-01T00:00:00.00000${index}Z`, `tricky-${index}`, summary, '{"amount": 12345678901234567890.123456789}'],
    );
  }
}

/** The ids of the tenant's events in `[from, to)` now, as the database orders them. */
async function expectedIds(tenant: string, from = '-infinity', to = 'infinity'): Promise<string[]> {
  const { rows } = await schema.db.query<{ id: string }>(
    `SELECT id FROM audit_events WHERE tenant = $1 AND ts >= $2::timestamptz AND ts < $3::timestamptz ORDER BY ts, id`,
    [tenant, from, to],
  );
  return rows.map((row) => row.id);
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  body: Buffer;
  /** How many pieces the body arrived in. */
  chunks: number;
}

/** One GET through a real socket, so the HTTP trailer can be read (supertest drops it). */
async function rawGet(app: TestApp['app'], path: string, headers: Record<string, string>): Promise<RawResponse> {
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<RawResponse>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, headers }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (chunk: Buffer) => parts.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, trailers: res.trailers, body: Buffer.concat(parts), chunks: parts.length }),
          );
          res.on('error', reject);
        })
        .on('error', reject);
    });
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

const exportPath = (query: Record<string, string> = {}) => `/v1/accounting/exports/audit?${new URLSearchParams(query).toString()}`;

/** The RFC 4180 records of `text` (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (char === '"') quoted = false;
      else cell += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(cell);
      cell = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
      i += 1;
    } else cell += char;
  }
  expect(cell, 'the CSV ends with CRLF').toBe('');
  return records;
}

async function verify(app: TestApp['app'], body: Buffer, signature: string, as: Record<string, string> = auditor) {
  return request(app)
    .post('/v1/accounting/exports/verify')
    .set(as)
    .set('Content-Type', 'application/octet-stream')
    .set('X-Export-Signature', signature)
    .send(body);
}

async function verifyDigest(app: TestApp['app'], body: Buffer, signature: string, as: Record<string, string> = auditor) {
  const sha256 = createHash('sha256').update(body).digest('hex');
  return request(app).post('/v1/accounting/exports/verify').set(as).send({ sha256, signature });
}

async function auditRows(tenant: string, action: string) {
  const { rows } = await schema.db.query<{ subject_id: string; actor_role: string; actor_id: string | null; request_id: string | null; details: Record<string, unknown> }>(
    `SELECT subject_id, actor_role, actor_id, request_id, details FROM audit_events WHERE tenant = $1 AND action = $2 ORDER BY id`,
    [tenant, action],
  );
  return rows;
}

beforeAll(async () => {
  schema = await createTestSchema('vt_exports');
  t = await buildTestApp(schema.db, { EXPORT_SIGN_SECRET: OLD_SECRET, REQUEST_BODY_LIMIT: '10mb' });
  await seedFixtures(schema.db);
  // Chained now, as every start chains rows written past the application: exports of them stay the same bytes.
  await runMigrations(schema.db);
});
afterAll(async () => {
  for (const dir of tmp) await rm(dir, { recursive: true, force: true });
  await schema?.drop();
});

describe('GET /v1/accounting/exports/audit as NDJSON', () => {
  let res: RawResponse;
  let before: string[];
  beforeAll(async () => {
    before = await expectedIds('default');
    res = await rawGet(t.app, exportPath({ format: 'ndjson' }), auditor);
  });

  it('streams exactly the tenant events, oldest first, one JSON object per line, chunked', async () => {
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.chunks).toBeGreaterThan(1);
    const text = res.body.toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    const events = text.trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string; tenant: string; action: string });
    expect(events.map((event) => event.id)).toEqual(before);
    expect(events).toHaveLength(2_400 + 6);
    expect(new Set(events.map((event) => event.tenant))).toEqual(new Set(['default']));
  });

  it('keeps timestamps to the microsecond and details exactly as stored', () => {
    const lines = res.body.toString('utf8').trimEnd().split('\n');
    const tricky = lines.find((line) => line.includes('"subject_id":"tricky-1"')) as string;
    expect(JSON.parse(tricky)).toMatchObject({ ts: '2025-06-01T00:00:00.000001Z', summary: '+31 20 555 0100', actor: { role: 'operator', id: null } });
    expect(tricky).toContain('"details":{"amount": 12345678901234567890.123456789}');
  });

  it("sends the signature as the X-Export-Signature trailer: HMAC-SHA256 of the SHA-256 of the bytes, the tenant's current key", () => {
    expect(res.headers.trailer).toBe('X-Export-Signature');
    const kid = createHash('sha256').update(`kid:${OLD_SECRET}`).digest('hex').slice(0, 16);
    const mac = createHmac('sha256', tenantKey(OLD_SECRET, 'default')).update(createHash('sha256').update(res.body).digest()).digest('hex');
    expect(res.trailers['x-export-signature']).toBe(`kid=${kid},v1=${mac}`);
  });

  it('records export_created with the signature, digest, sizes, key id and range, after the stream', async () => {
    const exportId = res.headers['x-export-id'] as string;
    expect(exportId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['content-disposition']).toBe(`attachment; filename="audit-default-${exportId}.ndjson"`);
    const [event] = (await auditRows('default', 'export_created')).filter((row) => row.subject_id === exportId);
    expect(event).toMatchObject({ actor_role: 'auditor', actor_id: 'auditor-1', request_id: expect.any(String) });
    expect(event?.details).toEqual({
      export_id: exportId,
      format: 'ndjson',
      from: null,
      to: null,
      as_of: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      rows: 2_406,
      bytes: res.body.length,
      sha256: createHash('sha256').update(res.body).digest('hex'),
      kid: createHash('sha256').update(`kid:${OLD_SECRET}`).digest('hex').slice(0, 16),
      signature: res.trailers['x-export-signature'],
      chain_head: { seq: expect.stringMatching(/^\d+$/), mac: expect.toBeOneOf([null, expect.stringMatching(/^[0-9a-f]{64}$/)]), signature: expect.stringMatching(/^kid=/) },
    });
  });

  it('verifies with POST /exports/verify, from the bytes or from their SHA-256', async () => {
    const signature = res.trailers['x-export-signature'] as string;
    const kid = signature.slice(4, 20);
    const fromBytes = await verify(t.app, res.body, signature);
    expect(fromBytes.status).toBe(200);
    expect(fromBytes.body).toEqual({ valid: true, key: 'current', kid, sha256: createHash('sha256').update(res.body).digest('hex') });
    const fromDigest = await verifyDigest(t.app, res.body, signature);
    expect(fromDigest.body).toMatchObject({ valid: true, key: 'current', kid });
  });

  it("answers valid:false to another tenant's verify of this export, from the bytes or from their SHA-256", async () => {
    const signature = res.trailers['x-export-signature'] as string;
    const sha256 = createHash('sha256').update(res.body).digest('hex');
    const fromBytes = await verify(t.app, res.body, signature, otherAuditor);
    expect(fromBytes.status).toBe(200);
    expect(fromBytes.body).toEqual({ valid: false, key: null, kid: signature.slice(4, 20), sha256, reason: 'mismatch' });
    expect((await verifyDigest(t.app, res.body, signature, otherAuditor)).body).toMatchObject({ valid: false, key: null, reason: 'mismatch' });
  });

  it('answers valid:false to a signature made with the shared key of earlier releases (the secret itself)', async () => {
    const digest = createHash('sha256').update(res.body).digest();
    const legacy = `kid=${(res.trailers['x-export-signature'] as string).slice(4, 20)},v1=${createHmac('sha256', OLD_SECRET).update(digest).digest('hex')}`;
    expect((await verify(t.app, res.body, legacy)).body).toMatchObject({ valid: false, key: null, reason: 'mismatch' });
  });

  it('fails verification when one byte is changed', async () => {
    const tampered = Buffer.from(res.body);
    tampered[1_000] = (tampered[1_000] as number) ^ 0x01;
    const signature = res.trailers['x-export-signature'] as string;
    expect((await verify(t.app, tampered, signature)).body).toMatchObject({ valid: false, key: null, reason: 'mismatch' });
    expect((await verifyDigest(t.app, tampered, signature)).body).toMatchObject({ valid: false, key: null, reason: 'mismatch' });
  });

  it('serves the same signature from GET /exports/{id}/signature, for clients that ignore trailers', async () => {
    const exportId = res.headers['x-export-id'] as string;
    const sig = await request(t.app).get(`/v1/accounting/exports/${exportId}/signature`).set(admin);
    expect(sig.status).toBe(200);
    expect(sig.body).toMatchObject({
      export_id: exportId,
      signature: res.trailers['x-export-signature'],
      sha256: createHash('sha256').update(res.body).digest('hex'),
      bytes: res.body.length,
      rows: 2_406,
      format: 'ndjson',
      created_at: expect.any(String),
    });
  });

  it('does not show another tenant the export or its signature (404, as for an unknown id)', async () => {
    const exportId = res.headers['x-export-id'] as string;
    const other = await request(t.app).get(`/v1/accounting/exports/${exportId}/signature`).set(otherAuditor);
    expect(other.status).toBe(404);
    expect(other.body.error_code).toBe('NOT_FOUND');
    const unknown = await request(t.app).get('/v1/accounting/exports/3b241101-e2bb-4255-8caf-4136c566a962/signature').set(auditor);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toBe(other.body.message);
  });
});

describe('the other tenant', () => {
  it('exports only its own events', async () => {
    const before = await expectedIds('pilot-a');
    const res = await rawGet(t.app, exportPath(), otherAuditor);
    const events = res.body.toString('utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string; tenant: string });
    expect(events.map((event) => event.id)).toEqual(before);
    expect(events.filter((event) => (event as { action?: string }).action === 'fixture')).toHaveLength(1_200);
    expect(events.every((event) => event.tenant === 'pilot-a')).toBe(true);
  });

  it('gets its exports signed with its own key: they verify for it and not for tenant default', async () => {
    const res = await rawGet(t.app, exportPath({ to: '2025-01-01T00:00:02Z' }), otherAuditor);
    const signature = res.trailers['x-export-signature'] as string;
    const mac = createHmac('sha256', tenantKey(OLD_SECRET, 'pilot-a')).update(createHash('sha256').update(res.body).digest()).digest('hex');
    expect(signature).toBe(`kid=${signature.slice(4, 20)},v1=${mac}`);
    expect((await verify(t.app, res.body, signature, otherAuditor)).body).toMatchObject({ valid: true, key: 'current' });
    expect((await verify(t.app, res.body, signature, auditor)).body).toMatchObject({ valid: false, key: null, reason: 'mismatch' });
  });
});

describe('GET /v1/accounting/exports/audit as CSV', () => {
  it('writes a header row, RFC 4180 records and quote-prefixed formula cells, signed like NDJSON', async () => {
    const res = await rawGet(t.app, exportPath({ format: 'csv', from: '2025-06-01T00:00:00Z', to: '2025-06-02T00:00:00Z' }), auditor);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    const records = parseCsv(res.body.toString('utf8'));
    expect(records[0]).toEqual([
      'id', 'ts', 'tenant', 'actor_role', 'actor_id', 'action', 'subject_type', 'subject_id', 'summary', 'request_id',
      'chain_seq', 'chain_key_id', 'chain_prev_mac', 'chain_mac', 'details',
    ]);
    const body = records.slice(1);
    expect(body.map((record) => record[0])).toEqual(await expectedIds('default', '2025-06-01T00:00:00Z', '2025-06-02T00:00:00Z'));
    expect(body.map((record) => record[8])).toEqual([
      `'=HYPERLINK("http://evil.example","click")`,
      "'+31 20 555 0100",
      "'-5",
      "'@SUM(A1:A9)",
      'two\nlines, "quoted"',
      'Zürich €',
    ]);
    expect(body.every((record) => record[2] === 'default' && record.length === 15)).toBe(true);
    expect(body[0]?.[14]).toBe('{"amount": 12345678901234567890.123456789}');
    expect((await verify(t.app, res.body, res.trailers['x-export-signature'] as string)).body).toMatchObject({ valid: true, key: 'current' });
  });

  it('keeps another tenant out of the CSV as well', async () => {
    const before = await expectedIds('pilot-a');
    const res = await rawGet(t.app, exportPath({ format: 'csv' }), otherAuditor);
    const body = parseCsv(res.body.toString('utf8')).slice(1);
    expect(body.map((record) => record[0])).toEqual(before);
    expect(body.filter((record) => record[5] === 'fixture')).toHaveLength(1_200);
    expect(body.every((record) => record[2] === 'pilot-a')).toBe(true);
  });
});

describe('the range', () => {
  it('includes from and excludes to, to the microsecond', async () => {
    const all = await expectedIds('default');
    const { rows } = await schema.db.query<{ id: string; ts: string }>(
      `SELECT id, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts FROM audit_events WHERE id = ANY($1::bigint[])`,
      [[all[101], all[301]]],
    );
    const tsOf = (id: string | undefined) => rows.find((row) => row.id === id)?.ts as string;
    expect(tsOf(all[101])).toMatch(/\.\d{5}[1-9]Z$|\.\d{6}Z$/);
    const res = await rawGet(t.app, exportPath({ from: tsOf(all[101]), to: tsOf(all[301]) }), auditor);
    const ids = res.body.toString('utf8').trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toEqual(await expectedIds('default', tsOf(all[101]), tsOf(all[301])));
    expect(ids[0]).toBe(all[101]);
    expect(ids).not.toContain(all[301]);
  });

  it('answers an empty range with an empty body that still carries a valid signature', async () => {
    const res = await rawGet(t.app, exportPath({ from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' }), auditor);
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
    expect((await verify(t.app, res.body, res.trailers['x-export-signature'] as string)).body).toMatchObject({ valid: true });
  });

  it('ends at the database clock when the export started: later events are not in it', async () => {
    const keyring = createExportKeyring({ secret: OLD_SECRET, previousSecret: undefined }) as ExportKeyring;
    const before = await expectedIds('pilot-a');
    const exp = await startAuditExport(schema.db, keyring, { tenant: 'pilot-a', role: 'auditor' }, { format: 'ndjson' });
    await appendAuditEvent(schema.db, 'pilot-a', { actorRole: 'operator', action: 'fixture', summary: 'written after the export started' });
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (chunks.push(chunk), done()) });
    const receipt = await exp.writeTo(sink);
    const text = Buffer.concat(chunks).toString('utf8');
    expect(text).not.toContain('written after the export started');
    expect(receipt?.rows).toBe(before.length);
    expect(text.trimEnd().split('\n').map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(before);
  });
});

describe('reading in batches', () => {
  it('pages by (ts, id) without losing or repeating rows that share a timestamp or differ by a microsecond', async () => {
    const expected = await expectedIds('default');
    const asOf = await readAuditClock(schema.db);
    const batches: AuditExportRow[][] = [];
    for await (const batch of readAuditExportBatches(schema.db, 'default', { asOf }, { batchSize: 7 })) batches.push(batch);
    expect(batches.length).toBe(Math.ceil(expected.length / 7));
    expect(batches.every((batch) => batch.length <= 7)).toBe(true);
    expect(batches.flat().map((row) => row.id)).toEqual(expected);
    // Some batch boundaries fall between two events with the very same ts.
    const splits = batches.slice(1).filter((batch, i) => batch[0]?.ts === batches[i]?.at(-1)?.ts);
    expect(splits.length).toBeGreaterThan(0);
  });
});

describe('streaming', () => {
  it('writes one chunk per batch and reads the next batch only once the consumer has taken the last', async () => {
    const keyring = createExportKeyring({ secret: OLD_SECRET, previousSecret: undefined }) as ExportKeyring;
    const exp = await startAuditExport(schema.db, keyring, { tenant: 'default', role: 'auditor' }, { format: 'ndjson' }, { batchSize: 100 });
    const chunks: number[] = [];
    let mostBuffered = 0;
    const sink = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.length);
        setTimeout(done, 10); // a slow consumer: slower than reading the next batch
      },
    });
    const write = sink.write.bind(sink);
    sink.write = ((chunk: Buffer) => {
      mostBuffered = Math.max(mostBuffered, sink.writableLength);
      return write(chunk);
    }) as typeof sink.write;
    const receipt = await exp.writeTo(sink);
    expect(receipt?.rows).toBeGreaterThan(2_400);
    expect(chunks).toHaveLength(Math.ceil((receipt?.rows ?? 0) / 100));
    expect(mostBuffered).toBe(0);
  });
});

describe('a client that goes away midway', () => {
  it('records export_aborted with what was sent, and no export_created', async () => {
    const keyring = createExportKeyring({ secret: OLD_SECRET, previousSecret: undefined }) as ExportKeyring;
    const exp = await startAuditExport(schema.db, keyring, { tenant: 'default', role: 'auditor', requestId: 'abort-1' }, { format: 'csv' }, { batchSize: 100 });
    let received = 0;
    const sink: Writable = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        done();
        if (received > 0) sink.destroy();
      },
    });
    expect(await exp.writeTo(sink)).toBeUndefined();
    expect((await auditRows('default', 'export_created')).some((row) => row.subject_id === exp.exportId)).toBe(false);
    const [aborted] = (await auditRows('default', 'export_aborted')).filter((row) => row.subject_id === exp.exportId);
    expect(aborted).toMatchObject({ request_id: 'abort-1', details: { export_id: exp.exportId, format: 'csv', reason: 'client_closed', rows: expect.any(Number) } });
    expect(aborted?.details.rows).toBeLessThan(2_406);
    expect(await request(t.app).get(`/v1/accounting/exports/${exp.exportId}/signature`).set(auditor)).toMatchObject({ status: 404 });
  });
});

/** `db` whose queries matching `pattern` fail. */
function failingDb(db: Db, pattern: RegExp): Db {
  return interceptQueries(db, {
    before: (text) => {
      if (pattern.test(text)) throw new Error('connection terminated unexpectedly');
    },
  });
}

describe('when the database fails', () => {
  it('before the first byte: answers 500 INTERNAL in JSON, announces no trailer, records export_aborted', async () => {
    const broken = await buildTestApp(failingDb(schema.db, /ORDER BY audit_events.ts, audit_events.id LIMIT \$5/), { EXPORT_SIGN_SECRET: OLD_SECRET });
    const res = await rawGet(broken.app, exportPath(), auditor);
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body.toString('utf8'))).toMatchObject({ error_code: 'INTERNAL' });
    expect(res.headers.trailer).toBeUndefined();
    expect(res.headers['x-export-id']).toBeUndefined();
    expect((await auditRows('default', 'export_aborted')).at(-1)?.details).toMatchObject({ reason: 'failed', rows: 0, bytes: 0 });
  });

  it('midway: cuts the connection, so the client never takes a partial export for a whole one', async () => {
    const broken = await buildTestApp(failingDb(schema.db, /\(ts, id\) > /), { EXPORT_SIGN_SECRET: OLD_SECRET });
    const created = (await auditRows('default', 'export_created')).length;
    await expect(rawGet(broken.app, exportPath(), auditor)).rejects.toThrow();
    expect(await auditRows('default', 'export_created')).toHaveLength(created);
    expect((await auditRows('default', 'export_aborted')).at(-1)?.details).toMatchObject({ reason: 'failed', rows: 1_000 });
  });
});

describe('HEAD /v1/accounting/exports/audit', () => {
  it('answers the content type only, and runs and records no export', async () => {
    const created = (await auditRows('default', 'export_created')).length;
    const res = await request(t.app).head(exportPath({ format: 'csv' })).set(auditor);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers['x-export-id']).toBeUndefined();
    expect(await auditRows('default', 'export_created')).toHaveLength(created);
  });
});

/** Counts turns of the event loop (one `setImmediate` callback per turn) until stopped. */
function countTurns(): { turns: () => number; stop: () => void } {
  let turns = 0;
  let running = true;
  const tick = () => {
    turns += 1;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return { turns: () => turns, stop: () => (running = false) };
}

describe('yielding between slices', () => {
  it('serializes each batch of 1,000 rows in slices, with an event-loop turn before each, so other requests run in between', async () => {
    const counter = countTurns();
    const answeredAt: number[] = [];
    const timed = interceptQueries(schema.db, {
      after: (text) => {
        if (text.includes('ORDER BY audit_events.ts, audit_events.id')) answeredAt.push(counter.turns());
      },
    });
    const keyring = createExportKeyring({ secret: OLD_SECRET, previousSecret: undefined }) as ExportKeyring;
    const exp = await startAuditExport(timed, keyring, { tenant: 'default', role: 'auditor' }, { format: 'ndjson', to: '2025-12-31T00:00:00Z' }, { sliceRows: 100 });
    const writtenAt: number[] = [];
    const sink = new Writable({ write: (_chunk: Buffer, _encoding, done) => (writtenAt.push(counter.turns()), done()) });
    const receipt = await exp.writeTo(sink);
    counter.stop();
    expect(receipt?.rows).toBe(2_406);
    expect(writtenAt).toHaveLength(Math.ceil(1_000 / 100) * 2 + Math.ceil(406 / 100));
    // The first batch's 10 slices: each waited for a turn of its own after the query answered.
    const firstBatch = writtenAt.slice(0, 10);
    expect(firstBatch[0]).toBeGreaterThan(answeredAt[0] as number);
    for (let i = 1; i < firstBatch.length; i++) expect(firstBatch[i]).toBeGreaterThan(firstBatch[i - 1] as number);
  });

  it('runs one slice per event-loop turn across all exports at once, so requests wait behind one slice, not one per export', async () => {
    const keyring = createExportKeyring({ secret: OLD_SECRET, previousSecret: undefined }) as ExportKeyring;
    const counter = countTurns();
    const writtenAt: number[] = [];
    const exportTo = async (format: 'ndjson' | 'csv') => {
      const sink = new Writable({ write: (_chunk: Buffer, _encoding, done) => (writtenAt.push(counter.turns()), done()) });
      const exp = await startAuditExport(schema.db, keyring, { tenant: 'default', role: 'auditor' }, { format, to: '2025-12-31T00:00:00Z' }, { sliceRows: 100 });
      return exp.writeTo(sink);
    };
    const receipts = await Promise.all([exportTo('ndjson'), exportTo('csv'), exportTo('ndjson')]);
    counter.stop();
    expect(receipts.map((receipt) => receipt?.rows)).toEqual([2_406, 2_406, 2_406]);
    expect(writtenAt).toHaveLength(3 * 25);
    expect(new Set(writtenAt).size).toBe(writtenAt.length);
  });

  it('signs an export read in batches of 7 and written in slices of 3 exactly as one read and written whole', async () => {
    const keyring = createExportKeyring({ secret: OLD_SECRET, previousSecret: undefined }) as ExportKeyring;
    const range = { format: 'csv', to: '2025-12-31T00:00:00Z' } as const;
    const collect = async (options: { batchSize?: number; sliceRows?: number }) => {
      const chunks: Buffer[] = [];
      const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (chunks.push(chunk), done()) });
      const receipt = await (await startAuditExport(schema.db, keyring, { tenant: 'default', role: 'auditor' }, range, options)).writeTo(sink);
      return { body: Buffer.concat(chunks), chunks: chunks.length, signature: receipt?.signature as string };
    };
    const small = await collect({ batchSize: 7, sliceRows: 3 });
    const whole = await collect({ batchSize: 5_000, sliceRows: 5_000 });
    // 343 batches of 7 rows, each in slices of 3 + 3 + 1, then 5 rows in 3 + 2.
    expect(small.chunks).toBe(343 * 3 + 2);
    expect(small.body.equals(whole.body)).toBe(true);
    expect(small.signature).toBe(whole.signature);
    expect((await verify(t.app, small.body, small.signature)).body).toMatchObject({ valid: true, key: 'current' });
  });
});

/** `db` whose first query matching `pattern` waits until `open()`; every other query passes straight through. */
function holdingDb(db: Db, pattern: RegExp): { db: Db; reached: Promise<void>; open: () => void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => {
    reach = resolve;
  });
  let held = false;
  return {
    db: interceptQueries(db, {
      before: async (text) => {
        if (!held && pattern.test(text)) {
          held = true;
          reach();
          await gate;
        }
      },
    }),
    reached,
    open,
  };
}

/** `db` whose first query matching `pattern` fails; later ones succeed. */
function failingOnceDb(db: Db, pattern: RegExp): Db {
  let failed = false;
  return interceptQueries(db, {
    before: (text) => {
      if (!failed && pattern.test(text)) {
        failed = true;
        throw new Error('connection terminated unexpectedly');
      }
    },
  });
}

/** A request to `port` whose response is handed over as soon as its headers arrive; the body is left unread. */
function openExport(port: number, path: string, headers: Record<string, string>): { request: http.ClientRequest; response: Promise<http.IncomingMessage> } {
  const request = http.get({ host: '127.0.0.1', port, path, headers });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    request.once('response', resolve);
    request.once('error', reject);
  });
  return { request, response };
}

/** The rest of `res`'s body, and its trailers. */
async function readToEnd(res: http.IncomingMessage): Promise<{ body: Buffer; trailers: NodeJS.Dict<string> }> {
  const parts: Buffer[] = [];
  for await (const chunk of res) parts.push(chunk as Buffer);
  return { body: Buffer.concat(parts), trailers: res.trailers };
}

describe('with EXPORT_MAX_CONCURRENT=1', () => {
  /** The app on `db`, allowed one export at a time, listening on a port of its own. */
  async function limitedApp(db: Db) {
    const limited = await buildTestApp(db, { EXPORT_SIGN_SECRET: OLD_SECRET, EXPORT_MAX_CONCURRENT: '1' });
    const server = http.createServer(limited.app);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    return { ...limited, port: (server.address() as AddressInfo).port };
  }
  const servers: http.Server[] = [];
  afterAll(() => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
  });

  it('answers a second export while one streams 429 EXPORTS_BUSY with Retry-After, runs and records nothing for it, and serves HEAD', async () => {
    const held = holdingDb(schema.db, /\(ts, id\) > /);
    const limited = await limitedApp(held.db);
    const first = openExport(limited.port, exportPath(), auditor);
    expect((await first.response).statusCode).toBe(200);
    await held.reached;

    const busy = await request(limited.app).get(exportPath({ format: 'csv' })).set(auditor).set('X-Request-Id', 'busy-export-1');
    expect(busy.status).toBe(429);
    expect(busy.headers['retry-after']).toBe('5');
    expect(busy.headers['x-export-id']).toBeUndefined();
    expect(busy.body).toEqual({ error_code: 'EXPORTS_BUSY', message: expect.stringContaining('retry'), request_id: 'busy-export-1' });
    const head = await request(limited.app).head(exportPath()).set(auditor);
    expect(head.status).toBe(200);

    held.open();
    const { body, trailers } = await readToEnd(await first.response);
    expect((await verify(t.app, body, trailers['x-export-signature'] as string)).body).toMatchObject({ valid: true });

    const { rows } = await schema.db.query(`SELECT 1 FROM audit_events WHERE request_id = 'busy-export-1'`);
    expect(rows).toHaveLength(0);
    await vi.waitFor(() => expect(limited.logs.lines.find((line) => line.request_id === 'busy-export-1')).toBeDefined());
    expect(limited.logs.lines.filter((line) => line.request_id === 'busy-export-1')).toEqual([
      expect.objectContaining({ level: 'info', status: 429 }),
    ]);
    const metrics = (await request(limited.app).get('/metrics')).text;
    expect(metrics).toMatch(/http_requests_total\{[^}]*code="429"[^}]*\} 1/);
    expect(metrics).not.toMatch(/http_requests_total\{[^}]*code="5\d\d"/);
  });

  it('takes a new export once the one before has completed', async () => {
    const limited = await limitedApp(schema.db);
    expect((await rawGet(limited.app, exportPath({ to: '2025-01-01T00:00:01Z' }), auditor)).status).toBe(200);
    const next = openExport(limited.port, exportPath(), auditor);
    expect((await next.response).statusCode).toBe(200);
    await readToEnd(await next.response);
    const after = openExport(limited.port, exportPath({ format: 'csv' }), auditor);
    expect((await after.response).statusCode).toBe(200);
    await readToEnd(await after.response);
  });

  it('takes a new export once the client of the one before has disconnected midway', async () => {
    const held = holdingDb(schema.db, /\(ts, id\) > /);
    const limited = await limitedApp(held.db);
    const first = openExport(limited.port, exportPath(), { ...auditor, 'X-Request-Id': 'gone-export-1' });
    expect((await first.response).statusCode).toBe(200);
    await held.reached;
    expect((await request(limited.app).get(exportPath()).set(auditor)).status).toBe(429);

    first.request.destroy();
    await vi.waitFor(async () => expect((await request(limited.app).get(exportPath({ to: '2025-01-01T00:00:01Z' })).set(auditor)).status).toBe(200));
    held.open();
    await vi.waitFor(async () => {
      const { rows } = await schema.db.query<{ details: { reason: string } }>(
        `SELECT details FROM audit_events WHERE request_id = 'gone-export-1' AND action = 'export_aborted'`,
      );
      expect(rows[0]?.details.reason).toBe('client_closed');
    });
  });

  it('takes a new export once the one before has failed midway', async () => {
    const limited = await limitedApp(failingOnceDb(schema.db, /\(ts, id\) > /));
    await expect(rawGet(limited.app, exportPath(), auditor)).rejects.toThrow();
    const res = await rawGet(limited.app, exportPath(), auditor);
    expect(res.status).toBe(200);
    expect((await verify(t.app, res.body, res.trailers['x-export-signature'] as string)).body).toMatchObject({ valid: true });
  });
});

describe('key rotation', () => {
  let exported: RawResponse;
  beforeAll(async () => {
    exported = await rawGet(t.app, exportPath({ to: '2025-01-01T00:00:01Z' }), auditor);
  });

  it('verifies an export signed with the old key as "previous" once new + previous are deployed', async () => {
    const rotated = await buildTestApp(schema.db, { EXPORT_SIGN_SECRET: NEW_SECRET, EXPORT_SIGN_SECRET_PREV: OLD_SECRET, REQUEST_BODY_LIMIT: '10mb' });
    const signature = exported.trailers['x-export-signature'] as string;
    expect((await verify(rotated.app, exported.body, signature)).body).toMatchObject({ valid: true, key: 'previous', kid: signature.slice(4, 20) });
    expect((await verify(rotated.app, exported.body, signature, otherAuditor)).body).toMatchObject({ valid: false, key: null, reason: 'mismatch' });
    const fresh = await rawGet(rotated.app, exportPath({ to: '2025-01-01T00:00:01Z' }), auditor);
    expect(fresh.body.equals(exported.body)).toBe(true);
    expect(fresh.trailers['x-export-signature']).not.toBe(signature);
    expect((await verify(rotated.app, fresh.body, fresh.trailers['x-export-signature'] as string)).body).toMatchObject({ valid: true, key: 'current' });
  });

  it('rejects it once the previous key is removed', async () => {
    const after = await buildTestApp(schema.db, { EXPORT_SIGN_SECRET: NEW_SECRET, REQUEST_BODY_LIMIT: '10mb' });
    const res = await verify(after.app, exported.body, exported.trailers['x-export-signature'] as string);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ valid: false, key: null, reason: 'unknown_key' });
  });
});

describe('without EXPORT_SIGN_SECRET', () => {
  let disabled: TestApp;
  beforeAll(async () => {
    disabled = await buildTestApp(schema.db, { EXPORT_SIGN_SECRET_PREV: OLD_SECRET });
  });

  it('answers every export route 503 EXPORTS_DISABLED', async () => {
    const answers = [
      await request(disabled.app).get(exportPath()).set(auditor),
      await request(disabled.app).get('/v1/accounting/exports/3b241101-e2bb-4255-8caf-4136c566a962/signature').set(auditor),
      await request(disabled.app).post('/v1/accounting/exports/verify').set(auditor).send({ sha256: '0'.repeat(64), signature: `kid=${'0'.repeat(16)},v1=${'0'.repeat(64)}` }),
    ];
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error_code: 'EXPORTS_DISABLED', message: expect.stringContaining('disabled'), request_id: expect.any(String) });
    }
  });

  it('says so on /ready, which stays 200', async () => {
    const res = await request(disabled.app).get('/ready');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ready', exports: 'disabled' });
    expect((await request(t.app).get('/ready')).body).toMatchObject({ status: 'ready', exports: 'enabled' });
  });
});

describe('permissions', () => {
  it.each(['operator', 'viewer'])('refuses the %s role 403 FORBIDDEN (it lacks exports:read)', async (role) => {
    const headers = { 'X-Tenant': 'default', 'X-User-Role': role };
    for (const res of [
      await request(t.app).get(exportPath()).set(headers),
      await request(t.app).post('/v1/accounting/exports/verify').set(headers).send({}),
      await request(t.app).get('/v1/accounting/exports/3b241101-e2bb-4255-8caf-4136c566a962/signature').set(headers),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error_code: 'FORBIDDEN', permission: 'exports:read', role });
    }
  });

  it('lets admins export', async () => {
    expect((await rawGet(t.app, exportPath({ to: '2025-01-01T00:00:01Z' }), admin)).status).toBe(200);
  });
});

describe('bad input', () => {
  it.each([
    [{ format: 'xml' }, 'format'],
    [{ from: 'yesterday' }, 'from'],
    [{ to: '2025-01-01' }, 'to'],
    [{ from: '2025-02-01T00:00:00Z', to: '2025-01-01T00:00:00Z' }, 'to'],
    [{ limit: '10' }, ''],
  ])('answers export query %j with 400 VALIDATION_FAILED naming %j', async (query, path) => {
    const res = await request(t.app).get(exportPath(query)).set(auditor);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('VALIDATION_FAILED');
    expect(res.body.issues).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });

  it('answers a repeated format with 400', async () => {
    const res = await request(t.app).get('/v1/accounting/exports/audit?format=csv&format=ndjson').set(auditor);
    expect(res.status).toBe(400);
  });

  it.each([
    [{ sha256: 'abc', signature: `kid=${'0'.repeat(16)},v1=${'0'.repeat(64)}` }, 'sha256'],
    [{ sha256: '0'.repeat(64), signature: 'v1=deadbeef' }, 'signature'],
    [{ sha256: '0'.repeat(64) }, 'signature'],
    [{ sha256: '0'.repeat(64), signature: `kid=${'0'.repeat(16)},v1=${'0'.repeat(64)}`, extra: 1 }, ''],
  ])('answers verify body %j with 400 VALIDATION_FAILED naming %j', async (body, path) => {
    const res = await request(t.app).post('/v1/accounting/exports/verify').set(auditor).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'VALIDATION_FAILED', issues: expect.arrayContaining([expect.objectContaining({ path })]) });
  });

  it('answers raw bytes without a well-formed X-Export-Signature header with 400 VALIDATION_FAILED', async () => {
    const res = await request(t.app).post('/v1/accounting/exports/verify').set(auditor).set('Content-Type', 'application/octet-stream').send(Buffer.from('x'));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'VALIDATION_FAILED', issues: [expect.objectContaining({ path: 'x-export-signature' })] });
  });

  it('answers a body of another type with 400 VALIDATION_FAILED', async () => {
    const res = await request(t.app).post('/v1/accounting/exports/verify').set(auditor).set('Content-Type', 'text/plain').send('hello');
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('VALIDATION_FAILED');
  });

  it('answers an export id that is not a UUID with 400', async () => {
    const res = await request(t.app).get('/v1/accounting/exports/not-an-id/signature').set(auditor);
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('VALIDATION_FAILED');
  });
});

describe('scripts/verify_export_signature.mjs', () => {
  let file: string;
  let signature: string;
  let body: Buffer;
  beforeAll(async () => {
    const res = await rawGet(t.app, exportPath({ to: '2025-01-01T00:00:02Z' }), auditor);
    body = res.body;
    signature = res.trailers['x-export-signature'] as string;
    const dir = await mkdtemp(join(tmpdir(), 'export-cli-'));
    tmp.push(dir);
    file = join(dir, 'export.ndjson');
    await writeFile(file, body);
  });

  const cli = async (args: string[], env: Record<string, string>) => {
    const run = spawnNode(CLI_ENTRY, args, env);
    const code = await run.exited;
    return { code, stdout: run.stdout.join('\n'), stderr: run.stderr.join('') };
  };

  it("exits 0 with the export's tenant, for the current key and for the previous one, naming it", async () => {
    const current = await cli(['--tenant', 'default', file, signature], { EXPORT_SIGN_SECRET: OLD_SECRET });
    expect(current).toMatchObject({ code: 0, stdout: expect.stringMatching(/^valid: signed with the current key \(kid [0-9a-f]{16}, tenant default\)/) });
    expect(current.stdout).toContain(createHash('sha256').update(body).digest('hex'));
    const previous = await cli(['--tenant', 'default', file, signature], { EXPORT_SIGN_SECRET: NEW_SECRET, EXPORT_SIGN_SECRET_PREV: OLD_SECRET });
    expect(previous).toMatchObject({ code: 0, stdout: expect.stringMatching(/^valid: signed with the previous key/) });
  });

  it('exits 1 with another tenant, with the current key and with the previous one', async () => {
    const envs: Record<string, string>[] = [{ EXPORT_SIGN_SECRET: OLD_SECRET }, { EXPORT_SIGN_SECRET: NEW_SECRET, EXPORT_SIGN_SECRET_PREV: OLD_SECRET }];
    for (const env of envs) {
      expect(await cli(['--tenant', 'pilot-a', file, signature], env)).toMatchObject({
        code: 1,
        stdout: expect.stringMatching(/^invalid: the signature does not match the file for tenant pilot-a/),
      });
    }
  });

  it('exits 0 with --legacy-shared-key for a signature made before per-tenant keys, and 1 for a per-tenant one', async () => {
    const legacy = `kid=${signature.slice(4, 20)},v1=${createHmac('sha256', OLD_SECRET).update(createHash('sha256').update(body).digest()).digest('hex')}`;
    expect(await cli(['--legacy-shared-key', file, legacy], { EXPORT_SIGN_SECRET: OLD_SECRET })).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^valid: signed with the current key \(kid [0-9a-f]{16}, the legacy shared key, no tenant\)/),
    });
    expect(await cli(['--tenant', 'default', file, legacy], { EXPORT_SIGN_SECRET: OLD_SECRET })).toMatchObject({ code: 1 });
    expect(await cli(['--legacy-shared-key', file, signature], { EXPORT_SIGN_SECRET: OLD_SECRET })).toMatchObject({ code: 1 });
  });

  it('exits 1 when the key is gone or a byte changed', async () => {
    expect(await cli(['--tenant', 'default', file, signature], { EXPORT_SIGN_SECRET: NEW_SECRET })).toMatchObject({ code: 1, stdout: expect.stringMatching(/^invalid: key /) });
    const tampered = `${file}.tampered`;
    const copy = Buffer.from(body);
    copy[10] = (copy[10] as number) ^ 0x20;
    await writeFile(tampered, copy);
    expect(await cli(['--tenant', 'default', tampered, signature], { EXPORT_SIGN_SECRET: OLD_SECRET })).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/^invalid: the signature does not match/),
    });
  });

  it('exits 2 for bad usage, no tenant, a malformed signature, a missing or short secret, or a missing file, never printing a secret', async () => {
    const short = 'too-short-secret-value';
    const tenant = ['--tenant', 'default'];
    const runs = [
      await cli([...tenant, file], { EXPORT_SIGN_SECRET: OLD_SECRET }),
      await cli([...tenant, file, signature, '--bogus'], { EXPORT_SIGN_SECRET: OLD_SECRET }),
      await cli([...tenant, file, 'kid=zz,v1=00'], { EXPORT_SIGN_SECRET: OLD_SECRET }),
      await cli([...tenant, file, signature], {}),
      await cli([...tenant, file, signature], { EXPORT_SIGN_SECRET: short }),
      await cli([...tenant, `${file}.missing`, signature], { EXPORT_SIGN_SECRET: OLD_SECRET }),
      await cli([file, signature], { EXPORT_SIGN_SECRET: OLD_SECRET }),
      await cli([...tenant, '--legacy-shared-key', file, signature], { EXPORT_SIGN_SECRET: OLD_SECRET }),
    ];
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^verify_export_signature: /);
      expect(run.stderr + run.stdout).not.toContain(OLD_SECRET);
      expect(run.stderr + run.stdout).not.toContain(short);
    }
    expect(runs[4]?.stderr).toContain('EXPORT_SIGN_SECRET: must be at least 32 bytes');
    expect(runs[6]?.stderr).toContain('--tenant <tenant> is required');
    expect(runs[7]?.stderr).toContain('--legacy-shared-key names no tenant');
  });

  it('prints its usage with --help and exits 0', async () => {
    const help = await cli(['--help'], {});
    expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining('usage: node scripts/verify_export_signature.mjs --tenant <tenant> <file> <signature>') });
    expect(help.stdout).toContain('--legacy-shared-key');
  });
});

describe('start-up with a short signing secret', () => {
  it('stops the process with exit code 1 and one line naming the variable, not the value', async () => {
    const short = 'this-secret-is-only-31-bytes-xx';
    const bff = spawnBff({ EXPORT_SIGN_SECRET: NEW_SECRET, EXPORT_SIGN_SECRET_PREV: short });
    expect(await bff.exited).toBe(1);
    const stderr = bff.stderr.join('');
    expect(stderr).toContain('EXPORT_SIGN_SECRET_PREV: must be at least 32 bytes');
    expect(stderr).not.toContain(short);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('the signing secrets', () => {
  it('never reach a log line, an audit row, a metric or a response', async () => {
    const rotated = await buildTestApp(schema.db, { EXPORT_SIGN_SECRET: NEW_SECRET, EXPORT_SIGN_SECRET_PREV: OLD_SECRET });
    const exported = await rawGet(rotated.app, exportPath({ to: '2025-01-01T00:00:01Z' }), auditor);
    const responses = [
      JSON.stringify({ headers: exported.headers, trailers: exported.trailers }) + exported.body.toString('utf8'),
      JSON.stringify((await verify(rotated.app, exported.body, exported.trailers['x-export-signature'] as string)).body),
      JSON.stringify((await request(rotated.app).get(`/v1/accounting/exports/${exported.headers['x-export-id'] as string}/signature`).set(auditor)).body),
      JSON.stringify((await request(rotated.app).get('/ready')).body),
      (await request(rotated.app).get('/metrics')).text,
      JSON.stringify((await request(rotated.app).get(exportPath({ format: 'bad' })).set(auditor)).body),
    ];
    const { rows } = await schema.db.query<{ row: string }>(`SELECT row_to_json(a)::text AS row FROM audit_events a`);
    const everything = [...t.logs.raw, ...rotated.logs.raw, ...rows.map((r) => r.row), ...responses].join('\n');
    expect(everything).toContain('export_created');
    for (const secret of [OLD_SECRET, NEW_SECRET]) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(Buffer.from(secret).toString('base64'));
      expect(everything).not.toContain(Buffer.from(secret).toString('hex'));
    }
  });
});
