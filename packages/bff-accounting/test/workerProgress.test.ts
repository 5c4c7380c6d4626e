import { startBankSandbox, type RunningBankSandbox } from '@accounting/bank-sandbox-sim';
import { readSyncCursor, readSyncProgress, runMigrations } from '@accounting/data-pg';
import { startDateFor } from '@accounting/service-core-accounting';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BANK_NOW, BANK_TOKEN, bankRows, storedRows } from '../../../test/support/bank.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { spawnNode, WORKER_ENTRY, type NodeProcess } from '../../../test/support/process.js';

// The simulator's clock is fixed; the worker uses the real one, so ask for enough days back.
const SINCE_DAYS = String(Math.ceil((Date.now() - BANK_NOW.getTime()) / 86_400_000) + 40);
const START = startDateFor(new Date(), Number(SINCE_DAYS));

let schema: TestSchema;
let bank: RunningBankSandbox;
const spawned: NodeProcess[] = [];

/** One CronJob run: the config's shortest deadline, small pages, against a slow bank. */
function worker(): NodeProcess {
  const child = spawnNode(WORKER_ENTRY, [], {
    DATABASE_URL: schema.url,
    BANK_SBX_BASE: bank.url,
    BANK_SBX_TOKEN: BANK_TOKEN,
    BANK_SBX_CONNECTIONS_JSON: '{"default":"conn_default"}',
    SYNC_SINCE_DAYS: SINCE_DAYS,
    SYNC_PAGE_SIZE: '200',
    SYNC_DEADLINE_SECONDS: '10',
  });
  spawned.push(child);
  return child;
}

const storedCount = async () => (await storedRows(schema.db, 'default', 'bank_sbx', START)).length;

async function runs(): Promise<{ outcome: string; error_code: string | null; pages: number; rows_added: number }[]> {
  const { rows } = await schema.db.query<{ outcome: string; error_code: string | null; pages: number; rows_added: number }>(
    `SELECT outcome, error_code, pages, rows_added FROM external_sync_runs WHERE tenant = 'default' ORDER BY id`,
  );
  return rows;
}

beforeAll(async () => {
  schema = await createTestSchema('vt_workerprog');
  bank = await startBankSandbox({ token: BANK_TOKEN, seed: 7, now: BANK_NOW, connections: [{ id: 'conn_default', days: 30, perDay: 400 }] });
  await runMigrations(schema.db);
});
afterAll(async () => {
  for (const child of spawned.splice(0)) if (child.child.exitCode === null) child.child.kill('SIGKILL');
  await bank?.close();
  await schema?.drop();
});

describe('worker_sync_external.mjs on a sync longer than its deadline', () => {
  it('completes 12,000 transactions over several runs, also across a kill -9, resuming each time', { timeout: 120_000 }, async () => {
    expect(bankRows(bank, 'conn_default', START)).toHaveLength(12_000);
    // 60 pages of 200, each answered after 300 ms: more than one 10-second run can page.
    bank.sandbox.faults.inject({ type: 'latency', delay_ms: 300, times: 10_000 });

    const first = worker();
    expect(await first.exited).toBe(1);
    expect(first.stdout.join('\n')).toMatch(/sync failed: DEADLINE_EXCEEDED/);
    const afterFirst = await storedCount();
    expect(afterFirst).toBeGreaterThan(0);
    expect(afterFirst).toBeLessThan(12_000);
    expect(await readSyncCursor(schema.db, 'default', 'bank_sbx')).toBeNull();

    const killed = worker();
    await expect.poll(storedCount, { timeout: 20_000, interval: 100 }).toBeGreaterThan(afterFirst + 400);
    killed.child.kill('SIGKILL');
    expect(await killed.exited).toBeNull();
    const afterKill = await storedCount();
    const resumeAt = (await readSyncProgress(schema.db, 'default', 'bank_sbx'))?.pageCursor;
    expect(resumeAt).toEqual(expect.any(String));

    // Runs go on until one completes; each resumes after the pages already stored.
    bank.sandbox.requestLog.clear();
    const counts = [afterFirst, afterKill];
    const codes: (number | null)[] = [];
    while (codes.at(-1) !== 0 && codes.length < 6) {
      const run = worker();
      codes.push(await run.exited);
      counts.push(await storedCount());
    }
    expect(codes.at(-1)).toBe(0);
    expect(codes.slice(0, -1).every((code) => code === 1)).toBe(true);
    for (let i = 1; i < counts.length; i += 1) expect(counts[i]).toBeGreaterThan(counts[i - 1] as number);
    // The run after the kill asked for the page after the last stored one, not page 1.
    const firstSync = bank.sandbox.requestLog.entries().find((entry) => entry.route === 'sync');
    expect(firstSync?.cursor).toBe(resumeAt);

    expect(await storedRows(schema.db, 'default', 'bank_sbx', START)).toEqual(bankRows(bank, 'conn_default', START));
    const { rows } = await schema.db.query(`SELECT count(*)::int AS n, count(DISTINCT external_id)::int AS ids FROM external_ledger`);
    expect(rows).toEqual([{ n: 12_000, ids: 12_000 }]);
    expect(await readSyncProgress(schema.db, 'default', 'bank_sbx')).toBeNull();
    const recorded = await runs();
    expect(recorded.map((run) => [run.outcome, run.error_code])).toEqual([
      ['failed', 'DEADLINE_EXCEEDED'],
      ['failed', 'ABANDONED'],
      ...codes.slice(0, -1).map(() => ['failed', 'DEADLINE_EXCEEDED']),
      ['succeeded', null],
    ]);
    // Every run, the killed one too, shows the pages and rows it stored; together, each row once.
    for (const run of recorded) expect(run.pages).toBeGreaterThan(0);
    expect(recorded.reduce((sum, run) => sum + run.rows_added, 0)).toBe(12_000);
  });
});
