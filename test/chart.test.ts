import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { ConfigMap, Service, ServiceAccount, type IConfigMap, type IService, type IServiceAccount } from 'kubernetes-models/v1';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1';
import { CronJob, Job, type ICronJob, type IJob } from 'kubernetes-models/batch/v1';
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget, type IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy, type INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PrometheusRule, ServiceMonitor, type IPrometheusRule, type IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { isMap, parse, parseAllDocuments, parseDocument, type YAMLMap } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { chartRenderer, helmTemplate, type RenderResult } from './helm-render/render.js';
import { loadConfig } from '../packages/bff-accounting/src/config.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const CHART = join(root, 'charts/bff-accounting');
const RELEASE = 'bff';
const NAMESPACE = 'accounting';
const NAME = 'bff-accounting';

type Values = Record<string, unknown>;
interface Container {
  name: string;
  image?: string;
  command?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: { readOnlyRootFilesystem?: boolean; runAsNonRoot?: boolean; allowPrivilegeEscalation?: boolean };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Probe {
  httpGet?: { path?: string; port: number | string };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface PodSpec {
  containers: Container[];
  volumes?: { name: string; emptyDir?: object }[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
}

/** Builds the kubernetes-models object for a rendered one; its validate() checks the Kubernetes schema. */
const MODELS: Record<string, (data: unknown) => { validate(): void }> = {
  'apps/v1 Deployment': (data) => new Deployment(data as IDeployment),
  'v1 Service': (data) => new Service(data as IService),
  'v1 ServiceAccount': (data) => new ServiceAccount(data as IServiceAccount),
  'v1 ConfigMap': (data) => new ConfigMap(data as IConfigMap),
  'batch/v1 CronJob': (data) => new CronJob(data as ICronJob),
  'batch/v1 Job': (data) => new Job(data as IJob),
  'autoscaling/v2 HorizontalPodAutoscaler': (data) => new HorizontalPodAutoscaler(data as IHorizontalPodAutoscaler),
  'policy/v1 PodDisruptionBudget': (data) => new PodDisruptionBudget(data as IPodDisruptionBudget),
  'networking.k8s.io/v1 NetworkPolicy': (data) => new NetworkPolicy(data as INetworkPolicy),
  'monitoring.coreos.com/v1 ServiceMonitor': (data) => new ServiceMonitor(data as IServiceMonitor),
  'monitoring.coreos.com/v1 PrometheusRule': (data) => new PrometheusRule(data as IPrometheusRule),
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

class Rendered {
  constructor(readonly objects: K8sObject[]) {}

  kinds(): string[] {
    return this.objects.map((o) => o.kind).sort();
  }

  find<T>(kind: string, name?: string): T {
    const found = this.objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
    expect(found, `one ${kind}${name ? ` ${name}` : ''}`).toHaveLength(1);
    return found[0] as T;
  }

  has(kind: string): boolean {
    return this.objects.some((o) => o.kind === kind);
  }

  deployment(): IDeployment {
    return this.find<IDeployment>('Deployment', NAME);
  }

  bff(): Container {
    return container(this.deployment().spec?.template.spec as PodSpec, NAME);
  }

  cronJob(): ICronJob {
    return this.find<ICronJob>('CronJob', `${NAME}-sync-external`);
  }

  worker(): Container {
    return container(this.cronJob().spec?.jobTemplate.spec?.template.spec as PodSpec, 'sync-external');
  }

  migrationJob(): IJob {
    return this.find<IJob>('Job', `${NAME}-migrate`);
  }

  migrator(): Container {
    return container(this.migrationJob().spec?.template.spec as PodSpec, 'migrate');
  }
}

function container(pod: PodSpec | undefined, name: string): Container {
  const found = pod?.containers.find((c) => c.name === name);
  expect(found, `container ${name}`).toBeDefined();
  return found as Container;
}

/** The container's environment as name -> value, or -> "secret:<name>/<key>" for a Secret reference. */
function envOf(c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of c.env ?? []) {
    expect(env, `${variable.name} set once`).not.toHaveProperty(variable.name);
    const ref = variable.valueFrom?.secretKeyRef;
    env[variable.name] = ref ? `secret:${ref.name}/${ref.key}` : (variable.value ?? '');
  }
  return env;
}

function parseObjects(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    expect(doc.errors, 'rendered YAML parses').toEqual([]);
    const value = doc.toJS() as K8sObject | null;
    if (value !== null) objects.push(value);
  }
  return objects;
}

async function render(args: readonly string[]): Promise<RenderResult> {
  return helmTemplate(RELEASE, CHART, ['--namespace', NAMESPACE, ...args]);
}

async function renderOk(args: readonly string[]): Promise<Rendered> {
  const result = await render(args);
  expect(result.code, `helm template ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return new Rendered(parseObjects(result.stdout));
}

/** Helm's rule for user values over defaults: maps merge key by key, null removes a default. */
function coalesce(defaults: Values, user: Values): Values {
  const out: Values = { ...defaults };
  for (const [key, value] of Object.entries(user)) {
    const base = out[key];
    if (value === null) delete out[key];
    else if (isPlainObject(value) && isPlainObject(base)) out[key] = coalesce(base, value);
    else out[key] = value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Values {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(values: Values, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (isPlainObject(node) ? node[key] : undefined), values);
}

const SCENARIOS = [
  { name: 'default values', file: undefined },
  { name: 'ci/pilot-values.yaml', file: 'ci/pilot-values.yaml' },
  { name: 'ci/all-disabled-values.yaml', file: 'ci/all-disabled-values.yaml' },
  { name: 'ci/all-enabled-values.yaml', file: 'ci/all-enabled-values.yaml' },
] as const;
type ScenarioName = (typeof SCENARIOS)[number]['name'];

const rendered = new Map<ScenarioName, Rendered>();
const scenarioValues = new Map<ScenarioName, Values>();
let defaults: Values;
let rulesFile: { groups: { name: string; rules: Record<string, unknown>[] }[] };

beforeAll(async () => {
  await chartRenderer(); // real helm, or this project's renderer built once
  defaults = parse(await readFile(join(CHART, 'values.yaml'), 'utf8')) as Values;
  rulesFile = parse(await readFile(join(root, 'deploy/prometheus/rules/bff-accounting.rules.yml'), 'utf8')) as typeof rulesFile;
  await Promise.all(
    SCENARIOS.map(async ({ name, file }) => {
      rendered.set(name, await renderOk(file ? ['-f', join(CHART, file)] : []));
      const user = file ? ((parse(await readFile(join(CHART, file), 'utf8')) ?? {}) as Values) : {};
      scenarioValues.set(name, coalesce(defaults, user));
    }),
  );
}, 300_000);

const scenario = (name: ScenarioName): Rendered => rendered.get(name) as Rendered;

describe.each(SCENARIOS)('the chart rendered with $name', ({ name }) => {
  it('gives only objects that pass the Kubernetes (and prometheus-operator) schemas, all in namespace accounting', () => {
    const { objects } = scenario(name);
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      const model = MODELS[`${object.apiVersion} ${object.kind}`];
      expect(model, `a schema for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(() => model?.(object).validate(), `${object.kind} ${object.metadata.name}`).not.toThrow();
      expect(object.metadata.namespace, `${object.kind} ${object.metadata.name}`).toBe(NAMESPACE);
      expect(object.metadata.name.length).toBeLessThanOrEqual(object.kind === 'CronJob' ? 52 : 63);
    }
  });

  it('gives Deployment and Service bff-accounting on port 8081 named http, the Service selecting exactly the BFF pods', () => {
    const r = scenario(name);
    const deployment = r.deployment();
    const service = r.find<IService>('Service', NAME);
    expect(r.bff().ports).toEqual([{ name: 'http', containerPort: 8081, protocol: 'TCP' }]);
    expect(service.spec?.ports).toEqual([{ name: 'http', port: 8081, targetPort: 'http', protocol: 'TCP' }]);
    const podLabels = deployment.spec?.template.metadata?.labels ?? {};
    expect(podLabels).toMatchObject(service.spec?.selector ?? { missing: 'selector' });
    expect(deployment.spec?.selector.matchLabels).toEqual(service.spec?.selector);
    // The worker and migration pods must never receive API traffic.
    for (const kind of ['CronJob', 'Job']) {
      if (!r.has(kind)) continue;
      const object = r.find<ICronJob | IJob>(kind);
      const labels = object.kind === 'CronJob' ? object.spec?.jobTemplate.spec?.template.metadata?.labels : object.spec?.template.metadata?.labels;
      expect(labels, kind).not.toMatchObject(service.spec?.selector ?? {});
    }
  });

  it('probes /health (start-up, liveness) and /ready (readiness) on the http port', () => {
    const bff = scenario(name).bff();
    expect(bff.startupProbe?.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(bff.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(bff.readinessProbe?.httpGet).toEqual({ path: '/ready', port: 'http' });
  });

  it('runs every container as non-root on a read-only root filesystem, with an emptyDir on /tmp and no API token', () => {
    const r = scenario(name);
    const pods: PodSpec[] = [r.deployment().spec?.template.spec as PodSpec];
    if (r.has('CronJob')) pods.push(r.cronJob().spec?.jobTemplate.spec?.template.spec as PodSpec);
    if (r.has('Job')) pods.push(r.migrationJob().spec?.template.spec as PodSpec);
    for (const pod of pods) {
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.volumes).toContainEqual(expect.objectContaining({ name: 'tmp', emptyDir: expect.any(Object) }));
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
        expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      }
    }
  });

  it('gives the pod longer to stop than the app\'s shutdown delay plus drain, and a delay longer than readiness takes to fail', () => {
    const r = scenario(name);
    const bff = r.bff();
    const env = envOf(bff);
    const delayMs = Number(env.SHUTDOWN_DELAY_MS);
    const graceMs = Number(env.SHUTDOWN_GRACE_MS);
    expect(delayMs).toBeGreaterThan(0);
    expect(graceMs).toBeGreaterThan(0);
    const pod = r.deployment().spec?.template.spec as PodSpec;
    expect((pod.terminationGracePeriodSeconds ?? 0) * 1000).toBeGreaterThan(delayMs + graceMs);
    const readiness = bff.readinessProbe as Probe;
    expect(delayMs).toBeGreaterThan((readiness.periodSeconds ?? 10) * (readiness.failureThreshold ?? 3) * 1000);
  });

  it('runs the BFF on PostgreSQL from a Secret, with the OS_* policy settings of the values, and no secret as a plain value', () => {
    const r = scenario(name);
    const values = scenarioValues.get(name) as Values;
    const containers = [r.bff(), ...(r.has('CronJob') ? [r.worker()] : []), ...(r.has('Job') ? [r.migrator()] : [])];
    for (const c of containers) {
      const env = envOf(c);
      expect(env.USE_PG).toBe('1');
      expect(env.DATABASE_URL).toBe(`secret:${String(at(values, 'database.existingSecret'))}/${String(at(values, 'database.secretKey'))}`);
      expect(env.OS_POLICY_BRIDGE_ENFORCE).toBe(String(at(values, 'env.OS_POLICY_BRIDGE_ENFORCE')));
      expect(env.OS_ROLE_MAP_JSON).toBe(at(values, 'env.OS_ROLE_MAP_JSON'));
      const allowlist = (at(values, 'env.OS_TENANT_ALLOWLIST_JSON') as string) || (Array.isArray(values.pilotTenants) ? JSON.stringify(values.pilotTenants) : undefined);
      expect(env.OS_TENANT_ALLOWLIST_JSON).toBe(allowlist);
      for (const variable of c.env ?? []) {
        if (/TOKEN|SECRET|DATABASE_URL|WEBHOOK/.test(variable.name)) expect(variable.valueFrom?.secretKeyRef, variable.name).toBeDefined();
      }
    }
    // Only the worker calls the bank: the BFF pods never hold its token.
    expect(envOf(r.bff())).not.toHaveProperty('BANK_SBX_TOKEN');
  });

  it('uses one image, the values\' repository and tag, for the BFF, the worker and the migrations', () => {
    const r = scenario(name);
    const values = scenarioValues.get(name) as Values;
    const image = `${String(at(values, 'image.repository'))}:${String(at(values, 'image.tag') || '0.1.0')}`;
    expect(r.bff().image).toBe(image);
    if (r.has('CronJob')) expect(r.worker().image).toBe(image);
    if (r.has('Job')) expect(r.migrator().image).toBe(image);
  });
});

describe('the sync CronJob', () => {
  it.each(['default values', 'ci/pilot-values.yaml'] as const)('runs scripts/worker_sync_external.mjs every 5 minutes, one at a time, with the seeds\' settings (%s)', (name) => {
    const r = scenario(name);
    const cron = r.cronJob();
    expect(cron.spec?.schedule).toBe('*/5 * * * *');
    expect(cron.spec?.concurrencyPolicy).toBe('Forbid');
    expect(cron.spec?.successfulJobsHistoryLimit).toBe(3);
    expect(cron.spec?.failedJobsHistoryLimit).toBe(3);
    expect(cron.spec?.startingDeadlineSeconds).toBeGreaterThan(0);
    const job = cron.spec?.jobTemplate.spec;
    expect(job?.backoffLimit).toBe(0);
    expect((job?.template.spec as PodSpec).restartPolicy).toBe('Never');
    const worker = r.worker();
    expect(worker.command).toEqual(['node', 'scripts/worker_sync_external.mjs']);
    const env = envOf(worker);
    expect(env).toMatchObject({
      SYNC_SINCE_DAYS: '7',
      BANK_SBX_TOKEN: 'secret:bank-sbx-secret/TOKEN',
      BANK_SBX_BASE: 'https://sandbox.example-bank.com',
    });
    // The worker stops itself at its deadline, before Kubernetes kills it, before the next run is due.
    const deadline = Number(env.SYNC_DEADLINE_SECONDS);
    expect(deadline).toBe(240);
    expect(job?.activeDeadlineSeconds).toBeGreaterThan(deadline);
    expect(job?.activeDeadlineSeconds).toBeLessThan(300);
    // No Pushgateway unless one is given.
    expect(env.PUSHGATEWAY_URL).toBeUndefined();
  });

  it('seeds the pilot tenants\' bank connections in the BFF and the worker', () => {
    const r = scenario('ci/pilot-values.yaml');
    const connections = JSON.stringify({ default: 'conn_default', 'pilot-a': 'conn_pilot_a' });
    expect(envOf(r.bff()).BANK_SBX_CONNECTIONS_JSON).toBe(connections);
    expect(envOf(r.worker()).BANK_SBX_CONNECTIONS_JSON).toBe(connections);
    expect(r.bff().image).toBe('ghcr.io/tristan00037-tristan050/tristan050-ai_ondevice_APP/bff-accounting:r7-h-pilot-20251203');
  });

  it('renders a tenant with several bank connections as an array in BANK_SBX_CONNECTIONS_JSON', () => {
    const r = scenario('ci/all-enabled-values.yaml');
    const connections = JSON.stringify({ default: 'conn_default', 'pilot-a': ['conn_pilot_a', 'conn_pilot_a_savings'] });
    expect(envOf(r.bff()).BANK_SBX_CONNECTIONS_JSON).toBe(connections);
    expect(envOf(r.worker()).BANK_SBX_CONNECTIONS_JSON).toBe(connections);
  });

  it('takes its time zone, start window and Pushgateway from the values', () => {
    const r = scenario('ci/all-enabled-values.yaml');
    expect(r.cronJob().spec?.timeZone).toBe('Asia/Seoul');
    expect(envOf(r.worker()).SYNC_SINCE_DAYS).toBe('30');
    expect(envOf(r.worker()).PUSHGATEWAY_URL).toBe('http://pushgateway.monitoring:9091');
  });
});

describe('the migration Job', () => {
  it.each(['default values', 'ci/pilot-values.yaml', 'ci/all-enabled-values.yaml'] as const)('runs dist/migrate.js as a pre-install and pre-upgrade hook (%s)', (name) => {
    const job = scenario(name).migrationJob();
    expect(job.metadata?.annotations).toMatchObject({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-delete-policy': 'before-hook-creation,hook-succeeded',
    });
    expect(scenario(name).migrator().command).toEqual(['node', 'packages/bff-accounting/dist/migrate.js']);
    expect((job.spec?.template.spec as PodSpec).restartPolicy).toBe('Never');
    expect(job.spec?.activeDeadlineSeconds).toBeGreaterThan(0);
  });

  it('alone receives the owner role\'s MIGRATION_DATABASE_URL (optional: without it, it migrates as the role of DATABASE_URL)', () => {
    const r = scenario('default values');
    expect(envOf(r.migrator())).toMatchObject({
      DATABASE_URL: 'secret:bff-accounting-db/DATABASE_URL',
      MIGRATION_DATABASE_URL: 'secret:bff-accounting-db/MIGRATION_DATABASE_URL',
    });
    const ref = r.migrator().env?.find((variable) => variable.name === 'MIGRATION_DATABASE_URL')?.valueFrom?.secretKeyRef;
    expect(ref?.optional).toBe(true);
    expect(envOf(r.bff())).not.toHaveProperty('MIGRATION_DATABASE_URL');
    expect(envOf(r.worker())).not.toHaveProperty('MIGRATION_DATABASE_URL');
  });

  it('reads the owner role\'s URL from its own Secret when database.migrationSecretName is set', async () => {
    const r = await renderOk(['--set', 'database.migrationSecretName=bff-accounting-db-owner', '--set', 'database.migrationSecretKey=URL']);
    expect(envOf(r.migrator()).MIGRATION_DATABASE_URL).toBe('secret:bff-accounting-db-owner/URL');
  });
});

describe('the NetworkPolicy', () => {
  it.each(['default values', 'ci/pilot-values.yaml', 'ci/all-enabled-values.yaml'] as const)('admits only the gateway (and Prometheus) to the BFF pods, on port 8081 only (%s)', (name) => {
    const r = scenario(name);
    const values = scenarioValues.get(name) as Values;
    const policy = r.find<INetworkPolicy>('NetworkPolicy', NAME);
    expect(policy.spec?.podSelector).toEqual(r.deployment().spec?.selector);
    expect(policy.spec?.policyTypes).toEqual(['Ingress']);
    const rules = policy.spec?.ingress ?? [];
    expect(rules.map((rule) => rule.from)).toEqual([
      [{ namespaceSelector: at(values, 'networkPolicy.gateway.namespaceSelector'), podSelector: at(values, 'networkPolicy.gateway.podSelector') }],
      [{ namespaceSelector: at(values, 'networkPolicy.metrics.namespaceSelector'), podSelector: at(values, 'networkPolicy.metrics.podSelector') }],
    ]);
    for (const rule of rules) expect(rule.ports).toEqual([{ port: 8081, protocol: 'TCP' }]);
  });

  it('admits only the gateway when Prometheus is not admitted', async () => {
    const r = await renderOk(['--set', 'networkPolicy.metrics.enabled=false']);
    const rules = r.find<INetworkPolicy>('NetworkPolicy', NAME).spec?.ingress ?? [];
    expect(rules).toEqual([{ from: [{ namespaceSelector: at(defaults, 'networkPolicy.gateway.namespaceSelector'), podSelector: at(defaults, 'networkPolicy.gateway.podSelector') }], ports: [{ port: 8081, protocol: 'TCP' }] }]);
  });
});

describe('the monitoring objects', () => {
  it('scrape /metrics on the http port of the Service, whose app.kubernetes.io/name label gives job="bff-accounting"', () => {
    const r = scenario('ci/pilot-values.yaml');
    const monitor = r.find<IServiceMonitor>('ServiceMonitor', NAME);
    const service = r.find<IService>('Service', NAME);
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    expect(monitor.spec.jobLabel).toBeDefined();
    expect(service.metadata?.labels?.[monitor.spec.jobLabel ?? '']).toBe('bff-accounting');
    expect(service.metadata?.labels).toMatchObject(monitor.spec.selector.matchLabels ?? { missing: 'selector' });
    expect(monitor.spec.namespaceSelector?.matchNames).toEqual([NAMESPACE]);
  });

  it('embed the rules file\'s groups unchanged with the default threshold', () => {
    const rule = scenario('ci/pilot-values.yaml').find<IPrometheusRule>('PrometheusRule', NAME);
    expect(rule.spec.groups).toEqual(rulesFile.groups);
  });

  it('replace the ExternalSyncStale threshold and the runbook base URL from the values, and tell the BFF the same threshold', () => {
    const r = scenario('ci/all-enabled-values.yaml');
    const rules = (r.find<IPrometheusRule>('PrometheusRule', NAME).spec.groups ?? []).flatMap((group) => group.rules ?? []);
    expect(rules.find((rule) => rule.record === 'tenant_source:external_sync_lag_seconds:stale')?.expr).toBe('tenant_source:external_sync_lag_seconds > 10 * 60');
    const alerts = rules.filter((rule) => rule.alert);
    expect(alerts.map((rule) => rule.alert)).toEqual(expect.arrayContaining(['ExternalSyncStale', 'ExternalSyncStaleP1', 'BffHighErrorRate', 'BffHighLatencyP95']));
    for (const alert of alerts) {
      expect(alert.annotations?.runbook_url).toBe(`https://github.com/example/accounting/blob/main/docs/runbooks/${String(alert.alert)}.md`);
    }
    expect(envOf(r.bff()).EXTERNAL_SYNC_STALE_MINUTES).toBe('10');
    expect(r.find<IPrometheusRule>('PrometheusRule', NAME).metadata?.labels?.release).toBe('kube-prometheus-stack');
  });

  it('leave ExternalSyncStale and its P1 out, and everything else in, when alerts.ExternalSyncStale.enabled is false', async () => {
    const r = await renderOk(['--set', 'alerts.ExternalSyncStale.enabled=false']);
    const names = (r.find<IPrometheusRule>('PrometheusRule', NAME).spec.groups ?? []).flatMap((group) => group.rules ?? []).map((rule) => rule.alert ?? rule.record);
    const expected = rulesFile.groups.flatMap((group) => group.rules).map((rule) => rule.alert ?? rule.record).filter((n) => n !== 'ExternalSyncStale' && n !== 'ExternalSyncStaleP1');
    expect(names).toEqual(expected);
    expect(names).toContain('tenant_source:external_sync_lag_seconds:stale');
  });

  it('ship the Grafana dashboard unchanged in a ConfigMap for the sidecar', async () => {
    const map = scenario('ci/all-enabled-values.yaml').find<IConfigMap>('ConfigMap', `${NAME}-dashboard`);
    expect(map.metadata?.labels?.grafana_dashboard).toBe('1');
    expect(map.metadata?.annotations?.grafana_folder).toBe('accounting');
    expect(JSON.parse(map.data?.['bff-accounting.json'] ?? '')).toEqual(JSON.parse(await readFile(join(root, 'deploy/grafana/bff-accounting-dashboard.json'), 'utf8')));
  });

  it('are copies of deploy/ that have not drifted (copy the files into charts/bff-accounting/files/ after changing them)', async () => {
    expect(await readFile(join(CHART, 'files/bff-accounting.rules.yml'), 'utf8')).toBe(await readFile(join(root, 'deploy/prometheus/rules/bff-accounting.rules.yml'), 'utf8'));
    expect(await readFile(join(CHART, 'files/dashboard.json'), 'utf8')).toBe(await readFile(join(root, 'deploy/grafana/bff-accounting-dashboard.json'), 'utf8'));
  });
});

describe('the optional parts', () => {
  it('all off: only the Deployment and the Service render, with no tenant allowlist and the default ServiceAccount', () => {
    const r = scenario('ci/all-disabled-values.yaml');
    expect(r.kinds()).toEqual(['Deployment', 'Service']);
    expect(envOf(r.bff())).not.toHaveProperty('OS_TENANT_ALLOWLIST_JSON');
    expect(envOf(r.bff())).not.toHaveProperty('BANK_SBX_BASE');
    expect(envOf(r.bff())).not.toHaveProperty('AUDIT_CHAIN_KEY');
    for (const name of ['RECON_AUTO_MATCH_LIMITS_JSON', 'RECON_HOLIDAYS_JSON', 'RECON_FEE_RULES_JSON']) expect(envOf(r.bff())).not.toHaveProperty(name);
    expect((r.deployment().spec?.template.spec as PodSpec).serviceAccountName).toBe('default');
    expect(r.deployment().spec?.replicas).toBe(2);
  });

  it('all on: every object renders, the HPA owns the replica count, and every secret is a reference', () => {
    const r = scenario('ci/all-enabled-values.yaml');
    expect(new Set(r.kinds())).toEqual(new Set(Object.keys(MODELS).map((key) => key.split(' ')[1])));
    const hpa = r.find<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler', NAME);
    expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: NAME });
    expect([hpa.spec?.minReplicas, hpa.spec?.maxReplicas]).toEqual([3, 8]);
    expect(r.deployment().spec).not.toHaveProperty('replicas');
    expect(r.find<IPodDisruptionBudget>('PodDisruptionBudget', NAME).spec?.selector).toEqual(r.deployment().spec?.selector);

    const bff = r.bff();
    const env = envOf(bff);
    expect(env).toMatchObject({
      EXPORT_SIGN_SECRET: 'secret:bff-accounting-export-signing/EXPORT_SIGN_SECRET',
      EXPORT_SIGN_SECRET_PREV: 'secret:bff-accounting-export-signing/EXPORT_SIGN_SECRET_PREV',
      FEEDBACK_WEBHOOK_URL: 'secret:bff-accounting-feedback/FEEDBACK_WEBHOOK_URL',
      RECON_AUTO_MATCH_LIMITS_JSON: '{"default":{"KRW":"1000000"}}',
      RECON_HOLIDAYS_JSON: '{"default":{"KRW":["2026-12-31","2027-01-04"]}}',
      RECON_FEE_RULES_JSON: '{"default":{"KRW":{"max":"2000","min":"500"}}}',
      OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a","pilot-b"]',
      SHUTDOWN_DELAY_MS: '8000',
      SHUTDOWN_GRACE_MS: '15000',
      LOG_LEVEL: 'debug',
      BACKOFFICE_BASE_URL: 'https://backoffice.example.com/',
    });
    // The previous signing key exists only during a rotation.
    expect(bff.env?.find((v) => v.name === 'EXPORT_SIGN_SECRET_PREV')?.valueFrom?.secretKeyRef?.optional).toBe(true);
    expect(bff.env?.find((v) => v.name === 'EXPORT_SIGN_SECRET')?.valueFrom?.secretKeyRef?.optional).toBeUndefined();
    expect((r.deployment().spec?.template.spec as PodSpec).terminationGracePeriodSeconds).toBe(28);
    for (const c of [bff, r.worker(), r.migrator()]) expect(envOf(c).SYNC_PAGE_SIZE).toBe('200');
    // Every container chains audit events (the migrations chain rows older than the chain), from one Secret.
    for (const c of [bff, r.worker(), r.migrator()]) {
      expect(envOf(c)).toMatchObject({
        AUDIT_CHAIN_KEY: 'secret:bff-accounting-audit-chain/AUDIT_CHAIN_KEY',
        AUDIT_CHAIN_KEY_PREV: 'secret:bff-accounting-audit-chain/AUDIT_CHAIN_KEY_PREV',
      });
      expect(c.env?.find((v) => v.name === 'AUDIT_CHAIN_KEY_PREV')?.valueFrom?.secretKeyRef?.optional).toBe(true);
      expect(c.env?.find((v) => v.name === 'AUDIT_CHAIN_KEY')?.valueFrom?.secretKeyRef?.optional).toBeUndefined();
    }
    expect((r.migrationJob().spec?.template.spec as PodSpec).serviceAccountName).toBe('bff-accounting-migrate');
  });
});

describe('the tenant allowlist on the command line (helm splits --set on unescaped commas)', () => {
  const allowlist = async (args: string[]) => envOf((await renderOk(args)).bff()).OS_TENANT_ALLOWLIST_JSON;

  it('refuses the checklist\'s unescaped form: the comma ends the value, and the rest has no key', async () => {
    // What the shell passes for --set env.OS_TENANT_ALLOWLIST_JSON='["default","pilot-a"]'
    const result = await render(['--set', 'env.OS_TENANT_ALLOWLIST_JSON=["default","pilot-a"]']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('has no value');
  });

  it.each([
    ['--set with the comma escaped', ['--set', 'env.OS_TENANT_ALLOWLIST_JSON=["default"\\,"pilot-a"]']],
    ['--set with the quotes and the comma escaped (the issue\'s form)', ['--set', 'env.OS_TENANT_ALLOWLIST_JSON=[\\"default\\"\\,\\"pilot-a\\"]']],
    ['--set-string with the comma escaped', ['--set-string', 'env.OS_TENANT_ALLOWLIST_JSON=["default"\\,"pilot-a"]']],
    ['--set-literal, which takes the value as it is', ['--set-literal', 'env.OS_TENANT_ALLOWLIST_JSON=["default","pilot-a"]']],
    ['--set-json with a JSON string', ['--set-json', 'env.OS_TENANT_ALLOWLIST_JSON="[\\"default\\",\\"pilot-a\\"]"']],
    ['--set-json of pilotTenants', ['--set-json', 'pilotTenants=["default","pilot-a"]']],
    ['--set of pilotTenants as a {list}', ['--set', 'pilotTenants={default,pilot-a}']],
  ])('gives ["default","pilot-a"] with %s', async (_, args) => {
    expect(await allowlist(['--set', 'pilotTenants={other}', ...args])).toBe('["default","pilot-a"]');
  });

  it('lets env.OS_TENANT_ALLOWLIST_JSON win over pilotTenants, and pilotTenants=null lift the restriction', async () => {
    expect(await allowlist(['--set-string', 'env.OS_TENANT_ALLOWLIST_JSON=["pilot-b"]'])).toBe('["pilot-b"]');
    expect(await allowlist(['--set', 'pilotTenants=null'])).toBeUndefined();
    expect(await allowlist(['--set-json', 'pilotTenants=[]'])).toBe('[]');
  });

  it('takes the checklist\'s image flags as given', async () => {
    const r = await renderOk(['--set', 'image.tag=r7-h-pilot-20251203', '--set', 'image.repository=ghcr.io/tristan00037-tristan050/tristan050-ai_ondevice_APP/bff-accounting']);
    expect(r.bff().image).toBe('ghcr.io/tristan00037-tristan050/tristan050-ai_ondevice_APP/bff-accounting:r7-h-pilot-20251203');
  });
});

describe('the identity settings (auth)', () => {
  const containersOf = (r: Rendered) => [r.bff(), ...(r.has('CronJob') ? [r.worker()] : []), ...(r.has('Job') ? [r.migrator()] : [])];
  const authEnv = (c: Container) => Object.fromEntries(Object.entries(envOf(c)).filter(([name]) => name.startsWith('AUTH_')));

  it.each(SCENARIOS.map((s) => s.name))('runs every container with NODE_ENV=production (%s)', (name) => {
    for (const c of containersOf(scenario(name))) expect(envOf(c).NODE_ENV, c.name).toBe('production');
  });

  it('renders no AUTH_MODE while auth.mode is empty, so the app refuses to start until one is chosen', () => {
    for (const c of containersOf(scenario('default values'))) expect(authEnv(c), c.name).toEqual({});
  });

  it('renders without an auth block at all (helm upgrade --reuse-values from an older release)', async () => {
    expect(authEnv((await renderOk(['--set', 'auth=null'])).bff())).toEqual({});
  });

  it('renders AUTH_MODE=headers alone for the pilot behind its gateway', () => {
    for (const c of containersOf(scenario('ci/pilot-values.yaml'))) expect(authEnv(c), c.name).toEqual({ AUTH_MODE: 'headers' });
  });

  it('renders the whole jwt block into the BFF, the worker and the migrations', () => {
    for (const c of containersOf(scenario('ci/all-enabled-values.yaml'))) {
      expect(authEnv(c), c.name).toEqual({
        AUTH_MODE: 'jwt',
        AUTH_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
        AUTH_ISSUER: 'https://idp.example.com/',
        AUTH_AUDIENCE: 'bff-accounting',
        AUTH_ALGORITHMS: 'RS256,ES256',
        AUTH_CLOCK_SKEW_SECONDS: '60',
        AUTH_TENANT_CLAIM: 'https://accounting.example.com/tenant',
        AUTH_ROLE_CLAIM: 'accounting_role',
        AUTH_USER_CLAIM: 'email',
      });
    }
  });

  it('reads AUTH_PUBLIC_KEY from a Secret instead of a JWKS URL, with the default claims and skew', async () => {
    const r = await renderOk([
      '--set', 'auth.mode=jwt',
      '--set', 'auth.publicKey.secretName=idp-public-key',
      '--set', 'auth.issuer=https://idp.example.com/',
      '--set', 'auth.audience=bff-accounting',
    ]);
    expect(authEnv(r.bff())).toEqual({
      AUTH_MODE: 'jwt',
      AUTH_PUBLIC_KEY: 'secret:idp-public-key/AUTH_PUBLIC_KEY',
      AUTH_ISSUER: 'https://idp.example.com/',
      AUTH_AUDIENCE: 'bff-accounting',
      AUTH_CLOCK_SKEW_SECONDS: '30',
      AUTH_TENANT_CLAIM: 'tenant',
      AUTH_ROLE_CLAIM: 'role',
      AUTH_USER_CLAIM: 'sub',
    });
  });

  const jwt = ['--set', 'auth.mode=jwt', '--set', 'auth.jwksUrl=https://idp.example.com/jwks', '--set', 'auth.issuer=https://idp.example.com/', '--set', 'auth.audience=bff'];
  it('renders a clock skew of 0 as 0, not as the default', async () => {
    const r = await renderOk([...jwt, '--set', 'auth.clockSkewSeconds=0']);
    expect(envOf(r.bff()).AUTH_CLOCK_SKEW_SECONDS).toBe('0');
  });

  it.each([
    ['jwt without an issuer', [...jwt, '--set', 'auth.issuer='], 'auth.issuer'],
    ['jwt without an audience', [...jwt, '--set', 'auth.audience='], 'auth.audience'],
    ['jwt without a key source', [...jwt, '--set', 'auth.jwksUrl='], 'auth.jwksUrl'],
    ['jwt with both key sources', [...jwt, '--set', 'auth.publicKey.secretName=idp-key'], 'not both'],
  ])('refuses %s, naming the value', async (_, args, mention) => {
    const result = await render(args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(mention);
  });
});

describe('values the chart refuses to render', () => {
  it.each([
    ['a bank token as a plain value', ['--set', 'env.BANK_SBX_TOKEN=abc'], 'BANK_SBX_TOKEN'],
    ['the sync CronJob without the bank adapter', ['--set', 'adapters.bankSbx.enabled=false'], 'adapters.bankSbx.enabled'],
    ['a shutdown delay shorter than readiness takes to fail', ['--set', 'shutdown.delayMs=1000'], 'shutdown.delayMs'],
    ['a worker deadline Kubernetes would cut', ['--set', 'cronJobs.syncExternal.activeDeadlineSeconds=200'], 'activeDeadlineSeconds'],
    ['a NetworkPolicy peer that admits every pod', ['--set', 'networkPolicy.gateway.namespaceSelector=null', '--set', 'networkPolicy.gateway.podSelector=null'], 'networkPolicy.gateway'],
    ['no database Secret', ['--set', 'database.existingSecret='], 'database.existingSecret'],
  ])('refuses %s, naming the value', async (_, args, mention) => {
    const result = await render(args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(mention);
  });
});

describe('values.yaml and values.schema.json', () => {
  let validate: ValidateFunction;

  beforeAll(async () => {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    validate = ajv.compile(JSON.parse(await readFile(join(CHART, 'values.schema.json'), 'utf8')) as object);
  });

  const errorsFor = (user: Values): string => (validate(coalesce(defaults, user)) ? '' : JSON.stringify(validate.errors));

  it('carries the seeds\' keys with the seeds\' defaults', () => {
    expect(defaults).toMatchObject({
      env: { OS_POLICY_BRIDGE_ENFORCE: 'true', OS_ROLE_MAP_JSON: '{"viewer":"viewer","operator":"operator","auditor":"auditor","admin":"admin"}', OS_TENANT_ALLOWLIST_JSON: '', BANK_SBX_BASE: '', BANK_SBX_TOKEN: '' },
      pilotTenants: ['default', 'pilot-a'],
      adapters: { bankSbx: { enabled: true, base: 'https://sandbox.example-bank.com', tokenSecretName: 'bank-sbx-secret', tokenSecretKey: 'TOKEN' } },
      cronJobs: { syncExternal: { enabled: true, schedule: '*/5 * * * *', sinceDays: 7 } },
      alerts: { ExternalSyncStale: { enabled: true, thresholdMinutes: 5 } },
      image: { repository: 'ghcr.io/tristan00037-tristan050/tristan050-ai_ondevice_APP/bff-accounting', tag: '' },
    });
  });

  it('comments every value (a Kubernetes object passed through whole is commented once, at its key)', async () => {
    const doc = parseDocument(await readFile(join(CHART, 'values.yaml'), 'utf8'));
    const uncommented: string[] = [];
    const walk = (map: YAMLMap, path: string[], inherited: string | null | undefined) => {
      map.items.forEach((pair, index) => {
        const key = (pair.key as { value: unknown; commentBefore?: string | null }).value;
        const comment = (pair.key as { commentBefore?: string | null }).commentBefore ?? (index === 0 ? inherited : undefined);
        const here = [...path, String(key)];
        if (isMap(pair.value) && pair.value.items.length > 0) {
          const inner = pair.value;
          const innerCommented = inner.items.some((p, i) => (p.key as { commentBefore?: string | null }).commentBefore || (i === 0 && inner.commentBefore));
          if (comment && !innerCommented) return;
          walk(inner, here, inner.commentBefore);
        } else if (!comment) {
          uncommented.push(here.join('.'));
        }
      });
    };
    expect(isMap(doc.contents)).toBe(true);
    walk(doc.contents as YAMLMap, [], undefined);
    expect(uncommented).toEqual([]);
  });

  it.each([{ name: 'values.yaml', file: undefined }, ...SCENARIOS.filter((s) => s.file)])('accepts $name', async ({ file }) => {
    const user = file ? ((parse(await readFile(join(CHART, file), 'utf8')) ?? {}) as Values) : {};
    expect(errorsFor(user)).toBe('');
  });

  it.each([
    ['replicaCount as text', { replicaCount: 'two' }],
    ['cronJobs.syncExternal.sinceDays as text', { cronJobs: { syncExternal: { sinceDays: '7' } } }],
    ['cronJobs.syncExternal.schedule as a number', { cronJobs: { syncExternal: { schedule: 5 } } }],
    ['adapters.bankSbx.enabled as text', { adapters: { bankSbx: { enabled: 'yes' } } }],
    ['alerts.ExternalSyncStale.thresholdMinutes as text', { alerts: { ExternalSyncStale: { thresholdMinutes: '5' } } }],
    ['alerts.ExternalSyncStale.enabled as a number', { alerts: { ExternalSyncStale: { enabled: 1 } } }],
    ['env.OS_TENANT_ALLOWLIST_JSON as a list', { env: { OS_TENANT_ALLOWLIST_JSON: ['default'] } }],
    ['env.OS_TENANT_ALLOWLIST_JSON cut at a comma', { env: { OS_TENANT_ALLOWLIST_JSON: '["default"' } }],
    ['env.OS_POLICY_BRIDGE_ENFORCE as "yes"', { env: { OS_POLICY_BRIDGE_ENFORCE: 'yes' } }],
    ['env.BANK_SBX_TOKEN with a token', { env: { BANK_SBX_TOKEN: 'abc' } }],
    ['env.DATABASE_URL (a Secret, set by the chart)', { env: { DATABASE_URL: 'postgres://app:pw@db/app' } }],
    ['env.EXPORT_SIGN_SECRET (a Secret)', { env: { EXPORT_SIGN_SECRET: 'x'.repeat(32) } }],
    ['env.AUDIT_CHAIN_KEY (a Secret, from auditChain.existingSecret)', { env: { AUDIT_CHAIN_KEY: 'x'.repeat(32) } }],
    ['auditChain.existingSecret with a bad Secret name', { auditChain: { existingSecret: 'Audit Chain' } }],
    ['env.PORT (the chart\'s)', { env: { PORT: '9090' } }],
    ['env.PUSHGATEWAY_URL (the chart\'s, from cronJobs.syncExternal.pushgatewayUrl)', { env: { PUSHGATEWAY_URL: 'http://pushgateway:9091' } }],
    ['pilotTenants as one string', { pilotTenants: 'default,pilot-a' }],
    ['pilotTenants with a bad tenant id', { pilotTenants: ['Pilot A'] }],
    ['adapters.bankSbx.connections with a bad connection id', { adapters: { bankSbx: { connections: { default: 'conn default' } } } }],
    ['adapters.bankSbx.connections with a bad connection id in an array', { adapters: { bankSbx: { connections: { default: ['conn_ok', 'conn default'] } } } }],
    ['adapters.bankSbx.connections with an empty array', { adapters: { bankSbx: { connections: { default: [] } } } }],
    ['recon.autoMatchLimits with a number amount', { recon: { autoMatchLimits: { default: { KRW: 1000000 } } } }],
    ['recon.holidays with a date not YYYY-MM-DD', { recon: { holidays: { default: { KRW: ['31.12.2026'] } } } }],
    ['recon.holidays with a lower-case currency', { recon: { holidays: { default: { krw: ['2026-12-31'] } } } }],
    ['recon.holidays with a bad tenant id', { recon: { holidays: { 'Pilot A': { KRW: ['2026-12-31'] } } } }],
    ['recon.feeRules with number amounts', { recon: { feeRules: { default: { KRW: { min: 500, max: 2000 } } } } }],
    ['recon.feeRules with a negative amount', { recon: { feeRules: { default: { KRW: { min: '-500', max: '2000' } } } } }],
    ['recon.feeRules without max', { recon: { feeRules: { default: { KRW: { min: '500' } } } } }],
    ['recon.feeRules with an unknown key', { recon: { feeRules: { default: { KRW: { min: '500', max: '2000', fee: '1000' } } } } }],
    ['env.RECON_FEE_RULES_JSON (the chart\'s, from recon.feeRules)', { env: { RECON_FEE_RULES_JSON: '{}' } }],
    ['auth.mode other than headers or jwt', { auth: { mode: 'basic' } }],
    ['auth.algorithms with an HMAC algorithm', { auth: { algorithms: 'RS256,HS256' } }],
    ['auth.clockSkewSeconds as text', { auth: { clockSkewSeconds: '30' } }],
    ['env.AUTH_MODE (the chart\'s, from auth.mode)', { env: { AUTH_MODE: 'headers' } }],
    ['env.NODE_ENV (the chart\'s)', { env: { NODE_ENV: 'development' } }],
    ['a misspelt key', { cronJob: { syncExternal: { enabled: false } } }],
    ['a misspelt nested key', { adapters: { bankSbx: { tokenSecret: 'bank-sbx-secret' } } }],
  ])('rejects %s', (_, user) => {
    expect(errorsFor(user as Values)).not.toBe('');
  });

  it('accepts what --set types on its own: a boolean policy flag, a numeric image tag, numbers in env', () => {
    expect(errorsFor({ env: { OS_POLICY_BRIDGE_ENFORCE: false, SYNC_PAGE_SIZE: 200 }, image: { tag: 20251203 } })).toBe('');
  });

  it('renders recon.holidays and recon.feeRules as the JSON the BFF reads, and nothing when they are empty', async () => {
    const holidays = { default: { KRW: ['2026-12-31'] }, 'pilot-a': { KRW: [] } };
    const feeRules = { 'pilot-a': { KRW: { min: '500', max: '2000' } } };
    const r = await renderOk(['--set-json', `recon.holidays=${JSON.stringify(holidays)}`, '--set-json', `recon.feeRules=${JSON.stringify(feeRules)}`]);
    const env = envOf(r.bff());
    expect(JSON.parse(env.RECON_HOLIDAYS_JSON ?? '')).toEqual(holidays);
    expect(JSON.parse(env.RECON_FEE_RULES_JSON ?? '')).toEqual(feeRules);
    expect(loadConfig({ RECON_HOLIDAYS_JSON: env.RECON_HOLIDAYS_JSON, RECON_FEE_RULES_JSON: env.RECON_FEE_RULES_JSON }).recon).toMatchObject({ holidays, feeRules });
    expect(envOf(scenario('default values').bff())).not.toHaveProperty('RECON_HOLIDAYS_JSON');
    expect(envOf(scenario('default values').bff())).not.toHaveProperty('RECON_FEE_RULES_JSON');
  });

  it('renders a numeric image tag and a boolean policy flag as text', async () => {
    const r = await renderOk(['--set', 'image.tag=20251203', '--set', 'env.OS_POLICY_BRIDGE_ENFORCE=false']);
    expect(r.bff().image).toMatch(/:20251203$/);
    expect(envOf(r.bff()).OS_POLICY_BRIDGE_ENFORCE).toBe('false');
  });

  it('names in docs/DEPLOY.md only values the chart has', async () => {
    const guide = await readFile(join(root, 'docs/DEPLOY.md'), 'utf8');
    const keys = [...guide.matchAll(/--set(?:-string|-json|-literal)?[ =]['"]?([A-Za-z][\w.]*)=/g)].map((match) => match[1] ?? '');
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) {
      // A key of the chart, or a new key in one of its free-form maps (labels, env).
      const parent = key.split('.').slice(0, -1).join('.');
      expect(at(defaults, key) !== undefined || isPlainObject(at(defaults, parent)), key).toBe(true);
    }
  });
});
