import { createHash, createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { DomainError } from '../errors.js';

/**
 * Export signatures: `kid=<key id>,v1=<hex>` where `v1` is HMAC-SHA256, keyed with the signing
 * secret, over the SHA-256 digest (32 raw bytes) of the exact bytes of the export. Signing the
 * digest rather than the bytes lets an export be verified from its SHA-256 alone (any size);
 * it binds the bytes just as tightly. docs/EXPORTS.md describes the scheme.
 */

/** The header (and HTTP trailer) name that carries a signature. */
export const EXPORT_SIGNATURE_HEADER = 'X-Export-Signature';

/** `kid=` 16 lowercase hex, `v1=` 64 lowercase hex, nothing else. */
export const EXPORT_SIGNATURE_PATTERN = /^kid=([0-9a-f]{16}),v1=([0-9a-f]{64})$/;

/** A SHA-256 digest as lowercase or uppercase hex. */
export const SHA256_HEX_PATTERN = /^[0-9a-fA-F]{64}$/;

/** Which configured key a signature matched. */
export type ExportKeyName = 'current' | 'previous';

/** The signing secrets as configured (`EXPORT_SIGN_SECRET`, `EXPORT_SIGN_SECRET_PREV`). */
export interface ExportSigningSecrets {
  readonly secret: string | undefined;
  readonly previousSecret: string | undefined;
}

/** One key: its public id and a way to sign with it. Holds the secret only as a `KeyObject`. */
export interface ExportSigner {
  readonly kid: string;
  /** The signature string for an export whose SHA-256 digest is `sha256` (32 bytes). */
  sign(sha256: Buffer): string;
  /** The raw HMAC of `sha256` (used for verification). */
  mac(sha256: Buffer): Buffer;
}

/** The keys a deployment signs and verifies with. */
export interface ExportKeyring {
  readonly current: ExportSigner;
  readonly previous: ExportSigner | undefined;
}

/** The outcome of checking one signature. */
export interface ExportVerification {
  valid: boolean;
  /** The key that matched; `null` when none did. */
  key: ExportKeyName | null;
  /** The key id the signature names (`null` when the signature is malformed). */
  kid: string | null;
  /** Why it is invalid: the key id is not configured, the HMAC differs, or it does not parse. */
  reason?: 'unknown_key' | 'mismatch' | 'malformed';
}

/** Export routes are switched off because no signing secret is configured. */
export class ExportsDisabledError extends DomainError {
  readonly code = 'EXPORTS_DISABLED';
  readonly kind = 'unavailable';
  constructor() {
    super('exports are disabled: no export signing secret is configured (EXPORT_SIGN_SECRET)');
  }
}

/**
 * The public id of a secret: the first 16 hex characters of SHA-256 over `kid:` + secret.
 * It names the key in signatures and audit rows without revealing it.
 */
export function exportKeyId(secret: string): string {
  return createHash('sha256').update(`kid:${secret}`, 'utf8').digest('hex').slice(0, 16);
}

/** SHA-256 of `bytes`, as 32 raw bytes. */
export function sha256Of(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

function assertDigest(sha256: Buffer): void {
  if (sha256.length !== 32) throw new TypeError(`a SHA-256 digest is 32 bytes, got ${sha256.length}`);
}

/** A signer for `secret` (UTF-8 bytes are the HMAC key). */
export function createExportSigner(secret: string): ExportSigner {
  const key: KeyObject = createSecretKey(Buffer.from(secret, 'utf8'));
  const kid = exportKeyId(secret);
  const mac = (sha256: Buffer) => {
    assertDigest(sha256);
    return createHmac('sha256', key).update(sha256).digest();
  };
  return { kid, mac, sign: (sha256) => `kid=${kid},v1=${mac(sha256).toString('hex')}` };
}

/**
 * The keyring for the configured secrets; `undefined` when no current secret is set (exports
 * are disabled then, and a previous secret alone is ignored).
 */
export function createExportKeyring(secrets: ExportSigningSecrets): ExportKeyring | undefined {
  if (!secrets.secret) return undefined;
  return {
    current: createExportSigner(secrets.secret),
    previous: secrets.previousSecret ? createExportSigner(secrets.previousSecret) : undefined,
  };
}

/** The keyring, or `ExportsDisabledError` (503 EXPORTS_DISABLED) when there is none. */
export function requireExportKeyring(keyring: ExportKeyring | undefined): ExportKeyring {
  if (!keyring) throw new ExportsDisabledError();
  return keyring;
}

/** `{kid, mac}` of a well-formed signature string; `undefined` otherwise. */
export function parseExportSignature(signature: string): { kid: string; mac: Buffer } | undefined {
  const parts = EXPORT_SIGNATURE_PATTERN.exec(signature);
  if (!parts) return undefined;
  return { kid: parts[1] as string, mac: Buffer.from(parts[2] as string, 'hex') };
}

/**
 * Checks `signature` against the export whose SHA-256 digest is `sha256`, with the current and
 * (when configured) previous key. A key matches when its id is the signature's `kid` and its
 * HMAC equals `v1`; HMACs are compared in constant time, and every configured key is computed
 * whatever the outcome.
 */
export function verifyExportSignature(keyring: ExportKeyring, sha256: Buffer, signature: string): ExportVerification {
  assertDigest(sha256);
  const parsed = parseExportSignature(signature);
  if (!parsed) return { valid: false, key: null, kid: null, reason: 'malformed' };

  const candidates: [ExportKeyName, ExportSigner | undefined][] = [
    ['current', keyring.current],
    ['previous', keyring.previous],
  ];
  let matched: ExportKeyName | null = null;
  let known = false;
  for (const [name, signer] of candidates) {
    if (!signer) continue;
    const macMatches = timingSafeEqual(signer.mac(sha256), parsed.mac);
    const kidMatches = signer.kid === parsed.kid;
    known ||= kidMatches;
    if (macMatches && kidMatches && matched === null) matched = name;
  }
  if (matched) return { valid: true, key: matched, kid: parsed.kid };
  return { valid: false, key: null, kid: parsed.kid, reason: known ? 'mismatch' : 'unknown_key' };
}
