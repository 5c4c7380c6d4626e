import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AuthUnavailableError, InvalidTokenError } from '@accounting/service-core-accounting';
import type { JwtAuthConfig, TokenKeySource } from '../config.js';

/** Verifies a bearer token and resolves with its claims; rejects with `InvalidTokenError` or `AuthUnavailableError`. */
export type TokenVerifier = (token: string) => Promise<JWTPayload>;

/** How long a client should wait before retrying when the key set could not be fetched. */
export const AUTH_RETRY_AFTER_SECONDS = 5;

/** The key set URL did not answer with a key set: the service's problem, not the token's. */
class KeySetUnreachable extends Error {}

/**
 * A JWKS resolver whose fetch failures (down, timeout, not 200, not a key set) are told apart
 * from the token's own problems (no key with its `kid`, a key that does not fit its `alg`).
 */
function remoteKeys(keys: Extract<TokenKeySource, { kind: 'jwks' }>): JWTVerifyGetKey {
  const keySet = createRemoteJWKSet(new URL(keys.url), {
    timeoutDuration: keys.timeoutMs,
    cooldownDuration: keys.cooldownMs,
    cacheMaxAge: keys.cacheMaxAgeMs,
  });
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys || err instanceof errors.JOSENotSupported) throw err;
      throw new KeySetUnreachable(err instanceof Error ? err.message : String(err));
    }
  };
}

/** `AUTH_PUBLIC_KEY` (PEM SPKI or one public JWK as JSON, validated by `loadConfig`). */
function configuredPublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  return trimmed.startsWith('{') ? createPublicKey({ key: JSON.parse(trimmed) as JsonWebKey, format: 'jwk' }) : createPublicKey(trimmed);
}

/** A fixed phrase for each way jose refuses a token; never the token or a claim's value. */
function problemOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'not yet valid (nbf)';
    if (err.claim === 'iss') return 'wrong issuer';
    if (err.claim === 'aud') return 'wrong audience';
    if (err.claim === 'exp') return 'no expiry (exp)';
    return 'a registered claim failed its check';
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no known key matches its kid and algorithm';
  if (err instanceof errors.JWKSMultipleMatchingKeys) return 'several keys match; the token needs a kid';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  if (err instanceof errors.JOSENotSupported) return 'algorithm or key type not supported';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'malformed';
  return 'refused';
}

/**
 * Builds the verifier of `AUTH_MODE=jwt`: the signature against the key set at `AUTH_JWKS_URL`
 * (cached, fetched again for an unknown `kid` after the cooldown) or against `AUTH_PUBLIC_KEY`;
 * only the configured asymmetric algorithms, so `alg: none` and an HMAC token keyed with the
 * public key are refused before any key is used; issuer, audience, `exp` (required) and `nbf`
 * with `AUTH_CLOCK_SKEW_SECONDS` of tolerance.
 */
export function createTokenVerifier(jwt: JwtAuthConfig): TokenVerifier {
  const options = {
    issuer: jwt.issuer,
    audience: jwt.audience,
    algorithms: [...jwt.algorithms],
    clockTolerance: jwt.clockSkewSeconds,
    requiredClaims: ['exp'],
  };
  const key: KeyObject | JWTVerifyGetKey = jwt.keys.kind === 'jwks' ? remoteKeys(jwt.keys) : configuredPublicKey(jwt.keys.key);
  return async (token) => {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (err) {
      if (err instanceof KeySetUnreachable) throw new AuthUnavailableError(AUTH_RETRY_AFTER_SECONDS, err.message);
      if (err instanceof errors.JOSEError) throw new InvalidTokenError(problemOf(err));
      throw err;
    }
  };
}
