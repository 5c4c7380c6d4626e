import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { errorHandler, notFound } from '../src/middleware/errors.js';
import { osPolicyBridge } from '../src/middleware/osPolicyBridge.js';
import { underPrefix } from '../src/middleware/compose.js';
import { API_ROUTES } from '../src/policy/permissions.js';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { contextApp } from './support/contextApp.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { spawnBffOnPostgres } from '../../../test/support/process.js';

const PILOT = { OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a"]', OS_POLICY_BRIDGE_ENFORCE: 'true' };
const AUDIT = '/v1/accounting/audit';
const SOURCES = '/v1/accounting/os/sources';

async function decisions(t: TestApp): Promise<string> {
  return (await t.metrics.registry.getSingleMetricAsString('os_policy_decisions_total')).toString();
}

let schema: TestSchema;
beforeAll(async () => {
  schema = await createTestSchema('vt_policy');
});
afterAll(async () => {
  await schema?.drop();
});

describe('with enforcement on and the seeds allowlist', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(schema.db, PILOT);
  });

  it('lets the pilot tenant read the audit trail as operator (the seeds first curl)', async () => {
    const res = await request(t.app).get(AUDIT).set({ 'X-Tenant': 'default', 'X-User-Role': 'operator' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ tenant: 'default', items: expect.any(Array), next_cursor: null });
  });

  it('lets the pilot tenant read its sources as admin', async () => {
    const res = await request(t.app).get(SOURCES).set({ 'X-Tenant': 'default', 'X-User-Role': 'admin' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tenant: 'default', sources: [] });
  });

  it('answers a non-pilot tenant with 403 TENANT_NOT_ENABLED naming the tenant, exactly as the seeds show', async () => {
    const res = await request(t.app).get(AUDIT).set({ 'X-Tenant': 'pilot-b', 'X-User-Role': 'operator' });
    expect(res.status).toBe(403);
    expect(res.text.startsWith('{"error_code":"TENANT_NOT_ENABLED","tenant":"pilot-b",')).toBe(true);
    expect(res.body).toEqual({
      error_code: 'TENANT_NOT_ENABLED',
      tenant: 'pilot-b',
      message: expect.any(String),
      request_id: res.headers['x-request-id'],
    });
  });

  it('logs every denial at warn with its error code, tenant and request id', async () => {
    await request(t.app).get(AUDIT).set({ 'X-Tenant': 'pilot-b', 'X-User-Role': 'operator', 'X-Request-Id': 'deny-log-1' });
    const line = t.logs.lines.find((l) => l.request_id === 'deny-log-1' && l.level === 'warn');
    expect(line).toMatchObject({ error_code: 'TENANT_NOT_ENABLED', tenant: 'pilot-b', enforce: true });
    expect(String(line?.msg)).toContain('TENANT_NOT_ENABLED');
  });

  it.each([
    ['no X-Tenant header', {}, 400, 'TENANT_REQUIRED'],
    ['an empty X-Tenant', { 'X-Tenant': '' }, 400, 'TENANT_REQUIRED'],
    ['upper case and spaces', { 'X-Tenant': 'Pilot A' }, 400, 'INVALID_TENANT'],
    ['64 characters', { 'X-Tenant': 'a'.repeat(64) }, 400, 'INVALID_TENANT'],
    ['a valid tenant outside the allowlist, without a role', { 'X-Tenant': 'a'.repeat(63) }, 403, 'TENANT_NOT_ENABLED'],
    ['no role', { 'X-Tenant': 'default' }, 403, 'ROLE_NOT_MAPPED'],
    ['an unmapped role', { 'X-Tenant': 'default', 'X-User-Role': 'superuser' }, 403, 'ROLE_NOT_MAPPED'],
    ['a role that is only an inherited object key', { 'X-Tenant': 'default', 'X-User-Role': 'constructor' }, 403, 'ROLE_NOT_MAPPED'],
    ['a viewer (no audit:read)', { 'X-Tenant': 'default', 'X-User-Role': 'viewer' }, 403, 'FORBIDDEN'],
  ])('when the request has %s, GET audit answers %i %s', async (_name, headers, status, code) => {
    const res = await request(t.app).get(AUDIT).set(headers);
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ error_code: code, message: expect.any(String), request_id: expect.any(String) });
  });

  it('names the missing permission in FORBIDDEN', async () => {
    const res = await request(t.app).post(`${AUDIT}/manual-review`).set({ 'X-Tenant': 'default', 'X-User-Role': 'auditor' }).send({});
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error_code: 'FORBIDDEN', permission: 'manual_review:create', role: 'auditor' });
  });

  it('checks the tenant before the role and the role before the route', async () => {
    expect((await request(t.app).get('/v1/nope').set({ 'X-Tenant': 'pilot-b' })).body.error_code).toBe('TENANT_NOT_ENABLED');
    expect((await request(t.app).get('/v1/nope').set({ 'X-Tenant': 'default' })).body.error_code).toBe('ROLE_NOT_MAPPED');
    expect((await request(t.app).get('/v1/nope').set({ 'X-Tenant': 'default', 'X-User-Role': 'admin' })).status).toBe(404);
  });

  it('never gates /health, /ready or /metrics', async () => {
    for (const path of ['/health', '/ready', '/metrics']) {
      expect((await request(t.app).get(path)).status).toBe(200);
    }
  });

  it('counts decisions by decision and reason, never by tenant', async () => {
    const before = await decisions(t);
    await request(t.app).get(AUDIT).set({ 'X-Tenant': 'pilot-b', 'X-User-Role': 'operator' });
    await request(t.app).get(AUDIT).set({ 'X-Tenant': 'default', 'X-User-Role': 'operator' });
    const after = await decisions(t);
    const count = (text: string, series: string) => Number(new RegExp(`${series} (\\d+)`).exec(text)?.[1] ?? 'NaN');
    const denied = 'os_policy_decisions_total\\{decision="deny",reason="TENANT_NOT_ENABLED"\\}';
    const allowed = 'os_policy_decisions_total\\{decision="allow",reason="OK"\\}';
    expect(count(after, denied) - count(before, denied)).toBe(1);
    expect(count(after, allowed) - count(before, allowed)).toBe(1);
    expect(after).not.toContain('pilot-b');
  });

  it('maps gateway roles through OS_ROLE_MAP_JSON', async () => {
    const mapped = await buildTestApp(schema.db, { ...PILOT, OS_ROLE_MAP_JSON: '{"accounting-ops":"operator"}' });
    expect((await request(mapped.app).get(AUDIT).set({ 'X-Tenant': 'default', 'X-User-Role': 'accounting-ops' })).status).toBe(200);
    expect((await request(mapped.app).get(AUDIT).set({ 'X-Tenant': 'default', 'X-User-Role': 'operator' })).body.error_code).toBe(
      'ROLE_NOT_MAPPED',
    );
  });

  it('attaches the resolved tenant, role and user id for handlers: a manual review records them', async () => {
    const res = await request(t.app)
      .post(`${AUDIT}/manual-review`)
      .set({ 'X-Tenant': 'pilot-a', 'X-User-Role': 'operator', 'X-User-Id': 'kim.operator', 'Idempotency-Key': 'policy-1' })
      .send({ subject_type: 'bank_tx', subject_id: 'tx_42', reason: 'amount looks wrong' });
    expect(res.status).toBe(201);
    const { rows } = await schema.db.query<{ tenant: string; actor_role: string; actor_id: string }>(
      `SELECT tenant, actor_role, actor_id FROM audit_events WHERE id = $1`,
      [res.body.id],
    );
    expect(rows).toEqual([{ tenant: 'pilot-a', actor_role: 'operator', actor_id: 'kim.operator' }]);
  });

  it('never shows another tenant the audit events of a tenant', async () => {
    await request(t.app)
      .post(`${AUDIT}/manual-review`)
      .set({ 'X-Tenant': 'pilot-a', 'X-User-Role': 'operator', 'Idempotency-Key': 'policy-2' })
      .send({ subject_type: 'bank_tx', subject_id: 'only-pilot-a', reason: 'check' });
    const res = await request(t.app).get(AUDIT).set({ 'X-Tenant': 'default', 'X-User-Role': 'operator' });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain('only-pilot-a');
    const own = await request(t.app).get(AUDIT).set({ 'X-Tenant': 'pilot-a', 'X-User-Role': 'operator' });
    expect(JSON.stringify(own.body)).toContain('only-pilot-a');
  });
});

describe('in shadow mode (OS_POLICY_BRIDGE_ENFORCE=false)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(schema.db, { ...PILOT, OS_POLICY_BRIDGE_ENFORCE: 'false' });
  });

  it.each([
    ['a non-pilot tenant', { 'X-Tenant': 'pilot-b', 'X-User-Role': 'operator' }, 'TENANT_NOT_ENABLED'],
    ['an unmapped role', { 'X-Tenant': 'default', 'X-User-Role': 'superuser' }, 'ROLE_NOT_MAPPED'],
    ['a role without the permission', { 'X-Tenant': 'default', 'X-User-Role': 'viewer' }, 'FORBIDDEN'],
  ])('lets %s through but logs and counts the would-be denial', async (_name, headers, code) => {
    const id = `shadow-${code}`;
    const res = await request(t.app).get(AUDIT).set({ ...headers, 'X-Request-Id': id });
    expect(res.status).toBe(200);
    expect(res.body.tenant).toBe(headers['X-Tenant']);
    const line = t.logs.lines.find((l) => l.request_id === id && l.level === 'warn');
    expect(line).toMatchObject({ error_code: code, enforce: false });
    expect(await decisions(t)).toContain(`os_policy_decisions_total{decision="shadow_deny",reason="${code}"} 1`);
  });

  it('still refuses a missing or malformed tenant, which no handler could scope', async () => {
    expect((await request(t.app).get(AUDIT)).status).toBe(400);
    expect((await request(t.app).get(AUDIT).set({ 'X-Tenant': '../etc' })).body.error_code).toBe('INVALID_TENANT');
  });
});

describe('allowlist edge cases', () => {
  it('denies every tenant when the allowlist is empty', async () => {
    const t = await buildTestApp(schema.db, { OS_TENANT_ALLOWLIST_JSON: '[]' });
    const res = await request(t.app).get(AUDIT).set({ 'X-Tenant': 'default', 'X-User-Role': 'operator' });
    expect(res.status).toBe(403);
    expect(res.body.error_code).toBe('TENANT_NOT_ENABLED');
  });

  it('restricts no tenant when the allowlist is unset', async () => {
    const t = await buildTestApp(schema.db, {});
    expect((await request(t.app).get(AUDIT).set({ 'X-Tenant': 'pilot-b', 'X-User-Role': 'operator' })).status).toBe(200);
  });

  it('says so loudly at start-up when the allowlist is unset', async () => {
    const bff = spawnBffOnPostgres(schema.url);
    try {
      const line = JSON.parse(await bff.waitFor(/OS_TENANT_ALLOWLIST_JSON/)) as { level: string; msg: string };
      expect(line.level).toBe('warn');
      expect(line.msg).toContain('NO TENANT RESTRICTION');
    } finally {
      await bff.stop();
    }
  });
});

describe('a route missing from the policy table', () => {
  it('is denied even when a router implements it', async () => {
    let reached = false;
    const config = loadConfig({});
    const { app, metrics } = contextApp();
    // Mounted as createApp mounts it.
    app.use(underPrefix('/v1', osPolicyBridge({ policy: config.policy, routes: [API_ROUTES.listAuditEvents], metrics })));
    app.get('/v1/accounting/unlisted', (_req, res) => {
      reached = true;
      res.json({ leaked: true });
    });
    app.use(notFound(), errorHandler());

    const res = await request(app).get('/v1/accounting/unlisted').set({ 'X-Tenant': 'default', 'X-User-Role': 'admin' });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('NOT_FOUND');
    expect(reached).toBe(false);
  });
});
