import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CounterTally } from './CounterTally.js';
import { registerSyncMetrics, type SyncMetricsSource } from './syncMetrics.js';

/** The label every request that matched no route shares, so raw URLs never become labels. */
export const UNMATCHED_ROUTE = '__unmatched__';

/** Every policy decision reason; a fixed set, so the label's cardinality is bounded. */
export const POLICY_REASONS = [
  'OK',
  'AUTH_REQUIRED',
  'AUTH_INVALID_TOKEN',
  'AUTH_UNAVAILABLE',
  'IDENTITY_MISMATCH',
  'TENANT_REQUIRED',
  'INVALID_TENANT',
  'TENANT_NOT_ENABLED',
  'ROLE_NOT_MAPPED',
  'FORBIDDEN',
  'NOT_FOUND',
] as const;
export type PolicyReason = (typeof POLICY_REASONS)[number];
export type PolicyDecision = 'allow' | 'deny' | 'shadow_deny';

/** The one metrics registry of the process and the metrics the BFF records. */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'code'>;
  readonly httpRequestsTotal: Counter<'method' | 'route' | 'code'>;
  readonly policyDecisions: Counter<'decision' | 'reason'>;
  /** 1 while the database answers, 0 from a statement that found it unavailable until one succeeds. */
  readonly databaseAvailable: Gauge;
  /** Statements that found the database unavailable, by reason (`unreachable`, `timeout`, ...). */
  readonly databaseUnavailable: Counter<'reason'>;
  /** Hot-path series of the counters above (`tally.series(metrics.httpRequestsTotal, ...)`), flushed on every read. */
  readonly tally: CounterTally;
  /** Stops background work (the sync metrics' refresh timer). */
  stop(): void;
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag); tests that build many apps turn them off. */
  defaultMetrics?: boolean;
  /** Where the `external_sync_*` metrics come from (the database), and how often they are read. */
  syncMetrics?: SyncMetricsSource;
}

/** Builds the one registry of the process with every metric the BFF exposes. */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const stopSyncMetrics = options.syncMetrics ? registerSyncMetrics(registry, options.syncMetrics) : () => undefined;
  const tally = new CounterTally();

  const httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route pattern and status code',
    labelNames: ['method', 'route', 'code'] as const,
    // 0.3 and 0.5 are the SLO (p95 <= 300 ms) and the BffHighLatencyP95 alert threshold.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const httpRequestsTotal = tally.counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'code'] as const,
    registers: [registry],
  });
  const policyDecisions = tally.counter({
    name: 'os_policy_decisions_total',
    help: 'osPolicyBridge decisions on /v1 requests; shadow_deny = would have been denied with enforcement on',
    labelNames: ['decision', 'reason'] as const,
    registers: [registry],
  });
  // Zero-initialise the known series so rate() and alerts see them before the first event.
  policyDecisions.inc({ decision: 'allow', reason: 'OK' }, 0);
  for (const reason of POLICY_REASONS.filter((r) => r !== 'OK')) {
    policyDecisions.inc({ decision: 'deny', reason }, 0);
    policyDecisions.inc({ decision: 'shadow_deny', reason }, 0);
  }

  const databaseAvailable = new Gauge({
    name: 'bff_database_available',
    help: '1 while the database answers; 0 after a statement found it unavailable (down, failing over, timed out, pool exhausted) until one succeeds',
    registers: [registry],
  });
  databaseAvailable.set(1);
  const databaseUnavailable = new Counter({
    name: 'bff_database_unavailable_total',
    help: 'Statements that found the database unavailable, by reason: unreachable, timeout, lock_timeout, exhausted (no free connection), conflict (deadlock, serialization), starting',
    labelNames: ['reason'] as const,
    registers: [registry],
  });

  return { registry, httpRequestDuration, httpRequestsTotal, policyDecisions, databaseAvailable, databaseUnavailable, tally, stop: stopSyncMetrics };
}
