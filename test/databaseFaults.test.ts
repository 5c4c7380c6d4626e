import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBffOnPostgres, type BffProcess } from './support/process.js';
import { OUTAGE_HEADERS as HEADERS, outageRequest, runOutageCycles, startOutageLoad, waitForValue } from './support/databaseOutage.js';
import { ThrowawayPostgres } from './support/throwawayPostgres.js';

/**
 * The BFF against a PostgreSQL of the test's own that goes down and comes back, as in a
 * restart or a failover: the process must survive, answer the outage 503 DATABASE_UNAVAILABLE,
 * lose no acknowledged write, and serve again on its own once the database is back.
 */

const OUTAGE_MS = Number(process.env.FAULT_OUTAGE_MS ?? 10_000);
const CYCLES = Number(process.env.FAULT_CYCLES ?? 3);
const CLIENTS = 8;
const ENV = {
  OS_TENANT_ALLOWLIST_JSON: '["default"]',
  DB_CONNECT_TIMEOUT_MS: '1000',
  LOG_LEVEL: 'info',
};

let cluster: ThrowawayPostgres;

beforeAll(async () => {
  cluster = await ThrowawayPostgres.create();
  await cluster.start();
}, 120_000);
afterAll(async () => {
  await cluster?.destroy();
});

async function storedSubjects(ids: readonly string[]): Promise<Set<string>> {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ subject_id: string }>(
      `SELECT subject_id FROM audit_events WHERE action = 'manual_review_request' AND subject_id = ANY($1::text[])`,
      [ids],
    );
    return new Set(rows.map((row) => row.subject_id));
  } finally {
    await client.end();
  }
}

describe('the BFF when its PostgreSQL restarts under load', () => {
  let bff: BffProcess | undefined;
  afterAll(async () => {
    await bff?.stop();
  });

  it(`stays up through ${CYCLES} stops of ${OUTAGE_MS / 1000} s, answers them 503 DATABASE_UNAVAILABLE, recovers alone, and loses no acknowledged write`, async () => {
    bff = spawnBffOnPostgres(cluster.url, ENV);
    const base = `http://127.0.0.1:${await bff.port()}`;
    const load = startOutageLoad(base, { clients: CLIENTS, pauseMs: 40 });
    let outages;
    try {
      outages = await runOutageCycles(cluster, base, load.outcomes, { cycles: CYCLES, outageMs: OUTAGE_MS, upMs: 2_000 });
      await sleep(1_000);
    } finally {
      await load.stop();
    }

    expect(bff.child.exitCode, bff.stderr.join('')).toBeNull();
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(bff.stdout.join('\n')).not.toMatch(/Unhandled|uncaught/i);

    const { outcomes } = load;
    expect(outcomes.filter((o) => o.networkError), 'requests without an HTTP answer').toEqual([]);
    // Every 5xx is the documented outage answer, with Retry-After; nothing else failed.
    const failures = outcomes.filter((o) => o.status >= 500);
    expect(failures.filter((o) => o.status !== 503 || o.errorCode !== 'DATABASE_UNAVAILABLE' || !o.retryAfter)).toEqual([]);
    expect(outcomes.filter((o) => o.status >= 300 && o.status < 500)).toEqual([]);
    for (const outage of outages) {
      expect(failures.some((o) => o.at >= outage.stoppedAt && o.at <= outage.startedAt), 'the outage was answered 503').toBe(true);
      expect(outage.readyDuring).toMatchObject({ http_status: 503, reason: 'DATABASE_UNAVAILABLE' });
    }

    // Every acknowledged write is in the database.
    const acknowledged = outcomes.filter((o) => o.write && o.status >= 200 && o.status < 300).map((o) => o.subjectId as string);
    expect(acknowledged.length).toBeGreaterThan(CYCLES * 10);
    const stored = await storedSubjects(acknowledged);
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);

    // The operator's view: one line when the database went away, one when it came back, per outage.
    const lines = bff.stdout.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; level: unknown });
    expect(lines.filter((l) => l.msg.startsWith('database unavailable')).length).toBeGreaterThanOrEqual(CYCLES);
    expect(lines.filter((l) => l.msg === 'database available again').length).toBeGreaterThanOrEqual(CYCLES);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^bff_database_available 1$/m);
  }, 60_000 + CYCLES * (OUTAGE_MS + 40_000));

  it('starts while the database is down: stays up, not ready, retries, then migrates and serves', async () => {
    await bff?.stop();
    bff = undefined;
    // A database of its own, never migrated, so the start really has migrations to apply.
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE late');
    await admin.end();
    await cluster.stop();
    const fresh = spawnBffOnPostgres(cluster.url.replace(/\/postgres$/, '/late'), ENV);
    bff = fresh;
    const base = `http://127.0.0.1:${await fresh.port()}`;

    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reason: 'DATABASE_UNAVAILABLE' });
    const data = await fetch(`${base}/v1/accounting/audit`, { headers: HEADERS });
    expect(data.status).toBe(503);
    expect(data.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await data.json()).toMatchObject({ error_code: 'DATABASE_UNAVAILABLE', request_id: expect.any(String) });
    expect((await fetch(`${base}/health`)).status).toBe(200);
    await fresh.waitFor(/"attempt":2/, 30_000);

    await cluster.start();
    await waitForValue('/ready to answer 200', async () => ((await fetch(`${base}/ready`)).status === 200 ? true : undefined), 60_000);
    const write = await outageRequest(base, true, 'late-start-1');
    expect(write.status).toBe(201);
    expect(fresh.child.exitCode).toBeNull();

    const attempts = fresh.stdout.filter((line) => line.includes('database unavailable at start-up'));
    // Each attempt logged once, numbered.
    const numbers = attempts.map((line) => (JSON.parse(line) as { attempt: number }).attempt);
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    // Log lines reach the pipe in batches: wait for it rather than look once.
    await fresh.waitFor(/"msg":"migrations: \d+ applied/, 10_000);
  }, 120_000);
});
