import { formatDuration, formatTime, type Identity } from './api';
import { ErrorNotice, useApi } from './ui';

interface SyncRun {
  id: string;
  started_at: string;
  finished_at: string | null;
  outcome: 'running' | 'succeeded' | 'failed';
  error_code: string | null;
  attempts: number;
  rows_added: number;
  rows_modified: number;
  rows_removed: number;
}

interface Source {
  source: string;
  kind: string;
  connection_id: string;
  enabled: boolean;
  last_success_at: string | null;
  lag_seconds: number | null;
  stale: boolean;
  last_error: { code: string; at: string | null; attempts: number | null } | null;
  rows: { total: number; active: number; removed: number };
  runs_total: number;
  errors_total: number;
  recent_runs: SyncRun[];
}

interface SourcesAnswer {
  tenant: string;
  stale_threshold_seconds: number;
  sources: Source[];
}

function Badge({ source }: { source: Source }) {
  if (!source.enabled) return <span class="badge muted">Disabled</span>;
  return source.stale ? <span class="badge bad">Stale</span> : <span class="badge good">Up to date</span>;
}

function SourceItem({ source }: { source: Source }) {
  const headingId = `source-${source.source}`;
  return (
    <article class="card" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {source.source} <Badge source={source} />
      </h3>
      <dl>
        <dt>Connection</dt>
        <dd>
          {source.kind} <code>{source.connection_id}</code>
        </dd>
        <dt>Lag</dt>
        <dd>{source.lag_seconds === null ? 'never synced' : `${formatDuration(source.lag_seconds)} (last success ${formatTime(source.last_success_at)})`}</dd>
        <dt>Last error</dt>
        <dd>
          {source.last_error ? (
            <>
              <code>{source.last_error.code}</code> at {formatTime(source.last_error.at)}
              {source.last_error.attempts !== null && `, ${source.last_error.attempts} attempt(s)`}
            </>
          ) : (
            'none'
          )}
        </dd>
        <dt>Rows</dt>
        <dd>
          {source.rows.active} active, {source.rows.removed} removed; {source.runs_total} runs, {source.errors_total} failed
        </dd>
      </dl>
      {source.recent_runs.length === 0 ? (
        <p class="empty">No runs yet.</p>
      ) : (
        <table>
          <caption>Last runs of {source.source}</caption>
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Outcome</th>
              <th scope="col">Error</th>
              <th scope="col">Rows added / changed / removed</th>
            </tr>
          </thead>
          <tbody>
            {source.recent_runs.map((run) => (
              <tr key={run.id}>
                <td>{formatTime(run.started_at)}</td>
                <td>{run.outcome}</td>
                <td>{run.error_code ? <code>{run.error_code}</code> : '—'}</td>
                <td>
                  {run.rows_added} / {run.rows_modified} / {run.rows_removed}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}

/** The tenant's external sources: lag, stale badge, last error and last runs (GET os/sources). */
export function SourcesCard({ identity }: { identity: Identity }) {
  const { data, error, loading, reload } = useApi<SourcesAnswer>('/v1/accounting/os/sources', identity);
  return (
    <section aria-labelledby="sources-heading" aria-busy={loading}>
      <h2 id="sources-heading">OS sources</h2>
      <p>
        {data && `Stale after ${formatDuration(data.stale_threshold_seconds)} without a successful sync. `}
        <button type="button" onClick={reload} disabled={loading}>
          Refresh
        </button>
      </p>
      {error ? (
        <ErrorNotice error={error} />
      ) : !data ? (
        <p role="status">Loading…</p>
      ) : data.sources.length === 0 ? (
        <p class="empty">This tenant has no external sources.</p>
      ) : (
        data.sources.map((source) => <SourceItem key={source.source} source={source} />)
      )}
    </section>
  );
}
