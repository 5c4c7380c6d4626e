import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import {
  jwtEnv,
  makeSigningKey,
  signToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
  TestIdentityProvider,
  type SigningKey,
} from './support/identityProvider.js';

const AUDIT = '/v1/accounting/audit';
const SOURCES = '/v1/accounting/os/sources';
const REVIEW = '/v1/accounting/audit/manual-review';
const operator: JWTPayload = { sub: 'kim@example.com', tenant: 'default', role: 'operator' };

let schema: TestSchema;
let idp: TestIdentityProvider;
let current: SigningKey;
let rsa: SigningKey;
let t: TestApp;

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function policyCount(app: TestApp, decision: string, reason: string): Promise<number> {
  const text = await app.metrics.registry.getSingleMetricAsString('os_policy_decisions_total');
  return Number(new RegExp(`os_policy_decisions_total\\{decision="${decision}",reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 'NaN');
}

/** A port nothing listens on (a server started, then closed). */
async function closedPort(): Promise<number> {
  const server = http.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  schema = await createTestSchema('vt_jwt');
  idp = await new TestIdentityProvider().start();
  current = await makeSigningKey('k1');
  rsa = await makeSigningKey('k-rsa', 'RS256');
  idp.published = [current, rsa];
  t = await buildTestApp(schema.db, jwtEnv(idp));
});
afterAll(async () => {
  await t?.reconRuns.stop();
  await idp?.stop();
  await schema?.drop();
});

describe('with AUTH_MODE=jwt and a key set at AUTH_JWKS_URL', () => {
  it('serves a request whose bearer token is good, as the tenant and role of its claims', async () => {
    const res = await request(t.app).get(AUDIT).set(bearer(await signToken(current, operator)));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tenant: 'default', items: expect.any(Array), next_cursor: null });
  });

  it('answers a request without a token 401 AUTH_REQUIRED with a Bearer challenge', async () => {
    const res = await request(t.app).get(AUDIT).set({ 'X-Tenant': 'default', 'X-User-Role': 'operator' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="bff-accounting"');
    expect(res.body).toEqual({ error_code: 'AUTH_REQUIRED', message: expect.any(String), request_id: res.headers['x-request-id'] });
  });

  it('answers another scheme than Bearer 401 AUTH_REQUIRED', async () => {
    const res = await request(t.app).get(AUDIT).set({ Authorization: 'Basic a2ltOnNlY3JldA==' });
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('AUTH_REQUIRED');
  });

  const refused: [string, () => Promise<string>][] = [
    ['signed for another issuer', () => signToken(current, operator, { issuer: 'https://evil.test/' })],
    ['signed for another audience', () => signToken(current, operator, { audience: 'another-service' })],
    ['expired beyond the clock skew', () => signToken(current, operator, { expiresIn: -120 })],
    ['not valid before a future nbf', () => signToken(current, operator, { notBefore: 600 })],
    ['signed with a key whose kid the key set does not list', async () => signToken(await makeSigningKey('k-unknown'), operator)],
    ['signed with an unlisted key under a listed kid', async () => signToken(await makeSigningKey('k1'), operator)],
    ['unsigned (alg: none)', async () => new UnsecuredJWT({ ...operator, iss: TEST_ISSUER, aud: TEST_AUDIENCE }).setExpirationTime('5m').encode()],
    [
      'HS256 keyed with the RSA public key (algorithm confusion)',
      () =>
        new SignJWT(operator)
          .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
          .setIssuer(TEST_ISSUER)
          .setAudience(TEST_AUDIENCE)
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode(rsa.publicPem)),
    ],
    ['without an exp claim', () => new SignJWT(operator).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(TEST_ISSUER).setAudience(TEST_AUDIENCE).sign(current.privateKey)],
    ['without a tenant claim', () => signToken(current, { sub: 'kim', role: 'operator' })],
    ['with a malformed tenant claim', () => signToken(current, { ...operator, tenant: 'Pilot A' })],
    ['with a tenant claim that is not a string', () => signToken(current, { ...operator, tenant: ['default'] })],
    ['with a user claim that is not a sane id', () => signToken(current, { ...operator, sub: 'kim <script>' })],
    ['cut short', async () => (await signToken(current, operator)).split('.').slice(0, 2).join('.')],
  ];
  it.each(refused)('answers a token %s 401 AUTH_INVALID_TOKEN, invalid_token in the challenge', async (_name, make) => {
    const token = await make();
    const res = await request(t.app).get(AUDIT).set(bearer(token));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="bff-accounting", error="invalid_token"');
    expect(res.body).toEqual({ error_code: 'AUTH_INVALID_TOKEN', message: expect.any(String), request_id: res.headers['x-request-id'] });
    expect(res.text).not.toContain(token);
    expect(t.logs.raw.join('\n')).not.toContain(token);
  });

  it('accepts a token expired within AUTH_CLOCK_SKEW_SECONDS (30 by default)', async () => {
    const res = await request(t.app).get(AUDIT).set(bearer(await signToken(current, operator, { expiresIn: -10 })));
    expect(res.status).toBe(200);
  });

  it('accepts an RS256 token from the same key set', async () => {
    expect((await request(t.app).get(AUDIT).set(bearer(await signToken(rsa, operator)))).status).toBe(200);
  });

  it('accepts a token of a key that appears in the key set after the first fetch (rotation by kid)', async () => {
    expect((await request(t.app).get(AUDIT).set(bearer(await signToken(current, operator)))).status).toBe(200);
    const next = await makeSigningKey('k2');
    const early = await request(t.app).get(AUDIT).set(bearer(await signToken(next, operator)));
    expect(early.body.error_code).toBe('AUTH_INVALID_TOKEN');

    idp.published = [current, rsa, next];
    const fetchesBefore = idp.fetches;
    const res = await request(t.app).get(AUDIT).set(bearer(await signToken(next, operator)));
    expect(res.status).toBe(200);
    expect(idp.fetches).toBeGreaterThan(fetchesBefore);
    idp.published = [current, rsa];
  });

  it('lets X-Tenant and X-User-Role repeat what the token says', async () => {
    const res = await request(t.app)
      .get(AUDIT)
      .set({ ...bearer(await signToken(current, operator)), 'X-Tenant': 'default', 'X-User-Role': 'operator' });
    expect(res.status).toBe(200);
  });

  it('answers 403 IDENTITY_MISMATCH when X-Tenant names another tenant than the token', async () => {
    const res = await request(t.app)
      .get(AUDIT)
      .set({ ...bearer(await signToken(current, operator)), 'X-Tenant': 'pilot-a' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error_code: 'IDENTITY_MISMATCH', header: 'X-Tenant' });
  });

  it.each([
    ['admin', 'a wider role'],
    ['auditor', 'a role with a permission the token role lacks (exports:read)'],
    ['superuser', 'an unmapped role'],
  ])('answers 403 IDENTITY_MISMATCH when X-User-Role is %s, %s', async (role) => {
    const res = await request(t.app)
      .get(SOURCES)
      .set({ ...bearer(await signToken(current, operator)), 'X-User-Role': role });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error_code: 'IDENTITY_MISMATCH', header: 'X-User-Role' });
  });

  it('lets X-User-Role narrow the token role, and then decides by the narrower role', async () => {
    const token = await signToken(current, operator);
    expect((await request(t.app).get(SOURCES).set({ ...bearer(token), 'X-User-Role': 'viewer' })).status).toBe(200);
    const audit = await request(t.app).get(AUDIT).set({ ...bearer(token), 'X-User-Role': 'viewer' });
    expect(audit.status).toBe(403);
    expect(audit.body).toMatchObject({ error_code: 'FORBIDDEN', role: 'viewer', permission: 'audit:read' });
  });

  it("answers 403 TENANT_NOT_ENABLED when the token's tenant is not in the allowlist", async () => {
    const res = await request(t.app).get(AUDIT).set(bearer(await signToken(current, { ...operator, tenant: 'pilot-b' })));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error_code: 'TENANT_NOT_ENABLED', tenant: 'pilot-b' });
  });

  it.each([
    ['an unmapped role claim', { ...operator, role: 'superuser' }],
    ['no role claim', { sub: 'kim', tenant: 'default' }],
  ])('answers 403 ROLE_NOT_MAPPED for %s', async (_name, claims) => {
    const res = await request(t.app).get(AUDIT).set(bearer(await signToken(current, claims)));
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('ROLE_NOT_MAPPED');
  });

  it("records the token's user claim as the audit actor, ignoring X-User-Id", async () => {
    const res = await request(t.app)
      .post(REVIEW)
      .set({ ...bearer(await signToken(current, operator)), 'X-User-Id': 'mallory', 'Idempotency-Key': 'jwt-actor-1' })
      .send({ subject_type: 'bank_tx', subject_id: 'tx_jwt_actor', reason: 'amount looks wrong' });
    expect(res.status).toBe(201);
    expect(res.body.actor).toEqual({ role: 'operator', id: 'kim@example.com' });
    const { rows } = await schema.db.query<{ tenant: string; actor_role: string; actor_id: string }>(
      `SELECT tenant, actor_role, actor_id FROM audit_events WHERE id = $1`,
      [res.body.id],
    );
    expect(rows).toEqual([{ tenant: 'default', actor_role: 'operator', actor_id: 'kim@example.com' }]);
  });

  it('counts authentication refusals in os_policy_decisions_total by reason', async () => {
    const [required, invalid, mismatch] = await Promise.all([
      policyCount(t, 'deny', 'AUTH_REQUIRED'),
      policyCount(t, 'deny', 'AUTH_INVALID_TOKEN'),
      policyCount(t, 'deny', 'IDENTITY_MISMATCH'),
    ]);
    await request(t.app).get(AUDIT);
    await request(t.app).get(AUDIT).set(bearer('not-a-jwt'));
    await request(t.app)
      .get(AUDIT)
      .set({ ...bearer(await signToken(current, operator)), 'X-Tenant': 'pilot-a' });
    expect(await policyCount(t, 'deny', 'AUTH_REQUIRED')).toBe(required + 1);
    expect(await policyCount(t, 'deny', 'AUTH_INVALID_TOKEN')).toBe(invalid + 1);
    expect(await policyCount(t, 'deny', 'IDENTITY_MISMATCH')).toBe(mismatch + 1);
  });

  it('logs a refusal with its code and the reason, never the token', async () => {
    const token = await signToken(current, operator, { expiresIn: -600 });
    await request(t.app).get(AUDIT).set({ ...bearer(token), 'X-Request-Id': 'jwt-log-1' });
    const line = t.logs.lines.find((l) => l.request_id === 'jwt-log-1' && l.level === 'warn');
    expect(line).toMatchObject({ error_code: 'AUTH_INVALID_TOKEN', problem: 'expired', enforce: true });
    expect(t.logs.raw.join('\n')).not.toContain(token);
  });

  it('never asks /health, /ready or /metrics for a token', async () => {
    for (const path of ['/health', '/ready', '/metrics']) {
      expect((await request(t.app).get(path)).status).toBe(200);
    }
  });
});

describe('with AUTH_MODE=jwt in shadow mode (OS_POLICY_BRIDGE_ENFORCE=false)', () => {
  it('still refuses a missing or invalid token; only the policy denials are shadowed', async () => {
    const shadow = await buildTestApp(schema.db, jwtEnv(idp, { OS_POLICY_BRIDGE_ENFORCE: 'false' }), { migrate: false });
    expect((await request(shadow.app).get(AUDIT)).status).toBe(401);
    expect((await request(shadow.app).get(AUDIT).set(bearer(await signToken(current, operator, { issuer: 'x' })))).status).toBe(401);
    const outside = await request(shadow.app).get(AUDIT).set(bearer(await signToken(current, { ...operator, tenant: 'pilot-b' })));
    expect(outside.status).toBe(200);
    expect(await policyCount(shadow, 'shadow_deny', 'TENANT_NOT_ENABLED')).toBe(1);
    await shadow.reconRuns.stop();
  });
});

describe('when the key set cannot be fetched', () => {
  it('answers 503 AUTH_UNAVAILABLE with Retry-After, not 401', async () => {
    const down = await buildTestApp(
      schema.db,
      { ...jwtEnv(idp), AUTH_JWKS_URL: `http://127.0.0.1:${await closedPort()}/jwks`, AUTH_JWKS_TIMEOUT_MS: '1000' },
      { migrate: false },
    );
    const res = await request(down.app).get(AUDIT).set(bearer(await signToken(current, operator)));
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body).toEqual({ error_code: 'AUTH_UNAVAILABLE', message: expect.any(String), request_id: res.headers['x-request-id'] });
    expect(await policyCount(down, 'deny', 'AUTH_UNAVAILABLE')).toBe(1);
    await down.reconRuns.stop();
  });

  it('answers 503 AUTH_UNAVAILABLE while the key set URL answers 500', async () => {
    const failing = await new TestIdentityProvider().start();
    failing.status = 500;
    const app = await buildTestApp(schema.db, jwtEnv(failing), { migrate: false });
    const res = await request(app.app).get(AUDIT).set(bearer(await signToken(current, operator)));
    expect(res.status).toBe(503);
    expect(res.body.error_code).toBe('AUTH_UNAVAILABLE');
    await app.reconRuns.stop();
    await failing.stop();
  });
});

describe('with AUTH_MODE=jwt and a configured AUTH_PUBLIC_KEY', () => {
  const publicKeyEnv = (key: string) => {
    const { AUTH_JWKS_URL: _url, ...env } = jwtEnv(idp);
    return { ...env, AUTH_PUBLIC_KEY: key };
  };

  it.each([
    ['PEM SPKI', (key: SigningKey) => key.publicPem],
    ['a public JWK', (key: SigningKey) => JSON.stringify(key.publicJwk)],
  ])('verifies tokens against the key given as %s, whatever their kid, and refuses other keys', async (_name, form) => {
    const own = await makeSigningKey('idp-key');
    const app = await buildTestApp(schema.db, publicKeyEnv(form(own)), { migrate: false });
    const good = await request(app.app).get(AUDIT).set(bearer(await signToken(own, operator, { kid: 'any-kid' })));
    expect(good.status).toBe(200);
    expect(good.body.tenant).toBe('default');
    const other = await request(app.app).get(AUDIT).set(bearer(await signToken(current, operator)));
    expect(other.status).toBe(401);
    expect(other.body.error_code).toBe('AUTH_INVALID_TOKEN');
    const rsaToken = await request(app.app).get(AUDIT).set(bearer(await signToken(rsa, operator)));
    expect(rsaToken.body.error_code).toBe('AUTH_INVALID_TOKEN');
    await app.reconRuns.stop();
  });

  it('refuses an HS256 token keyed with the configured RSA public key (algorithm confusion)', async () => {
    const app = await buildTestApp(schema.db, publicKeyEnv(rsa.publicPem), { migrate: false });
    expect((await request(app.app).get(AUDIT).set(bearer(await signToken(rsa, operator)))).status).toBe(200);
    const forged = await new SignJWT(operator)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(rsa.publicPem));
    const res = await request(app.app).get(AUDIT).set(bearer(forged));
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('AUTH_INVALID_TOKEN');
    await app.reconRuns.stop();
  });

  it('reads the identity from the claims AUTH_TENANT_CLAIM, AUTH_ROLE_CLAIM and AUTH_USER_CLAIM name', async () => {
    const own = await makeSigningKey('idp-key');
    const app = await buildTestApp(
      schema.db,
      {
        ...publicKeyEnv(own.publicPem),
        AUTH_TENANT_CLAIM: 'https://accounting.example/tenant',
        AUTH_ROLE_CLAIM: 'acct_role',
        AUTH_USER_CLAIM: 'email',
        OS_ROLE_MAP_JSON: '{"accounting-ops":"operator"}',
      },
      { migrate: false },
    );
    const token = await signToken(own, { sub: 'opaque|1', email: 'lee@example.com', 'https://accounting.example/tenant': 'pilot-a', acct_role: 'accounting-ops' });
    const res = await request(app.app)
      .post(REVIEW)
      .set({ ...bearer(token), 'Idempotency-Key': 'jwt-claims-1' })
      .send({ subject_type: 'bank_tx', subject_id: 'tx_jwt_claims', reason: 'check' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ actor: { role: 'operator', id: 'lee@example.com' } });
    const { rows } = await schema.db.query<{ tenant: string }>(`SELECT tenant FROM audit_events WHERE id = $1`, [res.body.id]);
    expect(rows).toEqual([{ tenant: 'pilot-a' }]);
    await app.reconRuns.stop();
  });
});
