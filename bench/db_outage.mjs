// Database outage benchmark: how the BFF rides out PostgreSQL restarts, in figures.
//
//   pnpm build && node --import tsx bench/db_outage.mjs [--cycles 5] [--outage 10] [--clients 8]
//
// Starts a PostgreSQL cluster of its own (initdb into a temp dir, its own port; as the postgres
// user when run as root; PG_BIN_DIR [/usr/lib/postgresql/15/bin]), the built BFF on it, and a
// mixed load (two audit reads and one manual-review write per client loop, 40 ms apart). Then,
// `--cycles` times: 3 s of load, `pg_ctl -m fast stop`, `--outage` seconds down, start, and the
// time until the first 2xx of a request sent after the start. Then a BFF started while the
// database is down: the time from the database's start to /ready 200. Prints a JSON summary.
// Uses the scenario of test/databaseFaults.test.ts (test/support/databaseOutage.ts). Results:
// docs/BENCHMARKS.md, "Database outages".

import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { runOutageCycles, startOutageLoad, waitForValue } from '../test/support/databaseOutage.ts';
import { spawnBffOnPostgres } from '../test/support/process.ts';
import { ThrowawayPostgres } from '../test/support/throwawayPostgres.ts';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: { cycles: { type: 'string', default: '5' }, outage: { type: 'string', default: '10' }, clients: { type: 'string', default: '8' } },
});
const cycles = Number(values.cycles);
const outageMs = Number(values.outage) * 1_000;
const clients = Number(values.clients);
const env = { OS_TENANT_ALLOWLIST_JSON: '["default"]', DB_CONNECT_TIMEOUT_MS: '1000', LOG_LEVEL: 'info' };

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const cluster = await ThrowawayPostgres.create();
const spawned = [];
const spawn = (url) => {
  const child = spawnBffOnPostgres(url, env);
  spawned.push(child);
  return child;
};
try {
  await cluster.start();
  const bff = spawn(cluster.url);
  const base = `http://127.0.0.1:${await bff.port()}`;
  const load = startOutageLoad(base, { clients, pauseMs: 40 });
  let outages;
  try {
    outages = await runOutageCycles(cluster, base, load.outcomes, { cycles, outageMs, upMs: 3_000 });
    await sleep(1_000);
  } finally {
    await load.stop();
  }
  const alive = bff.child.exitCode === null;
  await bff.stop();

  const { outcomes } = load;
  const during = (o) => outages.some((x) => o.at >= x.stoppedAt && o.at < x.startedAt);
  const acknowledged = outcomes.filter((o) => o.write && o.status >= 200 && o.status < 300).map((o) => o.subjectId);
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  const { rows } = await client.query(
    `SELECT count(*)::int AS n FROM audit_events WHERE action = 'manual_review_request' AND subject_id = ANY($1::text[])`,
    [acknowledged],
  );
  await client.query('CREATE DATABASE late');
  await client.end();

  // A BFF started while the database is down.
  await cluster.stop();
  const late = spawn(cluster.url.replace(/\/postgres$/, '/late'));
  const lateBase = `http://127.0.0.1:${await late.port()}`;
  await sleep(outageMs);
  await cluster.start();
  const lateStart = Date.now();
  await waitForValue('/ready 200', async () => ((await fetch(`${lateBase}/ready`)).status === 200 ? true : undefined));
  const readyAfterMs = Date.now() - lateStart;
  await late.stop();

  const recovery = outages.map((o) => o.recoveryMs).sort((a, b) => a - b);
  console.log(
    JSON.stringify(
      {
        cycles,
        outage_seconds: outageMs / 1000,
        clients,
        bff_alive: alive,
        requests: outcomes.length,
        during_outages: outcomes.filter(during).length,
        status_503_database_unavailable: outcomes.filter((o) => o.status === 503 && o.errorCode === 'DATABASE_UNAVAILABLE').length,
        other_5xx: outcomes.filter((o) => o.status >= 500 && o.errorCode !== 'DATABASE_UNAVAILABLE').length,
        no_http_answer: outcomes.filter((o) => o.networkError).length,
        acknowledged_writes: acknowledged.length,
        acknowledged_writes_stored: rows[0].n,
        recovery_ms: { each: outages.map((o) => o.recoveryMs), median: percentile(recovery, 50), max: recovery.at(-1) },
        started_while_down_ready_after_ms: readyAfterMs,
      },
      null,
      2,
    ),
  );
} finally {
  // Also when a step failed: no BFF is left running.
  await Promise.all(spawned.map((child) => child.stop()));
  await cluster.destroy();
}
