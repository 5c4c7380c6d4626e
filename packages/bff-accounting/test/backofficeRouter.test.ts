import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

const INDEX = '<!doctype html><title>Backoffice</title><div id="app"></div><!-- fixture index -->';
const ASSET = 'assets/index-Ab12Cd34.js';

let schema: TestSchema;
let dir: string;
let built: TestApp;
let missing: TestApp;

beforeAll(async () => {
  schema = await createTestSchema('vt_backoffice_router');
  dir = await mkdtemp(join(tmpdir(), 'backoffice-dist-'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'index.html'), INDEX);
  await writeFile(join(dir, ASSET), 'console.info("app");');
  // An allowlist is set, so a gated route would refuse a request without X-Tenant.
  built = await buildTestApp(schema.db, { BACKOFFICE_DIR: dir, OS_TENANT_ALLOWLIST_JSON: '["default"]' });
  missing = await buildTestApp(schema.db, { BACKOFFICE_DIR: join(dir, 'not-built') }, { migrate: false });
});
afterAll(async () => {
  await schema?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the Backoffice at /backoffice/', () => {
  it('serves index.html at /backoffice/, revalidated on every load, without X-Tenant or X-User-Role', async () => {
    const res = await request(built.app).get('/backoffice/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.text).toBe(INDEX);
    expect((await request(built.app).get('/v1/accounting/audit')).body.error_code).toBe('TENANT_REQUIRED');
  });

  it('serves the hashed assets as immutable', async () => {
    const res = await request(built.app).get(`/backoffice/${ASSET}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.text).toBe('console.info("app");');
  });

  it('answers an unknown asset with 404 NOT_FOUND, not with the app', async () => {
    const res = await request(built.app).get('/backoffice/assets/index-Zz99Yy88.js');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error_code: 'NOT_FOUND', request_id: expect.any(String) });
  });

  it("falls back to index.html for the app's routes, such as the feedback deep link", async () => {
    for (const path of ['/backoffice/audit', '/backoffice/audit?tenant=default&subject_id=tx_42', '/backoffice/sources', '/backoffice/recon']) {
      const res = await request(built.app).get(path);
      expect(res.status, path).toBe(200);
      expect(res.headers['cache-control'], path).toBe('no-cache');
      expect(res.text, path).toBe(INDEX);
    }
  });

  it('redirects /backoffice to /backoffice/, keeping the query', async () => {
    const res = await request(built.app).get('/backoffice?tenant=default');
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('/backoffice/?tenant=default');
  });

  it('tells the app that the gateway sets tenant and role, unless the identity picker is on', async () => {
    const gateway = await request(built.app).get('/backoffice/config.json');
    expect(gateway.status).toBe(200);
    expect(gateway.headers['cache-control']).toBe('no-store');
    expect(gateway.body).toEqual({ identity: 'gateway' });
    const picker = await buildTestApp(schema.db, { BACKOFFICE_DIR: dir, BACKOFFICE_IDENTITY_PICKER: 'true' }, { migrate: false });
    expect((await request(picker.app).get('/backoffice/config.json')).body).toEqual({ identity: 'picker' });
  });

  it('answers 404 NOT_FOUND saying the app is not built when its build is missing', async () => {
    for (const path of ['/backoffice/', '/backoffice/audit']) {
      const res = await request(missing.app).get(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).toMatchObject({ error_code: 'NOT_FOUND', message: expect.stringContaining('not built') });
    }
  });
});
