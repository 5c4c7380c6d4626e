import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, type TestSchema } from './support/postgres.js';
import { spawnBffOnPostgres, type BffProcess } from './support/process.js';
import { loadedRules, queryPrometheus, startPrometheus, type PromSample, type RunningServer } from './support/prometheus.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const RULES_FILE = join(root, 'deploy/prometheus/rules/bff-accounting.rules.yml');
const DASHBOARD = join(root, 'deploy/grafana/bff-accounting-dashboard.json');

/** The seeds' PromQL snippets (pilot operations guide, section 3), verbatim. */
const SEEDS = {
  p95: 'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="bff-accounting"}[5m])))',
  ratio5xx: 'sum(rate(http_requests_total{job="bff-accounting",code=~"5.."}[10m])) / sum(rate(http_requests_total{job="bff-accounting"}[10m]))',
  syncLag: '(time() - external_sync_last_ts_seconds{job="bff-accounting"})',
};

/** How long the test waits for Prometheus to have scraped and evaluated enough; never asserted. */
const WAIT_MS = 40_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const values = (samples: PromSample[]) => samples.map((sample) => Number(sample.value[1]));

let schema: TestSchema;
let workDir: string;
let bff: BffProcess | undefined;
let prometheus: RunningServer | undefined;
let bffUrl: string;

beforeAll(async () => {
  schema = await createTestSchema('vt_prom');
  workDir = await mkdtemp(join(tmpdir(), 'bff-prometheus-'));
  // The embedded bank and a 5-second sync interval give external_sync_* series at once. No
  // `default` tenant, so the demo's deliberately broken source is not added: this BFF is healthy.
  bff = spawnBffOnPostgres(schema.url, {
    BANK_SBX_EMBEDDED: 'true',
    BANK_SBX_CONNECTIONS_JSON: JSON.stringify({ 'pilot-a': 'conn_pilot_a', 'pilot-b': 'conn_pilot_b' }),
    SYNC_INTERVAL_SECONDS: '5',
  });
  bffUrl = `http://127.0.0.1:${await bff.port()}`;
  await bff.waitFor(/embedded sync: 2 sources: 2 succeeded/);
  prometheus = await startPrometheus(
    {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [RULES_FILE],
      scrape_configs: [{ job_name: 'bff-accounting', static_configs: [{ targets: [bffUrl.replace('http://', '')] }] }],
    },
    workDir,
  );
});

afterAll(async () => {
  await prometheus?.stop();
  await bff?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
  await schema?.drop();
});

/** A round of traffic as the apps make it: answers 200, 404 and policy denials (400/403). */
async function driveTraffic(): Promise<void> {
  const requests: [string, Record<string, string>][] = [
    ['/v1/accounting/os/sources', { 'X-Tenant': 'default', 'X-User-Role': 'viewer' }],
    ['/v1/accounting/os/sources', { 'X-Tenant': 'pilot-a', 'X-User-Role': 'admin' }],
    ['/v1/accounting/audit', { 'X-Tenant': 'default', 'X-User-Role': 'operator' }],
    ['/v1/accounting/audit', {}],
    ['/v1/accounting/audit', { 'X-Tenant': 'default', 'X-User-Role': 'nobody' }],
    ['/no/such/route', {}],
    ['/health', {}],
  ];
  await Promise.all(requests.map(([path, headers]) => fetch(`${bffUrl}${path}`, { headers }).then((res) => res.arrayBuffer())));
}

describe('the BFF scraped by a real Prometheus with the rules file loaded', () => {
  it('answers the seeds\' three PromQL snippets and the recording rules with sane values, and every dashboard query with data', async () => {
    const url = prometheus?.url ?? '';
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const panelQueries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ title: panel.title, expr: target.expr })));
    const recorded = ['job:http_request_duration_seconds:p95_rate5m', 'job:http_requests_5xx:ratio_rate10m', 'tenant_source:external_sync_lag_seconds'];

    // Traffic keeps flowing while we wait, so rate() sees counters grow between scrapes.
    const ready = async () => {
      const p95 = values(await queryPrometheus(url, SEEDS.p95));
      if (p95.length !== 1 || !Number.isFinite(p95[0])) return false;
      if ((await queryPrometheus(url, SEEDS.syncLag)).length < 2) return false;
      for (const name of recorded) if ((await queryPrometheus(url, name)).length === 0) return false;
      for (const { expr } of panelQueries) if ((await queryPrometheus(url, expr)).length === 0) return false;
      return true;
    };
    const deadline = Date.now() + WAIT_MS;
    let done = false;
    while (!done && Date.now() < deadline) {
      await driveTraffic();
      await sleep(250);
      done = await ready();
    }

    const up = await queryPrometheus(url, 'up{job="bff-accounting"}');
    expect(values(up)).toEqual([1]);

    // p95: one finite number of seconds, under a second on loopback.
    const p95 = values(await queryPrometheus(url, SEEDS.p95));
    expect(p95).toHaveLength(1);
    expect(p95[0]).toBeGreaterThanOrEqual(0);
    expect(p95[0]).toBeLessThan(1);

    // 5xx ratio: nothing answered 5xx, so the bare snippet has no 5xx series to divide (empty)
    // or is 0; the recording rule says 0.
    const ratio = values(await queryPrometheus(url, SEEDS.ratio5xx));
    for (const value of ratio) expect(value).toBe(0);
    expect(values(await queryPrometheus(url, 'job:http_requests_5xx:ratio_rate10m'))).toEqual([0]);

    // Sync lag: one series per demo tenant, seconds since the last run (every 5 s here).
    const lag = await queryPrometheus(url, SEEDS.syncLag);
    expect(lag.map((sample) => `${sample.metric.tenant}/${sample.metric.source}`).sort()).toEqual(['pilot-a/bank_sbx', 'pilot-b/bank_sbx']);
    for (const value of values(lag)) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(120);
    }

    // The recording rules answer like the snippets they record.
    const recordedP95 = values(await queryPrometheus(url, 'job:http_request_duration_seconds:p95_rate5m'));
    expect(recordedP95).toHaveLength(1);
    expect(recordedP95[0]).toBeGreaterThanOrEqual(0);
    expect(recordedP95[0]).toBeLessThan(1);
    const recordedLag = await queryPrometheus(url, 'tenant_source:external_sync_lag_seconds');
    expect(recordedLag.map((sample) => `${sample.metric.job} ${sample.metric.tenant}/${sample.metric.source}`).sort()).toEqual([
      'bff-accounting pilot-a/bank_sbx',
      'bff-accounting pilot-b/bank_sbx',
    ]);
    for (const value of values(recordedLag)) expect(value).toBeLessThan(120);

    // Every dashboard panel has data from the real app.
    const empty: string[] = [];
    for (const { title, expr } of panelQueries) if ((await queryPrometheus(url, expr)).length === 0) empty.push(`${title}: ${expr}`);
    expect(empty).toEqual([]);

    // Every rule evaluated without error against the real series, and a healthy BFF fires nothing.
    const rules = await loadedRules(url);
    expect(rules.filter(({ rule }) => rule.health !== 'ok').map(({ rule }) => `${rule.name}: ${rule.lastError ?? rule.health}`)).toEqual([]);
    expect(await queryPrometheus(url, 'ALERTS{alertname=~"BffDown|ExternalSync.*"}')).toEqual([]);
  }, 60_000);
});
