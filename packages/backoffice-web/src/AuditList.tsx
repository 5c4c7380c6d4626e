import type { AuditPage } from '@accounting/hud-client';
import { useState } from 'preact/hooks';
import { formatTime, type Identity } from './api';
import { count, ErrorNotice, Pager, useApi, useCursorStack } from './ui';

/** The action the audit list is pinned to: the HUD's manual-review requests, the operators' queue. */
const PINNED_ACTION = 'manual_review_request';
const OTHER_ACTIONS = ['external_sync_failed', 'external_source_configured', 'source_connection_refused', 'export_created', 'export_aborted', 'recon_decision', 'recon_match_replaced', 'recon_alias_learned', 'recon_alias_removed'];
const PAGE_SIZE = 20;

interface Filters {
  pinned: boolean;
  actions: string[];
  q: string;
  subjectId: string | null;
}

/**
 * Filters from the page's query. The feedback webhook links to `audit?tenant=<t>&subject_id=<id>`:
 * such a link shows every event of that subject, so the pinned filter starts off there.
 */
function readFilters(search: string): Filters {
  const params = new URLSearchParams(search);
  const subjectId = params.get('subject_id') || null;
  const pinned = params.get('manual_review');
  return {
    pinned: pinned ? pinned === 'on' : subjectId === null,
    actions: params.getAll('action').filter((action) => OTHER_ACTIONS.includes(action)),
    q: params.get('q') ?? '',
    subjectId,
  };
}

/** Keeps the filters in the address bar (tenant included), so the view can be shared or reloaded. */
function writeFilters(filters: Filters): void {
  const params = new URLSearchParams(location.search);
  for (const name of ['subject_id', 'q', 'manual_review', 'action']) params.delete(name);
  if (filters.subjectId) params.set('subject_id', filters.subjectId);
  if (filters.q) params.set('q', filters.q);
  params.set('manual_review', filters.pinned ? 'on' : 'off');
  for (const action of filters.actions) params.append('action', action);
  history.replaceState(history.state, '', `${location.pathname}?${params}`);
}

function apiPath(filters: Filters, cursor: string | null): string {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  const actions = [...(filters.pinned ? [PINNED_ACTION] : []), ...filters.actions];
  if (actions.length > 0) params.set('action', actions.join(','));
  if (filters.subjectId) params.set('subject_id', filters.subjectId);
  if (filters.q) params.set('q', filters.q);
  if (cursor) params.set('cursor', cursor);
  return `/v1/accounting/audit?${params}`;
}

/** The Backoffice link of a subject, the same form the feedback webhook sends. */
export function subjectLink(tenant: string, subjectId: string): string {
  return `/backoffice/audit?${new URLSearchParams({ tenant, subject_id: subjectId })}`;
}

/** The tenant's audit trail: pinned manual-review filter, action filters, search, keyset pages. */
export function AuditList({ identity, onNavigate }: { identity: Identity; onNavigate: (href: string) => void }) {
  const [filters, setFilters] = useState(() => readFilters(location.search));
  const [draft, setDraft] = useState(filters.q);
  const pages = useCursorStack(identity, JSON.stringify(filters));
  const { data, error, loading } = useApi<AuditPage>(apiPath(filters, pages.cursor), identity);
  const linkTenant = new URLSearchParams(location.search).get('tenant');

  const update = (patch: Partial<Filters>) => {
    const next = { ...filters, ...patch };
    writeFilters(next);
    setFilters(next);
  };
  const toggleAction = (action: string, on: boolean) =>
    update({ actions: on ? [...filters.actions, action] : filters.actions.filter((a) => a !== action) });

  return (
    <section aria-labelledby="audit-heading">
      <h2 id="audit-heading">Audit events</h2>
      <form
        role="search"
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          update({ q: draft.trim() });
        }}
      >
        <fieldset>
          <legend>Actions (none ticked: all)</legend>
          <label class="pinned">
            <input type="checkbox" checked={filters.pinned} onChange={(e) => update({ pinned: e.currentTarget.checked })} />
            {PINNED_ACTION} <small class="pin">pinned</small>
          </label>
          {OTHER_ACTIONS.map((action) => (
            <label key={action}>
              <input type="checkbox" checked={filters.actions.includes(action)} onChange={(e) => toggleAction(action, e.currentTarget.checked)} />
              {action}
            </label>
          ))}
        </fieldset>
        <label for="audit-q">Search subject or summary</label>
        <input id="audit-q" type="search" value={draft} maxLength={200} onInput={(e) => setDraft(e.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>

      {filters.subjectId && (
        <p class="chip">
          Subject <code>{filters.subjectId}</code>{' '}
          <button type="button" onClick={() => update({ subjectId: null })}>
            Show all subjects
          </button>
        </p>
      )}
      {linkTenant && data && data.tenant !== linkTenant && (
        <p class="notice warn" role="note">
          This link is for tenant <code>{linkTenant}</code>; you are viewing tenant <code>{data.tenant}</code>.
        </p>
      )}

      {error ? (
        <ErrorNotice error={error} />
      ) : data && data.items.length === 0 && !loading ? (
        <p class="empty">No audit events match these filters.</p>
      ) : (
        data && (
          <table aria-busy={loading} aria-label="Audit events">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Action</th>
                <th scope="col">Subject</th>
                <th scope="col">Summary</th>
                <th scope="col">Actor</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((event) => (
                <tr key={event.id}>
                  <td>
                    <time dateTime={event.ts}>{formatTime(event.ts)}</time>
                  </td>
                  <td>
                    <code>{event.action}</code>
                  </td>
                  <td>
                    {event.subject_id ? (
                      <a
                        href={subjectLink(data.tenant, event.subject_id)}
                        onClick={(e) => {
                          e.preventDefault();
                          onNavigate(e.currentTarget.getAttribute('href') ?? '');
                        }}
                      >
                        {event.subject_id}
                      </a>
                    ) : (
                      '—'
                    )}
                    {event.subject_type && <span class="muted"> {event.subject_type}</span>}
                  </td>
                  <td>{event.summary}</td>
                  <td>{event.actor.id ? `${event.actor.id} (${event.actor.role})` : event.actor.role}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      )}
      {!error && (
        <Pager
          label="Audit pages"
          page={pages.page}
          shown={count(data?.items.length ?? 0, 'event')}
          loading={loading}
          hasNext={Boolean(data?.next_cursor)}
          onPrevious={pages.previous}
          onNext={() => data?.next_cursor && pages.next(data.next_cursor)}
        />
      )}
    </section>
  );
}
