import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../packages/bff-accounting/src/logger.js';
import { createMetrics } from '../packages/bff-accounting/src/metrics.js';
import { loadedRules, requireTool, runCommand, startAlertmanager, startPrometheus, type LoadedRule, type RunningServer } from './support/prometheus.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const RULES_FILE = join(root, 'deploy/prometheus/rules/bff-accounting.rules.yml');
const RULE_TESTS_DIR = join(root, 'deploy/prometheus/tests');
const ALERTMANAGER_CONFIG = join(root, 'deploy/alertmanager/alertmanager.yml');
const DASHBOARD = join(root, 'deploy/grafana/bff-accounting-dashboard.json');
const RUNBOOKS_DIR = join(root, 'docs/runbooks');

/** Where runbook_url points; operators replace OWNER/REPO (docs/OBSERVABILITY.md). */
const RUNBOOK_BASE = 'https://github.com/OWNER/REPO/blob/main/docs/runbooks/';
/** The chart replaces exactly this text with its alerts.ExternalSyncStale.thresholdMinutes. */
const STALE_THRESHOLD_TOKEN = '> 5 * 60';

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression reads (selectors' names; not functions, labels or keywords). */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[A-Za-z_:][\w:]*/g)) {
    const before = stripped[match.index - 1] ?? ' ';
    const after = stripped.slice(match.index + match[0].length);
    if (/[\w.]/.test(before) || /^\s*\(/.test(after) || PROMQL_WORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** Every metric name the BFF's /metrics exposes (histograms as their _bucket/_sum/_count series), plus `up`. */
async function exportedMetricNames(): Promise<Set<string>> {
  const metrics = createMetrics({
    syncMetrics: {
      read: () => Promise.resolve([{ tenant: 't', source: 's', last_success_seconds: 1, runs_total: 1, errors_total: 0, rows_synced_total: 1, last_run_seconds: 1 }]),
      logger: createLogger('silent'),
    },
  });
  const names = new Set(['up']); // written by Prometheus for every scrape target
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

let workDir: string;
let prometheus: RunningServer | undefined;
let rules: LoadedRule[] = [];
let alerts: LoadedRule[] = [];

beforeAll(async () => {
  requireTool('promtool');
  requireTool('amtool');
  workDir = await mkdtemp(join(tmpdir(), 'bff-alerts-'));
  // The rules as Prometheus itself parses them (no scrape target: nothing is evaluated on data).
  prometheus = await startPrometheus({ global: { evaluation_interval: '1m' }, rule_files: [RULES_FILE] }, workDir);
  rules = (await loadedRules(prometheus.url)).map(({ rule }) => rule);
  alerts = rules.filter((rule) => rule.type === 'alerting');
});

afterAll(async () => {
  await prometheus?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the Prometheus rules file', () => {
  it('passes promtool check rules', async () => {
    const result = await runCommand(requireTool('promtool'), ['check', 'rules', RULES_FILE]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it('passes its promtool unit tests, where every alert fires in one case and stays quiet in another, runbook_url asserted', async () => {
    const files = (await readdir(RULE_TESTS_DIR)).filter((file) => file.endsWith('.test.yml')).sort();
    expect(files.length).toBeGreaterThan(0);
    const result = await runCommand(requireTool('promtool'), ['test', 'rules', ...files], { cwd: RULE_TESTS_DIR, timeoutMs: 120_000 });
    expect(result.stdout + result.stderr).not.toContain('FAILED');
    expect(result.code).toBe(0);

    const tests = (await Promise.all(files.map((file) => readFile(join(RULE_TESTS_DIR, file), 'utf8')))).join('\n');
    for (const { name } of alerts) {
      expect(tests, `a case where ${name} fires`).toMatch(new RegExp(`alertname: ${name}\\n\\s+exp_alerts:\\n\\s+- exp_labels:`));
      expect(tests, `a case where ${name} must not fire`).toMatch(new RegExp(`alertname: ${name}\\n\\s+exp_alerts: \\[\\]`));
      expect(tests, `${name}'s runbook_url asserted`).toContain(`runbook_url: ${RUNBOOK_BASE}${name}.md`);
    }
  }, 120_000);

  it('records the seeds\' three PromQL snippets, the SLO ratios and the sync error ratio', () => {
    expect(rules.filter((rule) => rule.type === 'recording').map((rule) => rule.name)).toEqual(
      expect.arrayContaining([
        'job:http_request_duration_seconds:p95_rate5m',
        'job:http_requests_5xx:ratio_rate10m',
        'tenant_source:external_sync_lag_seconds',
        'tenant_source:external_sync_errors:ratio_increase1d',
        ...['5m', '30m', '1h', '2h', '6h', '1d', '3d'].map((window) => `job:slo_availability_errors:ratio_rate${window}`),
      ]),
    );
  });

  it('has the alerts of the seeds and the checklist, each with for:, severity page or ticket, summary, description and runbook_url', () => {
    expect(alerts.map((alert) => alert.name)).toEqual(
      expect.arrayContaining(['ExternalSyncStale', 'ExternalSyncStaleP1', 'BffHighErrorRate', 'BffHighLatencyP95', 'BffErrorBudgetBurnFast', 'BffErrorBudgetBurnSlow', 'ExternalSyncErrorRateHigh', 'BffDown']),
    );
    for (const alert of alerts) {
      expect(alert.duration, `${alert.name} for:`).toBeGreaterThan(0);
      expect(['page', 'ticket'], `${alert.name} severity`).toContain(alert.labels?.severity);
      expect(alert.labels?.service, `${alert.name} service`).toBe('bff-accounting');
      expect(alert.annotations?.summary, `${alert.name} summary`).toMatch(/\S/);
      expect(alert.annotations?.description, `${alert.name} description`).toMatch(/\S/);
      expect(alert.annotations?.runbook_url, `${alert.name} runbook_url`).toBe(`${RUNBOOK_BASE}${alert.name}.md`);
    }
  });

  it('escalates ExternalSyncStale to a paging P1 after 10 more minutes on the same condition', () => {
    const stale = alerts.find((alert) => alert.name === 'ExternalSyncStale');
    const p1 = alerts.find((alert) => alert.name === 'ExternalSyncStaleP1');
    expect(p1?.query).toBe(stale?.query);
    expect((p1?.duration ?? 0) - (stale?.duration ?? 0)).toBe(600);
    expect(stale?.labels?.severity).toBe('ticket');
    expect(p1?.labels).toMatchObject({ severity: 'page', priority: 'P1' });
  });

  it('writes the ExternalSyncStale threshold (5 minutes) exactly once, as the text the chart replaces', async () => {
    const text = await readFile(RULES_FILE, 'utf8');
    expect(text.split(STALE_THRESHOLD_TOKEN)).toHaveLength(2);
    expect(rules.find((rule) => rule.name === 'tenant_source:external_sync_lag_seconds:stale')?.query).toBe(
      'tenant_source:external_sync_lag_seconds > 5 * 60',
    );
  });

  it('reads only metrics the BFF exports and rules the file records', async () => {
    const exported = await exportedMetricNames();
    const recorded = new Set(rules.filter((rule) => rule.type === 'recording').map((rule) => rule.name));
    const used = new Set(rules.flatMap((rule) => metricNamesIn(rule.query)));
    expect([...used].filter((name) => !exported.has(name) && !recorded.has(name))).toEqual([]);
    expect([...used]).toEqual(
      expect.arrayContaining(['up', 'http_request_duration_seconds_bucket', 'http_requests_total', 'external_sync_last_ts_seconds', 'external_sync_runs_total', 'external_sync_errors_total']),
    );
  });
});

/** The ```promql blocks of a Markdown file, one expression each. */
function promqlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```promql\n([\s\S]*?)```/g)].map((match) => (match[1] ?? '').trim());
}

/** Fails unless promtool parses every expression (as recording rules; JSON is YAML). */
async function expectValidPromql(exprs: readonly string[], name: string): Promise<void> {
  const file = join(workDir, `${name}.rules.json`);
  await writeFile(file, JSON.stringify({ groups: [{ name, rules: exprs.map((expr, i) => ({ record: `${name}:query_${i}`, expr })) }] }));
  const result = await runCommand(requireTool('promtool'), ['check', 'rules', file]);
  expect(result.stdout + result.stderr, name).toContain('SUCCESS');
  expect(result.code, name).toBe(0);
}

describe('the runbooks', () => {
  it('are one per alert, in docs/runbooks/<alertname>.md, each with Meaning, Impact, Diagnosis and Mitigation', async () => {
    const files = (await readdir(RUNBOOKS_DIR)).filter((file) => file.endsWith('.md')).sort();
    expect(files).toEqual(alerts.map((alert) => `${alert.name}.md`).sort());
    for (const file of files) {
      const text = await readFile(join(RUNBOOKS_DIR, file), 'utf8');
      expect(text.split('\n')[0], file).toBe(`# ${file.replace(/\.md$/, '')}`);
      const headings = text.split('\n').filter((line) => line.startsWith('## '));
      expect(headings, file).toEqual(['## Meaning', '## Impact', '## Diagnosis', '## Mitigation']);
    }
  });

  it('and docs/OBSERVABILITY.md give only valid PromQL over metrics the BFF exports or the rules record', async () => {
    const exported = await exportedMetricNames();
    const recorded = new Set(rules.filter((rule) => rule.type === 'recording').map((rule) => rule.name));
    const files = [...(await readdir(RUNBOOKS_DIR)).filter((file) => file.endsWith('.md')).map((file) => join(RUNBOOKS_DIR, file)), join(root, 'docs/OBSERVABILITY.md')];
    for (const file of files) {
      const exprs = promqlBlocks(await readFile(file, 'utf8'));
      expect(exprs.length, file).toBeGreaterThan(0);
      await expectValidPromql(exprs, file.replace(/^.*\//, '').replace(/\W/g, '_'));
      const unknown = exprs.flatMap((expr) => metricNamesIn(expr)).filter((name) => !exported.has(name) && !recorded.has(name));
      expect(unknown, file).toEqual([]);
    }
  });
});

describe('the Alertmanager routing example', () => {
  const routeOf = async (labels: Record<string, string>) => {
    const args = ['config', 'routes', 'test', `--config.file=${ALERTMANAGER_CONFIG}`, ...Object.entries(labels).map(([key, value]) => `${key}=${value}`)];
    const result = await runCommand(requireTool('amtool'), args);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout.trim();
  };

  it('passes amtool check-config', async () => {
    const result = await runCommand(requireTool('amtool'), ['check-config', ALERTMANAGER_CONFIG]);
    expect(result.stdout).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });

  it.each([
    [{ alertname: 'ExternalSyncStale', severity: 'ticket', service: 'bff-accounting', tenant: 'pilot-a', source: 'bank_sbx' }, 'ticket'],
    [{ alertname: 'ExternalSyncStaleP1', severity: 'page', priority: 'P1', service: 'bff-accounting', tenant: 'pilot-a', source: 'bank_sbx' }, 'pager'],
    [{ alertname: 'BffHighErrorRate', severity: 'page', service: 'bff-accounting', job: 'bff-accounting' }, 'pager'],
    [{ alertname: 'BffHighLatencyP95', severity: 'ticket', service: 'bff-accounting', job: 'bff-accounting' }, 'ticket'],
    [{ alertname: 'SomethingElse' }, 'ticket'],
  ])('routes %o to %s (amtool config routes test)', async (labels, receiver) => {
    expect(await routeOf(labels)).toBe(receiver);
  });

  it('routes every alert of the rules file by its severity: page to the pager, ticket to tickets', async () => {
    const routed = await Promise.all(alerts.map(async (alert) => [alert.name, await routeOf({ alertname: alert.name, ...alert.labels })]));
    expect(Object.fromEntries(routed)).toEqual(Object.fromEntries(alerts.map((alert) => [alert.name, alert.labels?.severity === 'page' ? 'pager' : 'ticket'])));
  });

  it('inhibits ExternalSyncStale under ExternalSyncStaleP1 for the same source only, and the slow burn under the fast one', async () => {
    const dir = await mkdtemp(join(workDir, 'alertmanager-'));
    const alertmanager = await startAlertmanager(ALERTMANAGER_CONFIG, dir);
    try {
      const common = { service: 'bff-accounting', job: 'bff-accounting' };
      const posted = [
        { alertname: 'ExternalSyncStaleP1', severity: 'page', priority: 'P1', tenant: 'pilot-a', source: 'bank_sbx' },
        { alertname: 'ExternalSyncStale', severity: 'ticket', tenant: 'pilot-a', source: 'bank_sbx' },
        { alertname: 'ExternalSyncStale', severity: 'ticket', tenant: 'default', source: 'bank_sbx' },
        { alertname: 'BffErrorBudgetBurnFast', severity: 'page' },
        { alertname: 'BffErrorBudgetBurnSlow', severity: 'ticket' },
      ].map((labels) => ({ labels: { ...common, ...labels } }));
      const res = await fetch(`${alertmanager.url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(posted) });
      expect(res.status).toBe(200);

      const expected = {
        'ExternalSyncStaleP1 pilot-a': 'active',
        'ExternalSyncStale pilot-a': 'suppressed',
        'ExternalSyncStale default': 'active',
        'BffErrorBudgetBurnFast -': 'active',
        'BffErrorBudgetBurnSlow -': 'suppressed',
      };
      let states: Record<string, string> = {};
      for (let attempt = 0; attempt < 50; attempt += 1) {
        const listed = (await (await fetch(`${alertmanager.url}/api/v2/alerts`)).json()) as { labels: Record<string, string>; status: { state: string } }[];
        states = Object.fromEntries(listed.map((alert) => [`${alert.labels.alertname} ${alert.labels.tenant ?? '-'}`, alert.status.state]));
        if (JSON.stringify(Object.entries(states).sort()) === JSON.stringify(Object.entries(expected).sort())) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(states).toEqual(expected);
    } finally {
      await alertmanager.stop();
    }
  });
});

describe('the Grafana dashboard', () => {
  interface Panel {
    type: string;
    title: string;
    targets?: { expr: string; datasource: { uid: string } }[];
  }

  it('shows p95 latency, 5xx ratio, requests by route, sync lag per source, sync error ratio and policy denials', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { uid: string; panels: Panel[] };
    expect(dashboard.uid).toBe('bff-accounting');
    const titles = dashboard.panels.filter((panel) => panel.type !== 'row').map((panel) => panel.title);
    expect(titles).toEqual(
      expect.arrayContaining(['p95 latency', '5xx ratio', 'Requests per second by route', 'Sync lag per tenant/source', 'Sync error ratio (1 day)', 'Policy denials by reason']),
    );
    const denials = dashboard.panels.find((panel) => panel.title === 'Policy denials by reason');
    expect(denials?.targets?.[0]?.expr).toContain('shadow_deny');
  });

  it('queries only valid PromQL over metrics the BFF exports or the rules record, through the datasource variable', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: Panel[] };
    const targets = dashboard.panels.flatMap((panel) => panel.targets ?? []);
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) expect(target.datasource.uid).toBe('${datasource}');

    await expectValidPromql(
      targets.map((target) => target.expr),
      'dashboard',
    );

    const exported = await exportedMetricNames();
    const recorded = new Set(rules.filter((rule) => rule.type === 'recording').map((rule) => rule.name));
    const used = new Set(targets.flatMap((target) => metricNamesIn(target.expr)));
    expect([...used].filter((name) => !exported.has(name) && !recorded.has(name))).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(6);
  });
});
