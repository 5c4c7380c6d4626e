import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { spawnBff } from '../../../test/support/process.js';

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
    const bff = spawnBff({ USE_PG: '1', DATABASE_URL: schema.url, PORT: '0', HOST: '127.0.0.1', BANK_SBX_EMBEDDED: 'true', SYNC_INTERVAL_SECONDS: '5', SYNC_METRICS_REFRESH_MS: '0' });
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
    const bff = spawnBff({ USE_PG: '1', DATABASE_URL: schema.url, PORT: '0', HOST: '127.0.0.1', BANK_SBX_EMBEDDED: 'true', SYNC_INTERVAL_SECONDS: '5' });
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
