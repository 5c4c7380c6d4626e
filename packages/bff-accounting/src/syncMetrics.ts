import { Counter, Gauge, type Registry } from 'prom-client';
import type { SyncMetricsRow } from '@accounting/data-pg';
import type { Logger } from './logger.js';

/** Where the `external_sync_*` metrics come from, and how often they are read. */
export interface SyncMetricsSource {
  read: () => Promise<SyncMetricsRow[]>;
  logger: Logger;
  /**
   * Read in the background every this many ms, so a scrape renders what was read last and never
   * waits for the database (the service: `SYNC_METRICS_REFRESH_MS`). Unset or 0: read at every
   * scrape (tests that assert a run's effect on the next scrape).
   */
  refreshIntervalMs?: number;
}

/**
 * `external_sync_*` metrics, read from the database (not from the CronJob's short-lived pod).
 * A failing read keeps the last values (and logs) rather than failing the whole `/metrics`
 * page. Returns a function that stops the background refresh.
 */
export function registerSyncMetrics(registry: Registry, { read, logger, refreshIntervalMs }: SyncMetricsSource): () => void {
  let rows: SyncMetricsRow[] = [];
  let loaded = false;
  // The registry collects every metric of a scrape at once: they share one read.
  let inFlight: Promise<void> | undefined;
  // Logged when reads start failing and when they work again, not at every refresh of an outage.
  let failing = false;
  const refresh = (): Promise<void> => {
    inFlight ??= read()
      .then(
        (fresh) => {
          rows = fresh;
          loaded = true;
          if (failing) logger.info('sync metrics read again');
          failing = false;
        },
        (err: unknown) => {
          if (!failing) logger.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, 'could not read sync metrics; keeping the last values');
          failing = true;
        },
      )
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  let timer: NodeJS.Timeout | undefined;
  if (refreshIntervalMs) {
    void refresh();
    timer = setInterval(() => void refresh(), refreshIntervalMs);
    timer.unref();
  }
  // In the background mode a scrape waits only for the very first read.
  const current = (): Promise<void> => (timer && loaded ? Promise.resolve() : refresh());

  const labelNames = ['tenant', 'source'] as const;
  const specs: { name: string; help: string; type: 'gauge' | 'counter'; pick: (row: SyncMetricsRow) => number | null }[] = [
    { name: 'external_sync_last_ts_seconds', type: 'gauge', pick: (r) => r.last_success_seconds, help: 'Unix time of the last successful external sync run, per tenant and source' },
    { name: 'external_sync_errors_total', type: 'counter', pick: (r) => r.errors_total, help: 'Failed external sync runs, per tenant and source (monotonic)' },
    { name: 'external_sync_runs_total', type: 'counter', pick: (r) => r.runs_total, help: 'External sync runs, succeeded or failed, per tenant and source (monotonic)' },
    { name: 'external_sync_rows_total', type: 'counter', pick: (r) => r.rows_synced_total, help: 'Transactions added, modified or removed by external sync runs, failed ones included (monotonic)' },
    { name: 'external_sync_last_run_duration_seconds', type: 'gauge', pick: (r) => r.last_run_seconds, help: 'Duration of the last external sync run, per tenant and source' },
  ];
  for (const spec of specs) {
    // Counters are filled from the database's monotonic totals: reset, then set by one inc.
    async function collect(this: Gauge<'tenant' | 'source'> | Counter<'tenant' | 'source'>) {
      await current();
      this.reset();
      for (const row of rows) {
        const value = spec.pick(row);
        if (value === null) continue;
        const labels = { tenant: row.tenant, source: row.source };
        if (this instanceof Gauge) this.set(labels, value);
        else this.inc(labels, value);
      }
    }
    const options = { name: spec.name, help: spec.help, labelNames, registers: [registry], collect };
    if (spec.type === 'gauge') new Gauge(options);
    else new Counter(options);
  }
  return () => clearInterval(timer);
}
