import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { configError } from './support/configError.js';
import { makeSigningKey } from './support/identityProvider.js';


const JWT = { AUTH_MODE: 'jwt', AUTH_ISSUER: 'https://idp.example/', AUTH_AUDIENCE: 'bff-accounting', AUTH_JWKS_URL: 'https://idp.example/jwks' };
// Production also needs the audit chain key; these tests are about the identity settings.
const PRODUCTION = { NODE_ENV: 'production', OS_TENANT_ALLOWLIST_JSON: '["default"]', AUDIT_CHAIN_KEY: 'k'.repeat(32) };

let PEM: string;
beforeAll(async () => {
  PEM = (await makeSigningKey('config-key')).publicPem;
});

describe('loadConfig: authentication', () => {
  it('trusts the identity headers by default outside production', () => {
    expect(loadConfig({}).auth).toEqual({ mode: 'headers' });
    expect(loadConfig({ NODE_ENV: 'development' }).auth).toEqual({ mode: 'headers' });
  });

  it('reads AUTH_MODE=jwt with its defaults: asymmetric algorithms, 30 s of skew, claims tenant, role and sub', () => {
    expect(loadConfig(JWT).auth).toEqual({
      mode: 'jwt',
      jwt: {
        keys: { kind: 'jwks', url: 'https://idp.example/jwks', timeoutMs: 5_000, cooldownMs: 30_000, cacheMaxAgeMs: 600_000 },
        issuer: 'https://idp.example/',
        audience: 'bff-accounting',
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        clockSkewSeconds: 30,
        claims: { tenant: 'tenant', role: 'role', user: 'sub' },
      },
    });
  });

  it('takes a PEM SPKI public key instead of a key set URL', () => {
    const { AUTH_JWKS_URL: _url, ...env } = JWT;
    const config = loadConfig({ ...env, AUTH_PUBLIC_KEY: PEM, AUTH_ALGORITHMS: 'ES256', AUTH_CLOCK_SKEW_SECONDS: '60' });
    expect(config.auth).toMatchObject({ mode: 'jwt', jwt: { keys: { kind: 'publicKey', key: PEM }, algorithms: ['ES256'], clockSkewSeconds: 60 } });
  });

  it.each([
    [{ AUTH_MODE: 'oauth' }, /AUTH_MODE: must be one of headers, jwt/],
    [{ ...JWT, AUTH_ISSUER: '' }, /AUTH_ISSUER: is required when AUTH_MODE=jwt/],
    [{ ...JWT, AUTH_AUDIENCE: '' }, /AUTH_AUDIENCE: is required when AUTH_MODE=jwt/],
    [{ ...JWT, AUTH_JWKS_URL: '' }, /AUTH_JWKS_URL: AUTH_JWKS_URL or AUTH_PUBLIC_KEY is required when AUTH_MODE=jwt/],
    [{ ...JWT, AUTH_JWKS_URL: 'file:///etc/jwks.json' }, /AUTH_JWKS_URL: must be an http\(s\) URL/],
    [{ ...JWT, AUTH_ALGORITHMS: 'RS256,HS256' }, /AUTH_ALGORITHMS: only asymmetric algorithms are accepted/],
    [{ ...JWT, AUTH_ALGORITHMS: 'none' }, /AUTH_ALGORITHMS: only asymmetric algorithms are accepted/],
    [{ ...JWT, AUTH_ALGORITHMS: ',' }, /AUTH_ALGORITHMS: name at least one algorithm/],
    [{ ...JWT, AUTH_CLOCK_SKEW_SECONDS: '3600' }, /AUTH_CLOCK_SKEW_SECONDS: /],
    [{ ...JWT, AUTH_TENANT_CLAIM: 'ten ant' }, /AUTH_TENANT_CLAIM: claim names are/],
    [{ ...JWT, BACKOFFICE_IDENTITY_PICKER: 'true' }, /BACKOFFICE_IDENTITY_PICKER: cannot be on with AUTH_MODE=jwt/],
  ])('refuses %o', (env, message) => {
    expect(configError(env)).toMatch(message);
  });

  it('refuses both AUTH_JWKS_URL and AUTH_PUBLIC_KEY', () => {
    expect(configError({ ...JWT, AUTH_PUBLIC_KEY: PEM })).toMatch(/AUTH_PUBLIC_KEY: set AUTH_JWKS_URL or AUTH_PUBLIC_KEY, not both/);
  });

  it.each([
    ['a private key', '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----', /is a private key/],
    ['a private JWK', '{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"secret-part"}', /not a public key/],
    ['a symmetric JWK', '{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}', /not a public key/],
    ['garbage', 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE', /not a public key/],
  ])('refuses %s as AUTH_PUBLIC_KEY on one line without repeating it', (_name, key, message) => {
    const { AUTH_JWKS_URL: _url, ...env } = JWT;
    const text = configError({ ...env, AUTH_PUBLIC_KEY: key });
    expect(text).toMatch(new RegExp(`AUTH_PUBLIC_KEY: ${message.source}`));
    expect(text).not.toContain('secret-part');
    expect(text).not.toContain('MIGHAgEAMBMGByqGSM49');
    expect(text.includes('\n')).toBe(false);
  });

  it('turns the demo identity picker off in jwt mode', () => {
    expect(loadConfig({ BANK_SBX_EMBEDDED: '1' }).backoffice.identityPicker).toBe(true);
    expect(loadConfig({ ...JWT, BANK_SBX_EMBEDDED: '1' }).backoffice.identityPicker).toBe(false);
  });
});

describe('loadConfig with NODE_ENV=production', () => {
  it('refuses to start without an explicit AUTH_MODE', () => {
    expect(configError(PRODUCTION)).toMatch(/AUTH_MODE: is required when NODE_ENV=production/);
  });

  it('refuses to start with enforcement on and no OS_TENANT_ALLOWLIST_JSON', () => {
    expect(configError({ ...PRODUCTION, OS_TENANT_ALLOWLIST_JSON: '', AUTH_MODE: 'headers' })).toMatch(
      /OS_TENANT_ALLOWLIST_JSON: is required when NODE_ENV=production and OS_POLICY_BRIDGE_ENFORCE=true/,
    );
    expect(configError({ ...PRODUCTION, OS_TENANT_ALLOWLIST_JSON: '', AUTH_MODE: 'headers', OS_POLICY_BRIDGE_ENFORCE: 'true' })).toMatch(/OS_TENANT_ALLOWLIST_JSON: /);
  });

  it('starts with an explicit mode and an allowlist, or in shadow mode without one', () => {
    expect(loadConfig({ ...PRODUCTION, AUTH_MODE: 'headers' }).auth.mode).toBe('headers');
    expect(loadConfig({ ...PRODUCTION, ...JWT }).auth.mode).toBe('jwt');
    expect(loadConfig({ ...PRODUCTION, OS_TENANT_ALLOWLIST_JSON: '', ...JWT, OS_POLICY_BRIDGE_ENFORCE: 'false' }).policy.tenantAllowlist).toBeUndefined();
  });

  it('counts an empty AUTH_MODE (as Helm renders an unset value) as missing', () => {
    expect(configError({ ...PRODUCTION, AUTH_MODE: '' })).toMatch(/AUTH_MODE: is required/);
  });
});
