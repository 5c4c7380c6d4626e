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
    const bff = spawnBff({ USE_PG: '1', DATABASE_URL: schema.url, PORT: '0', HOST: '127.0.0.1', BANK_SBX_EMBEDDED: 'true', SYNC_INTERVAL_SECONDS: '5' });
    try {
      const port = await bff.port();
      await bff.waitFor(/embedded sync: 2 sources: 2 succeeded/);
      for (const tenant of ['default', 'pilot-a']) {
        const res = await fetch(`http://127.0.0.1:${port}/v1/accounting/os/sources`, { headers: { 'X-Tenant': tenant, 'X-User-Role': 'viewer' } });
        const body = (await res.json()) as { sources: { stale: boolean; cursor_present: boolean; rows: { active: number } }[] };
        expect(body.sources).toEqual([expect.objectContaining({ stale: false, cursor_present: true })]);
        expect(body.sources[0]?.rows.active).toBeGreaterThan(0);
      }
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/external_sync_last_ts_seconds\{tenant="pilot-a",source="bank_sbx"\} \d+/);
      bff.child.kill('SIGTERM');
      expect(await bff.exited).toBe(0);
    } finally {
      await bff.stop();
    }
  });
});
