import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export const TEST_ISSUER = 'https://idp.test/';
export const TEST_AUDIENCE = 'bff-accounting';

/** A signing key of the test identity provider. */
export interface SigningKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** The public key as PEM SPKI (what `AUTH_PUBLIC_KEY` takes). */
  publicPem: string;
}

/** Makes a key pair with jose; its public JWK carries `kid`, `alg` and `use`. */
export async function makeSigningKey(kid: string, alg: SigningKey['alg'] = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

export interface TokenOptions {
  /** Seconds from now; negative for an expired token. Default 300. */
  expiresIn?: number;
  /** Seconds from now for `nbf`. */
  notBefore?: number;
  issuer?: string;
  audience?: string;
  /** The `kid` header; the key's own by default. */
  kid?: string;
}

/**
 * The identity provider of the tests: its key set at `<base>/jwks` on 127.0.0.1 (the key set
 * the BFF fetches), and tokens signed with its keys. `published` is what the key set lists now;
 * `fetches` counts the requests; `status` other than 200 makes the key set answer that.
 */
export class TestIdentityProvider {
  published: SigningKey[] = [];
  fetches = 0;
  status = 200;
  base = '';
  private readonly server = http.createServer((req, res) => {
    this.fetches++;
    if (req.url !== '/jwks' || this.status !== 200) {
      res.statusCode = req.url === '/jwks' ? this.status : 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: this.published.map((key) => key.publicJwk) }));
  });

  get jwksUrl(): string {
    return `${this.base}/jwks`;
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A token signed with `key`: `claims` over the issuer, audience, `iat` and `exp` of `options`. */
export async function signToken(key: SigningKey, claims: JWTPayload, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: options.kid ?? key.kid, typ: 'JWT' })
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 300));
  if (options.notBefore !== undefined) jwt.setNotBefore(now + options.notBefore);
  return jwt.sign(key.privateKey);
}

/** The environment of a BFF that verifies tokens of `idp` (enforcement on, the seeds' allowlist). */
export function jwtEnv(idp: TestIdentityProvider, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AUTH_MODE: 'jwt',
    AUTH_JWKS_URL: idp.jwksUrl,
    AUTH_ISSUER: TEST_ISSUER,
    AUTH_AUDIENCE: TEST_AUDIENCE,
    // Every unknown kid refetches the key set at once, so a rotation shows on the next request.
    AUTH_JWKS_COOLDOWN_MS: '0',
    OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a"]',
    OS_POLICY_BRIDGE_ENFORCE: 'true',
    ...extra,
  };
}
