import { createHash, createHmac, hkdfSync } from 'node:crypto';
import type { AuditExportRow } from '@accounting/data-pg';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_EXPORT_SERIALIZERS,
  createExportKeyring,
  createExportRootKey,
  csvCell,
  deriveTenantExportKey,
  EXPORT_KEY_SALT,
  exportKeyId,
  ExportsDisabledError,
  requireExportKeyring,
  sha256Of,
  verifyExportSignature,
  verifyLegacyExportSignature,
  type ExportKeyring,
} from '../src/index.js';

const OLD_SECRET = 'old-export-signing-secret-0123456789abcdef';
const NEW_SECRET = 'new-export-signing-secret-fedcba9876543210';
const BYTES = Buffer.from('{"id":"1","action":"export_created"}\n{"id":"2"}\n', 'utf8');
const TENANT_A = 'default';
const TENANT_B = 'pilot-a';

const keyring = (secret: string, previousSecret?: string): ExportKeyring =>
  createExportKeyring({ secret, previousSecret }) as ExportKeyring;

/** The tenant's key exactly as docs/EXPORTS.md specifies it, computed without the code under test. */
const specKey = (secret: string, tenant: string): Buffer =>
  Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), 'bff-accounting/audit-export-signing/v1', `tenant=${tenant}`, 32));

const signedBy = (secret: string, tenant: string) => createExportRootKey(secret).forTenant(tenant).sign(sha256Of(BYTES));

describe('export key ids', () => {
  it('are the first 16 hex of sha256("kid:" + secret): stable, distinct per secret, never the secret', () => {
    const expected = createHash('sha256').update(`kid:${NEW_SECRET}`).digest('hex').slice(0, 16);
    expect(exportKeyId(NEW_SECRET)).toBe(expected);
    expect(exportKeyId(NEW_SECRET)).toMatch(/^[0-9a-f]{16}$/);
    expect(exportKeyId(OLD_SECRET)).not.toBe(exportKeyId(NEW_SECRET));
    expect(NEW_SECRET).not.toContain(exportKeyId(NEW_SECRET));
  });

  it('name the secret, the same for every tenant (the tenant names the derivation)', () => {
    expect(createExportRootKey(NEW_SECRET).forTenant(TENANT_A).kid).toBe(exportKeyId(NEW_SECRET));
    expect(createExportRootKey(NEW_SECRET).forTenant(TENANT_B).kid).toBe(exportKeyId(NEW_SECRET));
  });
});

describe('per-tenant keys', () => {
  it('are HKDF-SHA256(secret, salt "bff-accounting/audit-export-signing/v1", info "tenant=<tenant>"), 32 bytes', () => {
    expect(EXPORT_KEY_SALT).toBe('bff-accounting/audit-export-signing/v1');
    expect(deriveTenantExportKey(NEW_SECRET, TENANT_A).export()).toEqual(specKey(NEW_SECRET, TENANT_A));
    expect(deriveTenantExportKey(NEW_SECRET, TENANT_A).symmetricKeySize).toBe(32);
  });

  it('differ per tenant and per secret, and never equal the secret', () => {
    const keys = [
      deriveTenantExportKey(NEW_SECRET, TENANT_A).export(),
      deriveTenantExportKey(NEW_SECRET, TENANT_B).export(),
      deriveTenantExportKey(OLD_SECRET, TENANT_A).export(),
      deriveTenantExportKey(OLD_SECRET, TENANT_B).export(),
    ];
    expect(new Set(keys.map((key) => key.toString('hex'))).size).toBe(4);
    for (const key of keys) {
      for (const secret of [NEW_SECRET, OLD_SECRET]) {
        expect(key.equals(Buffer.from(secret, 'utf8'))).toBe(false);
        expect(key.toString('utf8')).not.toContain(secret);
      }
    }
  });

  it('are not derived for an empty tenant', () => {
    expect(() => deriveTenantExportKey(NEW_SECRET, '')).toThrow(/tenant/);
    expect(() => verifyExportSignature(keyring(NEW_SECRET), '', sha256Of(BYTES), signedBy(NEW_SECRET, TENANT_A))).toThrow(/tenant/);
  });
});

describe('signing', () => {
  it('is kid=<kid>,v1=HMAC-SHA256(tenant key, SHA-256(bytes)) as docs/EXPORTS.md specifies', () => {
    const digest = createHash('sha256').update(BYTES).digest();
    const mac = createHmac('sha256', specKey(NEW_SECRET, TENANT_A)).update(digest).digest('hex');
    expect(signedBy(NEW_SECRET, TENANT_A)).toBe(`kid=${exportKeyId(NEW_SECRET)},v1=${mac}`);
  });

  it('signs the same bytes differently for each tenant, and never with the secret itself', () => {
    const sharedKeyMac = createHmac('sha256', NEW_SECRET).update(sha256Of(BYTES)).digest('hex');
    expect(signedBy(NEW_SECRET, TENANT_A)).not.toBe(signedBy(NEW_SECRET, TENANT_B));
    expect(signedBy(NEW_SECRET, TENANT_A)).not.toContain(sharedKeyMac);
    expect(signedBy(NEW_SECRET, TENANT_B)).not.toContain(sharedKeyMac);
  });

  it('keeps the secret out of anything a log line could print', () => {
    const signer = createExportRootKey(NEW_SECRET).forTenant(TENANT_A);
    expect(JSON.stringify(signer)).not.toContain(NEW_SECRET);
    expect(JSON.stringify(keyring(NEW_SECRET, OLD_SECRET))).not.toContain(OLD_SECRET);
  });

  it('refuses anything but a 32-byte digest', () => {
    expect(() => createExportRootKey(NEW_SECRET).forTenant(TENANT_A).sign(BYTES)).toThrow(/32 bytes/);
  });
});

describe('verifyExportSignature', () => {
  const signedWithOld = signedBy(OLD_SECRET, TENANT_A);

  it('accepts a signature of the tenant\'s current key as "current"', () => {
    expect(verifyExportSignature(keyring(NEW_SECRET), TENANT_A, sha256Of(BYTES), signedBy(NEW_SECRET, TENANT_A))).toEqual({
      valid: true,
      key: 'current',
      kid: exportKeyId(NEW_SECRET),
    });
  });

  it('rejects, for another tenant, a signature made for tenant A (mismatch)', () => {
    expect(verifyExportSignature(keyring(NEW_SECRET), TENANT_B, sha256Of(BYTES), signedBy(NEW_SECRET, TENANT_A))).toEqual({
      valid: false,
      key: null,
      kid: exportKeyId(NEW_SECRET),
      reason: 'mismatch',
    });
  });

  it('accepts a signature of the previous key as "previous" during rotation, for its tenant only', () => {
    expect(verifyExportSignature(keyring(NEW_SECRET, OLD_SECRET), TENANT_A, sha256Of(BYTES), signedWithOld)).toEqual({
      valid: true,
      key: 'previous',
      kid: exportKeyId(OLD_SECRET),
    });
    expect(verifyExportSignature(keyring(NEW_SECRET, OLD_SECRET), TENANT_B, sha256Of(BYTES), signedWithOld)).toMatchObject({
      valid: false,
      key: null,
      reason: 'mismatch',
    });
  });

  it('rejects it once the previous key is removed', () => {
    expect(verifyExportSignature(keyring(NEW_SECRET), TENANT_A, sha256Of(BYTES), signedWithOld)).toEqual({
      valid: false,
      key: null,
      kid: exportKeyId(OLD_SECRET),
      reason: 'unknown_key',
    });
  });

  it('rejects the bytes with one byte changed', () => {
    const tampered = Buffer.from(BYTES);
    tampered[5] = (tampered[5] as number) ^ 0x01;
    expect(verifyExportSignature(keyring(OLD_SECRET), TENANT_A, sha256Of(tampered), signedWithOld)).toMatchObject({
      valid: false,
      key: null,
      reason: 'mismatch',
    });
  });

  it('rejects a valid HMAC presented under the other key id', () => {
    const v1 = signedWithOld.split(',v1=')[1];
    const relabelled = `kid=${exportKeyId(NEW_SECRET)},v1=${v1}`;
    expect(verifyExportSignature(keyring(NEW_SECRET, OLD_SECRET), TENANT_A, sha256Of(BYTES), relabelled)).toMatchObject({ valid: false, reason: 'mismatch' });
  });

  it('rejects a signature made with the shared key of earlier releases (HMAC keyed with the secret itself)', () => {
    const legacy = `kid=${exportKeyId(NEW_SECRET)},v1=${createHmac('sha256', NEW_SECRET).update(sha256Of(BYTES)).digest('hex')}`;
    for (const tenant of [TENANT_A, TENANT_B]) {
      expect(verifyExportSignature(keyring(NEW_SECRET), tenant, sha256Of(BYTES), legacy)).toMatchObject({ valid: false, reason: 'mismatch' });
    }
  });

  it('calls a signature that does not parse malformed', () => {
    for (const bad of ['', 'v1=00', `kid=${exportKeyId(NEW_SECRET)},v1=abc`, `${signedWithOld} `, signedWithOld.toUpperCase()]) {
      expect(verifyExportSignature(keyring(NEW_SECRET), TENANT_A, sha256Of(BYTES), bad)).toEqual({ valid: false, key: null, kid: null, reason: 'malformed' });
    }
  });
});

describe('verifyLegacyExportSignature', () => {
  const legacyOf = (secret: string) => `kid=${exportKeyId(secret)},v1=${createHmac('sha256', secret).update(sha256Of(BYTES)).digest('hex')}`;

  it('accepts a shared-key signature of the current or previous secret', () => {
    expect(verifyLegacyExportSignature(keyring(NEW_SECRET, OLD_SECRET), sha256Of(BYTES), legacyOf(NEW_SECRET))).toMatchObject({ valid: true, key: 'current' });
    expect(verifyLegacyExportSignature(keyring(NEW_SECRET, OLD_SECRET), sha256Of(BYTES), legacyOf(OLD_SECRET))).toMatchObject({ valid: true, key: 'previous' });
  });

  it('rejects a per-tenant signature: the two schemes never stand in for each other', () => {
    expect(verifyLegacyExportSignature(keyring(NEW_SECRET), sha256Of(BYTES), signedBy(NEW_SECRET, TENANT_A))).toMatchObject({ valid: false, reason: 'mismatch' });
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
  chain_seq: '7',
  chain_key_id: '0123456789abcdef',
  chain_prev_mac: 'a'.repeat(64),
  chain_mac: 'b'.repeat(64),
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
      chain: { seq: '7', key_id: '0123456789abcdef', prev_mac: 'a'.repeat(64), mac: 'b'.repeat(64) },
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
      'id,ts,tenant,actor_role,actor_id,action,subject_type,subject_id,summary,request_id,chain_seq,chain_key_id,chain_prev_mac,chain_mac,details\r\n',
    );
    expect(AUDIT_EXPORT_SERIALIZERS.csv.serialize([row()])).toBe(
      `42,2026-01-02T03:04:05.123456Z,default,operator,,manual_review_request,invoice,inv-1,check it,req-1,7,0123456789abcdef,${'a'.repeat(64)},${'b'.repeat(64)},` +
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
