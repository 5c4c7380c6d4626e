import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { spawnBff, spawnBffOnPostgres } from '../../../test/support/process.js';

let schema: TestSchema;
beforeAll(async () => {
  schema = await createTestSchema('vt_embedded');
});
afterAll(async () => {
  await schema?.drop();
});

describe('the embedded demo (BANK_SBX_EMBEDDED=true, as the README start command sets it)', () => {
  it('starts the bank simulator, syncs both demo tenants in-process, and shows them on os/sources and /metrics', async () => {
    // SYNC_METRICS_REFRESH_MS=0: the sync metrics are read at the scrape, so it shows this sync.
    const bff = spawnBffOnPostgres(schema.url, { BANK_SBX_EMBEDDED: 'true', SYNC_INTERVAL_SECONDS: '5', SYNC_METRICS_REFRESH_MS: '0' });
    try {
      const port = await bff.port();
      // The two demo sources succeed; the demo's broken source (a closed connection) fails.
      await bff.waitFor(/embedded sync: 3 sources: 2 succeeded, 1 failed/);
      for (const tenant of ['default', 'pilot-a']) {
        const res = await fetch(`http://127.0.0.1:${port}/v1/accounting/os/sources`, { headers: { 'X-Tenant': tenant, 'X-User-Role': 'viewer' } });
        const body = (await res.json()) as { sources: { source: string; stale: boolean; cursor_present: boolean; rows: { active: number } }[] };
        const synced = body.sources.filter((s) => s.source === 'bank_sbx');
        expect(synced).toEqual([expect.objectContaining({ stale: false, cursor_present: true })]);
        expect(synced[0]?.rows.active).toBeGreaterThan(0);
        expect(body.sources.map((s) => s.source)).toEqual(tenant === 'default' ? ['bank_sbx', 'bank_sbx_legacy'] : ['bank_sbx']);
      }
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/external_sync_last_ts_seconds\{tenant="pilot-a",source="bank_sbx"\} \d+/);
      bff.child.kill('SIGTERM');
      expect(await bff.exited).toBe(0);
    } finally {
      await bff.stop();
    }
  });

  it('gives every Backoffice screen something to show: a stale source with its error, manual reviews, suggestions, the app itself', async () => {
    const bff = spawnBffOnPostgres(schema.url, { BANK_SBX_EMBEDDED: 'true', SYNC_INTERVAL_SECONDS: '5' });
    try {
      const port = await bff.port();
      await bff.waitFor(/"tenant":"pilot-a".*embedded reconciliation run/);
      const get = async <T>(path: string, tenant = 'default') => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { 'X-Tenant': tenant, 'X-User-Role': 'operator' } });
        expect(res.status, path).toBe(200);
        return (await res.json()) as T;
      };

      const { sources } = await get<{ sources: { source: string; stale: boolean; last_error: { code: string } | null; recent_runs: { outcome: string }[] }[] }>('/v1/accounting/os/sources');
      const broken = sources.find((s) => s.source === 'bank_sbx_legacy');
      expect(broken).toMatchObject({ stale: true, last_error: { code: 'CONNECTION_NOT_FOUND' } });
      expect(broken?.recent_runs[0]?.outcome).toBe('failed');
      const failures = await get<{ items: { subject_id: string }[] }>('/v1/accounting/audit?action=external_sync_failed');
      expect(failures.items[0]?.subject_id).toBe('bank_sbx_legacy');

      for (const tenant of ['default', 'pilot-a']) {
        const reviews = await get<{ items: { action: string }[] }>('/v1/accounting/audit?action=manual_review_request&limit=200', tenant);
        expect(reviews.items).toHaveLength(25);
        const suggested = await get<{ items: unknown[] }>('/v1/accounting/recon/suggestions?status=suggested', tenant);
        expect(suggested.items.length).toBeGreaterThan(0);
      }

      const app = await fetch(`http://127.0.0.1:${port}/backoffice/`);
      expect(app.status).toBe(200);
      expect(await app.text()).toContain('<div id="app">');
      expect(await (await fetch(`http://127.0.0.1:${port}/backoffice/config.json`)).json()).toEqual({ identity: 'picker' });
    } finally {
      await bff.stop();
    }
  });
});

describe('the README start command: embedded demo on the default database (PGlite)', () => {
  // As `pnpm start` runs it, with the data dir and port moved out of the way.
  const startEnv = (dataDir: string) => ({
    PORT: '0',
    HOST: '127.0.0.1',
    PGLITE_DATA_DIR: dataDir,
    BANK_SBX_EMBEDDED: 'true',
    OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a"]',
    SYNC_INTERVAL_SECONDS: '5',
  });

  it('serves /health, /ready, /metrics and the Backoffice with its demo data, and keeps the data across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'bff-pglite-'));
    try {
      let bff = spawnBff(startEnv(dataDir));
      let reviews: number;
      try {
        const listening = JSON.parse(await bff.waitFor(/listening on/, 60_000)) as { port: number; database: string; msg: string };
        expect(listening.msg).toContain('pglite');
        expect(listening.database).toContain(dataDir);
        const base = `http://127.0.0.1:${listening.port}`;
        await bff.waitFor(/"tenant":"pilot-a".*embedded reconciliation run/, 60_000);

        expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
        const ready = await fetch(`${base}/ready`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({ status: 'ready' });
        const metrics = await (await fetch(`${base}/metrics`)).text();
        expect(metrics).toMatch(/http_requests_total\{method="GET",route="\/ready",code="200"\} 1/);

        const backoffice = await fetch(`${base}/backoffice/`);
        expect(backoffice.status).toBe(200);
        expect(await backoffice.text()).toContain('<div id="app">');
        const audit = await fetch(`${base}/v1/accounting/audit?action=manual_review_request&limit=200`, { headers: { 'X-Tenant': 'default', 'X-User-Role': 'operator' } });
        reviews = ((await audit.json()) as { items: unknown[] }).items.length;
        expect(reviews).toBe(25);
        bff.child.kill('SIGTERM');
        expect(await bff.exited).toBe(0);
      } finally {
        await bff.stop();
      }

      // Same data dir: migrations already applied, demo data still there and not seeded twice.
      bff = spawnBff(startEnv(dataDir));
      try {
        await bff.waitFor(/migrations: 0 applied/, 60_000);
        const port = await bff.port();
        const audit = await fetch(`http://127.0.0.1:${port}/v1/accounting/audit?action=manual_review_request&limit=200`, { headers: { 'X-Tenant': 'default', 'X-User-Role': 'operator' } });
        expect(((await audit.json()) as { items: unknown[] }).items).toHaveLength(reviews);
      } finally {
        await bff.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
