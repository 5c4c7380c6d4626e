import { Counter, Gauge, type Registry } from 'prom-client';
import type { SyncMetricsRow } from '@accounting/data-pg';
import type { Logger } from './logger.js';

/**
 * `external_sync_*` metrics, read from the database at scrape time so they exist however
 * short-lived the CronJob's pod is. A failing read keeps the last values (and logs) rather than
 * failing the whole `/metrics` page.
 */
export function registerSyncMetrics(registry: Registry, read: () => Promise<SyncMetricsRow[]>, logger: Logger): void {
  let rows: SyncMetricsRow[] = [];
  // The registry collects every metric of a scrape at once: they share one read.
  let inFlight: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    inFlight ??= read()
      .then(
        (fresh) => {
          rows = fresh;
        },
        (err: unknown) => {
          logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'could not read sync metrics');
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  const labelNames = ['tenant', 'source'] as const;
  const fill = (metric: Gauge<'tenant' | 'source'> | Counter<'tenant' | 'source'>, pick: (row: SyncMetricsRow) => number | null) => {
    metric.reset();
    for (const row of rows) {
      const value = pick(row);
      if (value === null) continue;
      const labels = { tenant: row.tenant, source: row.source };
      if (metric instanceof Gauge) metric.set(labels, value);
      else metric.inc(labels, value);
    }
  };

  new Gauge({
    name: 'external_sync_last_ts_seconds',
    help: 'Unix time of the last successful external sync run, per tenant and source',
    labelNames,
    registers: [registry],
    async collect() {
      await refresh();
      fill(this, (row) => row.last_success_seconds);
    },
  });
  new Counter({
    name: 'external_sync_errors_total',
    help: 'Failed external sync runs, per tenant and source (monotonic)',
    labelNames,
    registers: [registry],
    async collect() {
      await refresh();
      fill(this, (row) => row.errors_total);
    },
  });
  new Counter({
    name: 'external_sync_runs_total',
    help: 'External sync runs, succeeded or failed, per tenant and source (monotonic)',
    labelNames,
    registers: [registry],
    async collect() {
      await refresh();
      fill(this, (row) => row.runs_total);
    },
  });
  new Counter({
    name: 'external_sync_rows_total',
    help: 'Transactions added, modified or removed by successful external sync runs (monotonic)',
    labelNames,
    registers: [registry],
    async collect() {
      await refresh();
      fill(this, (row) => row.rows_synced_total);
    },
  });
  new Gauge({
    name: 'external_sync_last_run_duration_seconds',
    help: 'Duration of the last external sync run, per tenant and source',
    labelNames,
    registers: [registry],
    async collect() {
      await refresh();
      fill(this, (row) => row.last_run_seconds);
    },
  });
}
