import type { RunningBankSandbox } from '@accounting/bank-sandbox-sim';
import { runMigrations } from '@accounting/data-pg';
import { startDateFor } from '@accounting/service-core-accounting';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BANK_NOW, BANK_TOKEN, bankRows, startTestBank, storedRows } from './support/bank.js';
import { createTestSchema, type TestSchema } from './support/postgres.js';
import { spawnNode, WORKER_ENTRY, type NodeProcess } from './support/process.js';
import { replicasBehindHaproxy, startLoad, type ReplicaSet } from './support/rollingRestart.js';

// The chart's topology on one machine: several BFF replicas and sync workers on one PostgreSQL.

let schema: TestSchema;
beforeAll(async () => {
  schema = await createTestSchema('vt_multi');
});
afterAll(async () => {
  await schema?.drop();
});

/** The `/v1` requests a BFF process answered, from its own /metrics. */
async function v1RequestsServed(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^http_requests_total\{[^}]*route="\/v1\/[^}]*\} (\d+)/gm)) total += Number(match[1]);
  return total;
}

describe('three BFF replicas behind haproxy on one database', () => {
  // Well above haproxy's detection time (inter 500 ms x fall 2, plus the checks' own time: up
  // to 1.6 s on a busy machine, docs/BENCHMARKS.md), so the LB has taken a replica out before
  // it stops accepting connections.
  const SHUTDOWN_DELAY_MS = 4_000;
  let cluster: ReplicaSet | undefined;

  afterAll(async () => {
    await cluster?.stop();
  });

  it('a rolling restart under steady load loses no request and keeps every acknowledged write', { timeout: 150_000 }, async () => {
    cluster = replicasBehindHaproxy({
      databaseUrl: schema.url,
      env: { OS_TENANT_ALLOWLIST_JSON: '["default"]', SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS), SHUTDOWN_GRACE_MS: '10000', DB_POOL_MAX: '4' },
    });
    const lb = await cluster.start(3);
    const { replicas } = cluster;

    const load = startLoad(lb.url, { clients: 4, thinkMs: 10, maxSeconds: 120 });
    await load.progress(60);
    const oldPids: (number | undefined)[] = [];
    for (const replica of replicas) {
      oldPids.push(replica.bff.child.pid);
      const { exitCode } = await cluster.restart(replica);
      expect(exitCode, `${replica.name} exit code`).toBe(0);
      await load.progress(60);
    }
    await load.progress(60);
    const outcomes = await load.stop();

    const failed = outcomes.filter((o) => o.status === undefined);
    const not2xx = outcomes.filter((o) => o.status !== undefined && (o.status < 200 || o.status > 299));
    expect(failed, 'requests that failed at the connection level').toEqual([]);
    expect(not2xx, 'requests answered with another status than 2xx').toEqual([]);
    expect(outcomes.length).toBeGreaterThanOrEqual(300);
    // The replicas' drain alone lost nothing: haproxy never had to send a request again (its
    // retries are a safety net, and an LB that does not retry a POST has none).
    const backend = (await lb.stats()).get('BACKEND');
    expect({ retries: backend?.retries, redispatches: backend?.redispatches }, 'requests haproxy sent again').toEqual({ retries: 0, redispatches: 0 });

    // Every acknowledged manual review is stored, once.
    const acknowledged = outcomes.filter((o) => o.op === 'review').map((o) => o.key as string).sort();
    const { rows } = await schema.db.query<{ subject_id: string }>(
      `SELECT subject_id FROM audit_events WHERE tenant = 'default' AND action = 'manual_review_request'`,
    );
    expect(rows.map((row) => row.subject_id).sort()).toEqual(acknowledged);

    // Each replica is a new process that took part of the load after coming back.
    const newPids = replicas.map(({ bff }) => bff.child.pid);
    for (const pid of newPids) expect(oldPids).not.toContain(pid);
    for (const { name, port } of replicas) expect(await v1RequestsServed(port), `/v1 requests served by the new ${name}`).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------

describe('two sync workers on one database', () => {
  // The simulator's clock is fixed; the worker uses the real one, so ask for enough days back.
  const SINCE_DAYS = String(Math.ceil((Date.now() - BANK_NOW.getTime()) / 86_400_000) + 30);
  const START = startDateFor(new Date(), Number(SINCE_DAYS));
  const SOURCES = { default: 'conn_default', 'pilot-a': 'conn_pilot_a', 'pilot-b': 'conn_pilot_b', 'pilot-c': 'conn_pilot_c' };
  let bank: RunningBankSandbox;
  const workers: NodeProcess[] = [];

  beforeAll(async () => {
    bank = await startTestBank(Object.values(SOURCES).map((id) => ({ id, days: 14, perDay: 20 })));
    await runMigrations(schema.db);
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await bank?.close();
  });

  const output = (worker: NodeProcess) => `${worker.stdout.join('\n')}\n${worker.stderr.join('')}`;

  it('never sync one source at the same time: one skips the source the other holds, and the ledger is exact', { timeout: 90_000 }, async () => {
    // Slow bank pages (20 transactions, 100 ms each), so the two runs overlap.
    bank.sandbox.faults.inject({ type: 'latency', delay_ms: 100, times: 10_000 });
    const env = {
      DATABASE_URL: schema.url,
      BANK_SBX_BASE: bank.url,
      BANK_SBX_TOKEN: BANK_TOKEN,
      BANK_SBX_CONNECTIONS_JSON: JSON.stringify(SOURCES),
      SYNC_SINCE_DAYS: SINCE_DAYS,
      SYNC_PAGE_SIZE: '20',
    };
    workers.push(spawnNode(WORKER_ENTRY, [], env), spawnNode(WORKER_ENTRY, [], env));
    expect(await Promise.all(workers.map((w) => w.exited)), workers.map(output).join('\n---\n')).toEqual([0, 0]);
    bank.sandbox.faults.clear();

    const summaries = workers.map((w) => /4 sources: (\d+) succeeded, 0 failed, (\d+) skipped/.exec(w.stdout.join('\n')));
    expect(summaries.every(Boolean), workers.map(output).join('\n---\n')).toBe(true);
    const skipped = summaries.reduce((sum, match) => sum + Number(match?.[2]), 0);
    expect(skipped, 'sources a worker skipped because the other held them').toBeGreaterThan(0);
    expect(workers.map(output).join('\n')).toContain('sync skipped: another worker holds this source');

    const overlapping = (sameSource: boolean) =>
      schema.db.query<{ tenant: string; source: string; a: string; b: string }>(
        `SELECT a.tenant, a.source, a.id::text AS a, b.id::text AS b
         FROM external_sync_runs a JOIN external_sync_runs b ON a.id < b.id
           AND ((a.tenant, a.source) = (b.tenant, b.source)) = $1
           AND tstzrange(a.started_at, a.finished_at) && tstzrange(b.started_at, b.finished_at)`,
        [sameSource],
      );
    // The two workers really ran at once (runs of different sources overlap) ...
    expect((await overlapping(false)).rowCount, 'runs of different sources at the same time').toBeGreaterThan(0);
    // ... and never on the same source.
    expect((await overlapping(true)).rows).toEqual([]);
    const { rows: runs } = await schema.db.query<{ tenant: string; outcome: string }>(
      `SELECT DISTINCT tenant, outcome FROM external_sync_runs ORDER BY tenant`,
    );
    expect(runs).toEqual(Object.keys(SOURCES).sort().map((tenant) => ({ tenant, outcome: 'succeeded' })));
    const { rows: state } = await schema.db.query<{ tenant: string; errors_total: string }>(
      `SELECT tenant, errors_total FROM external_sync_state ORDER BY tenant`,
    );
    expect(state).toEqual(Object.keys(SOURCES).sort().map((tenant) => ({ tenant, errors_total: '0' })));

    for (const [tenant, connection] of Object.entries(SOURCES)) {
      expect(await storedRows(schema.db, tenant, 'bank_sbx', START), tenant).toEqual(bankRows(bank, connection, START));
    }
  });
});
