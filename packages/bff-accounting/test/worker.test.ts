import type { RunningBankSandbox } from '@accounting/bank-sandbox-sim';
import { readSyncCursor, runMigrations } from '@accounting/data-pg';
import { startDateFor } from '@accounting/service-core-accounting';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BANK_NOW, BANK_TOKEN, bankRows, startTestBank, storedRows } from '../../../test/support/bank.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { RecordingServer } from '../../../test/support/recordingServer.js';
import { spawnNode, WORKER_ENTRY, type NodeProcess } from '../../../test/support/process.js';

// The simulator's clock is fixed; the worker uses the real one, so ask for enough days back.
const SINCE_DAYS = String(Math.ceil((Date.now() - BANK_NOW.getTime()) / 86_400_000) + 30);
const START = startDateFor(new Date(), Number(SINCE_DAYS));

let schema: TestSchema;
let bank: RunningBankSandbox;
const spawned: NodeProcess[] = [];

function worker(env: Record<string, string> = {}, args: string[] = []): NodeProcess {
  const child = spawnNode(WORKER_ENTRY, args, {
    DATABASE_URL: schema.url,
    BANK_SBX_BASE: bank.url,
    BANK_SBX_TOKEN: BANK_TOKEN,
    BANK_SBX_CONNECTIONS_JSON: '{"default":"conn_default","pilot-a":"conn_pilot_a"}',
    SYNC_SINCE_DAYS: SINCE_DAYS,
    SYNC_PAGE_SIZE: '50',
    ...env,
  });
  spawned.push(child);
  return child;
}

const output = (child: NodeProcess) => `${child.stdout.join('\n')}\n${child.stderr.join('')}`;

async function runs(tenant: string): Promise<{ outcome: string; error_code: string | null }[]> {
  const { rows } = await schema.db.query<{ outcome: string; error_code: string | null }>(
    `SELECT outcome, error_code FROM external_sync_runs WHERE tenant = $1 ORDER BY id`,
    [tenant],
  );
  return rows;
}

beforeEach(async () => {
  schema = await createTestSchema('vt_worker');
  bank = await startTestBank([
    { id: 'conn_default', days: 14, perDay: 20 },
    { id: 'conn_pilot_a', days: 14, perDay: 5 },
  ]);
  // The worker changes no schema: the BFF (or the chart's migration Job) migrates.
  await runMigrations(schema.db);
});
afterEach(async () => {
  for (const child of spawned.splice(0)) if (child.child.exitCode === null) child.child.kill('SIGKILL');
  await bank.close();
  await schema.drop();
});

describe('worker_sync_external.mjs', () => {
  it('syncs every tenant source into external_ledger exactly, prints a summary and exits 0', async () => {
    const run = worker();
    expect(await run.exited).toBe(0);
    expect(run.stdout.join('\n')).toMatch(/worker_sync_external: 2 sources: 2 succeeded, 0 failed, 0 skipped/);
    expect(await storedRows(schema.db, 'default', 'bank_sbx', START)).toEqual(bankRows(bank, 'conn_default', START));
    expect(await storedRows(schema.db, 'pilot-a', 'bank_sbx', START)).toEqual(bankRows(bank, 'conn_pilot_a', START));
    expect(output(run)).not.toContain(BANK_TOKEN);
  });

  it('goes on with other sources when one fails, and exits 1', async () => {
    const run = worker({ BANK_SBX_CONNECTIONS_JSON: '{"default":"conn_default","pilot-a":"conn_gone"}' });
    expect(await run.exited).toBe(1);
    expect(run.stdout.join('\n')).toMatch(/2 sources: 1 succeeded, 1 failed, 0 skipped/);
    expect(await runs('pilot-a')).toEqual([{ outcome: 'failed', error_code: 'CONNECTION_NOT_FOUND' }]);
    expect(await storedRows(schema.db, 'default', 'bank_sbx', START)).toEqual(bankRows(bank, 'conn_default', START));
    expect(output(run)).not.toContain(BANK_TOKEN);
  });

  it('with PUSHGATEWAY_URL, also pushes the external_sync_* metrics there (PUT, job external_sync_worker)', async () => {
    const gateway = await new RecordingServer().start();
    const pushes = gateway.requests;
    try {
      const run = worker({ PUSHGATEWAY_URL: gateway.base });
      expect(await run.exited).toBe(0);
      expect(pushes.map(({ method, url }) => `${method} ${url}`)).toEqual(['PUT /metrics/job/external_sync_worker']);
      for (const tenant of ['default', 'pilot-a']) {
        expect(pushes[0]?.body).toMatch(new RegExp(`external_sync_last_ts_seconds\\{tenant="${tenant}",source="bank_sbx"\\} \\d+`));
        expect(pushes[0]?.body).toContain(`external_sync_runs_total{tenant="${tenant}",source="bank_sbx"} 1`);
      }
      expect(pushes[0]?.body).not.toContain(BANK_TOKEN);
    } finally {
      await gateway.close();
    }
  });

  it('keeps its exit code when the Pushgateway cannot be reached, says so, and never logs its URL', async () => {
    const url = 'http://pusher:s3cret-pass@127.0.0.1:9';
    const run = worker({ PUSHGATEWAY_URL: url });
    expect(await run.exited).toBe(0);
    expect(run.stdout.join('\n')).toMatch(/"level":"warn".*could not push the external_sync_\* metrics to the Pushgateway/);
    expect(run.stdout.join('\n')).toMatch(/2 sources: 2 succeeded, 0 failed, 0 skipped/);
    expect(output(run)).not.toContain('s3cret-pass');
  });

  it('survives SIGKILL mid-sync: no cursor ahead of the data, and the next run completes exactly', async () => {
    bank.sandbox.faults.inject({ type: 'latency', delay_ms: 40, times: 10_000 });
    const first = worker({ SYNC_PAGE_SIZE: '5' }, ['--tenant', 'default']);
    await expect.poll(async () => (await storedRows(schema.db, 'default', 'bank_sbx', START)).length, { timeout: 20_000 }).toBeGreaterThan(20);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    expect(await readSyncCursor(schema.db, 'default', 'bank_sbx')).toBeNull();
    expect(await runs('default')).toEqual([{ outcome: 'running', error_code: null }]);

    bank.sandbox.faults.clear();
    const second = worker({}, ['--tenant', 'default']);
    expect(await second.exited).toBe(0);
    expect(await storedRows(schema.db, 'default', 'bank_sbx', START)).toEqual(bankRows(bank, 'conn_default', START));
    expect(await runs('default')).toEqual([
      { outcome: 'failed', error_code: 'ABANDONED' },
      { outcome: 'succeeded', error_code: null },
    ]);
    const state = await schema.db.query(`SELECT runs_total, errors_total FROM external_sync_state WHERE tenant = 'default'`);
    expect(state.rows).toEqual([{ runs_total: '2', errors_total: '1' }]);
  });

  it('lets only one of two workers started at the same moment sync a source; the other skips and exits 0', async () => {
    bank.sandbox.faults.inject({ type: 'latency', delay_ms: 150, times: 10_000 });
    const [a, b] = [worker({}, ['--tenant', 'default']), worker({}, ['--tenant', 'default'])];
    expect(await Promise.all([a.exited, b.exited])).toEqual([0, 0]);
    const logs = [output(a), output(b)];
    expect(logs.filter((log) => log.includes('sync skipped: another worker holds this source'))).toHaveLength(1);
    expect(await runs('default')).toEqual([{ outcome: 'succeeded', error_code: null }]);
    expect(await storedRows(schema.db, 'default', 'bank_sbx', START)).toEqual(bankRows(bank, 'conn_default', START));
  });

  it('refuses to run on a database whose migrations are not applied (exit 3)', async () => {
    const empty = await createTestSchema('vt_worker_empty');
    try {
      const run = spawnNode(WORKER_ENTRY, [], { DATABASE_URL: empty.url, BANK_SBX_BASE: bank.url, BANK_SBX_TOKEN: BANK_TOKEN });
      expect(await run.exited).toBe(3);
      expect(run.stdout.join('\n')).toMatch(/migrations are not applied: 001_audit_events\.sql/);
    } finally {
      await empty.drop();
    }
  });

  it('exits 4 when the database is unreachable, saying so without the credentials', async () => {
    const run = spawnNode(WORKER_ENTRY, [], {
      DATABASE_URL: 'postgres://worker:s3cret@127.0.0.1:1/app',
      DB_CONNECT_TIMEOUT_MS: '500',
      BANK_SBX_BASE: bank.url,
      BANK_SBX_TOKEN: BANK_TOKEN,
    });
    expect(await run.exited).toBe(4);
    const output = run.stdout.join('\n') + run.stderr.join('');
    expect(output).toMatch(/the database is unavailable \(unreachable\); the next run retries/);
    expect(output).not.toContain('s3cret');
  });

  it('exits 2 naming what is missing, and prints usage with --help', async () => {
    const missing = spawnNode(WORKER_ENTRY, [], { DATABASE_URL: schema.url });
    expect(await missing.exited).toBe(2);
    expect(missing.stderr.join('')).toMatch(/BANK_SBX_BASE, BANK_SBX_TOKEN must be set/);
    const help = spawnNode(WORKER_ENTRY, ['--help'], {});
    expect(await help.exited).toBe(0);
    expect(help.stdout.join('\n')).toMatch(/usage: node scripts\/worker_sync_external\.mjs/);
    const bad = spawnNode(WORKER_ENTRY, ['--bogus'], {});
    expect(await bad.exited).toBe(2);
  });
});
