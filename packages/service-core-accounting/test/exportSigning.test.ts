import { createHash, createHmac } from 'node:crypto';
import type { AuditExportRow } from '@accounting/data-pg';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_EXPORT_SERIALIZERS,
  createExportKeyring,
  createExportSigner,
  csvCell,
  exportKeyId,
  ExportsDisabledError,
  requireExportKeyring,
  sha256Of,
  verifyExportSignature,
  type ExportKeyring,
} from '../src/index.js';

const OLD_SECRET = 'old-export-signing-secret-0123456789abcdef';
const NEW_SECRET = 'new-export-signing-secret-fedcba9876543210';
const BYTES = Buffer.from('{"id":"1","action":"export_created"}\n{"id":"2"}\n', 'utf8');

const keyring = (secret: string, previousSecret?: string): ExportKeyring =>
  createExportKeyring({ secret, previousSecret }) as ExportKeyring;

describe('export key ids', () => {
  it('are the first 16 hex of sha256("kid:" + secret): stable, distinct per secret, never the secret', () => {
    const expected = createHash('sha256').update(`kid:${NEW_SECRET}`).digest('hex').slice(0, 16);
    expect(exportKeyId(NEW_SECRET)).toBe(expected);
    expect(exportKeyId(NEW_SECRET)).toMatch(/^[0-9a-f]{16}$/);
    expect(exportKeyId(OLD_SECRET)).not.toBe(exportKeyId(NEW_SECRET));
    expect(NEW_SECRET).not.toContain(exportKeyId(NEW_SECRET));
  });
});

describe('signing', () => {
  it('is kid=<kid>,v1=HMAC-SHA256(secret, SHA-256(bytes)) as docs/EXPORTS.md specifies', () => {
    const digest = createHash('sha256').update(BYTES).digest();
    const mac = createHmac('sha256', NEW_SECRET).update(digest).digest('hex');
    expect(createExportSigner(NEW_SECRET).sign(sha256Of(BYTES))).toBe(`kid=${exportKeyId(NEW_SECRET)},v1=${mac}`);
  });

  it('keeps the secret out of anything a log line could print', () => {
    const signer = createExportSigner(NEW_SECRET);
    expect(JSON.stringify(signer)).not.toContain(NEW_SECRET);
    expect(JSON.stringify(keyring(NEW_SECRET, OLD_SECRET))).not.toContain(OLD_SECRET);
  });

  it('refuses anything but a 32-byte digest', () => {
    expect(() => createExportSigner(NEW_SECRET).sign(BYTES)).toThrow(/32 bytes/);
  });
});

describe('verifyExportSignature', () => {
  const signedWithOld = createExportSigner(OLD_SECRET).sign(sha256Of(BYTES));

  it('accepts a signature of the current key as "current"', () => {
    const signature = createExportSigner(NEW_SECRET).sign(sha256Of(BYTES));
    expect(verifyExportSignature(keyring(NEW_SECRET), sha256Of(BYTES), signature)).toEqual({
      valid: true,
      key: 'current',
      kid: exportKeyId(NEW_SECRET),
    });
  });

  it('accepts a signature of the previous key as "previous" during rotation', () => {
    expect(verifyExportSignature(keyring(NEW_SECRET, OLD_SECRET), sha256Of(BYTES), signedWithOld)).toEqual({
      valid: true,
      key: 'previous',
      kid: exportKeyId(OLD_SECRET),
    });
  });

  it('rejects it once the previous key is removed', () => {
    expect(verifyExportSignature(keyring(NEW_SECRET), sha256Of(BYTES), signedWithOld)).toEqual({
      valid: false,
      key: null,
      kid: exportKeyId(OLD_SECRET),
      reason: 'unknown_key',
    });
  });

  it('rejects the bytes with one byte changed', () => {
    const tampered = Buffer.from(BYTES);
    tampered[5] = (tampered[5] as number) ^ 0x01;
    expect(verifyExportSignature(keyring(OLD_SECRET), sha256Of(tampered), signedWithOld)).toMatchObject({
      valid: false,
      key: null,
      reason: 'mismatch',
    });
  });

  it('rejects a valid HMAC presented under the other key id', () => {
    const v1 = signedWithOld.split(',v1=')[1];
    const relabelled = `kid=${exportKeyId(NEW_SECRET)},v1=${v1}`;
    expect(verifyExportSignature(keyring(NEW_SECRET, OLD_SECRET), sha256Of(BYTES), relabelled)).toMatchObject({ valid: false, reason: 'mismatch' });
  });

  it('calls a signature that does not parse malformed', () => {
    for (const bad of ['', 'v1=00', `kid=${exportKeyId(NEW_SECRET)},v1=abc`, `${signedWithOld} `, signedWithOld.toUpperCase()]) {
      expect(verifyExportSignature(keyring(NEW_SECRET), sha256Of(BYTES), bad)).toEqual({ valid: false, key: null, kid: null, reason: 'malformed' });
    }
  });
});

describe('the keyring', () => {
  it('does not exist without a current secret (a previous one alone is ignored), which disables exports', () => {
    expect(createExportKeyring({ secret: undefined, previousSecret: OLD_SECRET })).toBeUndefined();
    const error = (() => {
      try {
        requireExportKeyring(undefined);
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(ExportsDisabledError);
    expect(error).toMatchObject({ code: 'EXPORTS_DISABLED', kind: 'unavailable' });
  });
});

const row = (overrides: Partial<AuditExportRow> = {}): AuditExportRow => ({
  id: '42',
  ts: '2026-01-02T03:04:05.123456Z',
  tenant: 'default',
  actor_role: 'operator',
  actor_id: null,
  action: 'manual_review_request',
  subject_type: 'invoice',
  subject_id: 'inv-1',
  summary: 'check it',
  details: '{"amount": 12345678901234567890.123456789}',
  request_id: 'req-1',
  ...overrides,
});

describe('the NDJSON serializer', () => {
  it('writes one JSON object per line, details verbatim so big numbers keep every digit', () => {
    const text = AUDIT_EXPORT_SERIALIZERS.ndjson.serialize([row(), row({ id: '43', summary: 'two\nlines' })]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[0] as string)).toEqual({
      id: '42',
      ts: '2026-01-02T03:04:05.123456Z',
      tenant: 'default',
      actor: { role: 'operator', id: null },
      action: 'manual_review_request',
      subject_type: 'invoice',
      subject_id: 'inv-1',
      summary: 'check it',
      request_id: 'req-1',
      // eslint-disable-next-line no-loss-of-precision -- JSON.parse loses the same digits; the raw line is checked below
      details: { amount: 12345678901234567890.123456789 },
    });
    expect(lines[0]).toContain('"details":{"amount": 12345678901234567890.123456789}}');
    expect(JSON.parse(lines[1] as string).summary).toBe('two\nlines');
    expect(AUDIT_EXPORT_SERIALIZERS.ndjson.preamble).toBe('');
  });
});

describe('the CSV serializer', () => {
  it('starts with a header row and ends every record with CRLF', () => {
    expect(AUDIT_EXPORT_SERIALIZERS.csv.preamble).toBe(
      'id,ts,tenant,actor_role,actor_id,action,subject_type,subject_id,summary,request_id,details\r\n',
    );
    expect(AUDIT_EXPORT_SERIALIZERS.csv.serialize([row()])).toBe(
      '42,2026-01-02T03:04:05.123456Z,default,operator,,manual_review_request,invoice,inv-1,check it,req-1,' +
        '"{""amount"": 12345678901234567890.123456789}"\r\n',
    );
  });

  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    ['=1+1', "'=1+1"],
    ['+31 20 555', "'+31 20 555"],
    ['-5', "'-5"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tTAB', "'\tTAB"],
    ['\rCR', `"'\rCR"`],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ['a=b', 'a=b'],
    ["'quoted already", "'quoted already"],
    ['Zürich €', 'Zürich €'],
    ['', ''],
  ])('writes %j as %j (RFC 4180 quoting, formula cells prefixed with a quote)', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('writes null as an empty cell', () => {
    expect(csvCell(null)).toBe('');
  });
});
