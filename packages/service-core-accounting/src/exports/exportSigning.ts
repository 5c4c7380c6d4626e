import { createHash, createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { DomainError } from '../errors.js';

/**
 * Export signatures: `kid=<key id>,v1=<hex>` where `v1` is HMAC-SHA256 over the SHA-256 digest
 * (32 raw bytes) of the exact bytes of the export, keyed with the tenant's export key: HKDF-SHA256
 * of the signing secret, salt `EXPORT_KEY_SALT`, info `tenant=<tenant>`. A signature made for one
 * tenant therefore never verifies for another. `kid` names the secret; the tenant names the
 * derivation. Signing the digest rather than the bytes lets an export be verified from its
 * SHA-256 alone (any size). docs/EXPORTS.md describes the scheme.
 */

/** HKDF salt: the purpose the derived keys serve (changing it changes every key). */
export const EXPORT_KEY_SALT = 'bff-accounting/audit-export-signing/v1';

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

/** One key: its public id and a way to sign with it. Holds the key only as a `KeyObject`. */
export interface ExportSigner {
  readonly kid: string;
  /** The signature string for an export whose SHA-256 digest is `sha256` (32 bytes). */
  sign(sha256: Buffer): string;
  /** The raw HMAC of `sha256` (used for verification). */
  mac(sha256: Buffer): Buffer;
}

/** One configured secret: its public id, and the keys derived from it. */
export interface ExportRootKey {
  readonly kid: string;
  /** The signer with the tenant's key (HKDF of this secret for `tenant`). */
  forTenant(tenant: string): ExportSigner;
  /**
   * The signer keyed with the secret itself, as exports were signed before per-tenant keys:
   * such a signature names no tenant. Only for `verifyLegacyExportSignature`; never sign with it.
   */
  legacySharedKey(): ExportSigner;
}

/** The keys a deployment signs and verifies with. */
export interface ExportKeyring {
  readonly current: ExportRootKey;
  readonly previous: ExportRootKey | undefined;
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
 * It names the secret in signatures and audit rows without revealing it; the key a signature
 * was made with is the one derived from that secret for the export's tenant.
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

function assertTenant(tenant: string): void {
  if (tenant.length === 0) throw new TypeError('an export key is derived for a tenant; got an empty tenant');
}

/**
 * The tenant's export key from `secret`: HKDF-SHA256 (RFC 5869), 32 bytes, salt
 * `EXPORT_KEY_SALT`, info `tenant=<tenant>` (UTF-8).
 */
export function deriveTenantExportKey(secret: string | KeyObject, tenant: string): KeyObject {
  assertTenant(tenant);
  const root = typeof secret === 'string' ? createSecretKey(Buffer.from(secret, 'utf8')) : secret;
  return createSecretKey(Buffer.from(hkdfSync('sha256', root, EXPORT_KEY_SALT, `tenant=${tenant}`, 32)));
}

/** A signer with HMAC key `key`, naming itself `kid`. */
export function createExportSigner(key: KeyObject, kid: string): ExportSigner {
  const mac = (sha256: Buffer) => {
    assertDigest(sha256);
    return createHmac('sha256', key).update(sha256).digest();
  };
  return { kid, mac, sign: (sha256) => `kid=${kid},v1=${mac(sha256).toString('hex')}` };
}

/** The keys of one secret (`EXPORT_SIGN_SECRET` or `EXPORT_SIGN_SECRET_PREV`). */
export function createExportRootKey(secret: string): ExportRootKey {
  const root: KeyObject = createSecretKey(Buffer.from(secret, 'utf8'));
  const kid = exportKeyId(secret);
  return {
    kid,
    forTenant: (tenant) => createExportSigner(deriveTenantExportKey(root, tenant), kid),
    legacySharedKey: () => createExportSigner(root, kid),
  };
}

/**
 * The keyring for the configured secrets; `undefined` when no current secret is set (exports
 * are disabled then, and a previous secret alone is ignored).
 */
export function createExportKeyring(secrets: ExportSigningSecrets): ExportKeyring | undefined {
  if (!secrets.secret) return undefined;
  return {
    current: createExportRootKey(secrets.secret),
    previous: secrets.previousSecret ? createExportRootKey(secrets.previousSecret) : undefined,
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
 * Checks `signature` against the tenant's export whose SHA-256 digest is `sha256`, with the
 * tenant's keys derived from the current and (when configured) previous secret. A key matches
 * when its id is the signature's `kid` and its HMAC equals `v1`; HMACs are compared in constant
 * time, and every configured key is computed whatever the outcome. A signature made for another
 * tenant, or with the shared key of earlier releases, is a `mismatch`.
 */
export function verifyExportSignature(keyring: ExportKeyring, tenant: string, sha256: Buffer, signature: string): ExportVerification {
  assertTenant(tenant);
  return verifyWith(keyring, (key) => key.forTenant(tenant), sha256, signature);
}

/**
 * Checks a signature made before per-tenant keys, HMAC keyed with the secret itself. Such a
 * signature proves the deployment signed the bytes, not for which tenant. Offline use only
 * (`scripts/verify_export_signature.mjs --legacy-shared-key`); the service never accepts it.
 */
export function verifyLegacyExportSignature(keyring: ExportKeyring, sha256: Buffer, signature: string): ExportVerification {
  return verifyWith(keyring, (key) => key.legacySharedKey(), sha256, signature);
}

function verifyWith(
  keyring: ExportKeyring,
  signerOf: (key: ExportRootKey) => ExportSigner,
  sha256: Buffer,
  signature: string,
): ExportVerification {
  assertDigest(sha256);
  const parsed = parseExportSignature(signature);
  if (!parsed) return { valid: false, key: null, kid: null, reason: 'malformed' };

  const candidates: [ExportKeyName, ExportRootKey | undefined][] = [
    ['current', keyring.current],
    ['previous', keyring.previous],
  ];
  let matched: ExportKeyName | null = null;
  let known = false;
  for (const [name, key] of candidates) {
    if (!key) continue;
    const signer = signerOf(key);
    const macMatches = timingSafeEqual(signer.mac(sha256), parsed.mac);
    const kidMatches = signer.kid === parsed.kid;
    known ||= kidMatches;
    if (macMatches && kidMatches && matched === null) matched = name;
  }
  if (matched) return { valid: true, key: matched, kid: parsed.kid };
  return { valid: false, key: null, kid: parsed.kid, reason: known ? 'mismatch' : 'unknown_key' };
}
