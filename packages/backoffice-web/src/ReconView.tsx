import type { ReconCriterion, ReconDecisionInput, ReconSuggestion, ReconSuggestionPage } from '@accounting/hud-client';
import { useRef, useState } from 'preact/hooks';
import { ApiError, callApi, newIdempotencyKey, type Identity } from './api';
import { count, ErrorNotice, Pager, useApi, useCursorStack } from './ui';

type Decision = ReconDecisionInput['decision'];

const STATUS_FILTERS: Record<string, string> = {
  'suggested,blocked': 'Needs a person (suggested, blocked)',
  suggested: 'suggested',
  blocked: 'blocked',
  unmatched: 'unmatched',
  matched: 'matched',
  '': 'all',
};
const PAGE_SIZE = 10;

function Criteria({ criteria }: { criteria: ReconCriterion[] }) {
  return (
    <ul class="criteria">
      {criteria.map((c) => (
        <li key={c.name}>
          <strong>{c.name}</strong> {c.score.toFixed(2)}: {c.detail}
        </li>
      ))}
    </ul>
  );
}

function SuggestionItem(props: { suggestion: ReconSuggestion; onDecide: (s: ReconSuggestion, decision: Decision, entryId: string) => void; busy: boolean; error: ApiError | null }) {
  const { suggestion: s, busy } = props;
  const tx = s.transaction;
  const headingId = `suggestion-${s.id}`;
  const decided = s.decision !== null;
  return (
    <article class="card" aria-labelledby={headingId}>
      <h3 id={headingId}>
        {tx.external_id}: {tx.amount} {tx.currency} on {tx.booked_date}{' '}
        <span class={`badge ${s.status}`}>{decided ? `${s.decision === 'confirm' ? 'confirmed' : 'declined'} by ${s.decided_by ?? '?'}` : s.status}</span>
      </h3>
      <p>
        {tx.description}
        {tx.status === 'pending' && <span class="badge muted"> pending</span>}
      </p>
      <p class="rationale">
        <strong>Rationale</strong> ({s.rule}
        {s.confidence !== null && `, ${s.confidence.toFixed(2)}`}): {s.rationale}
      </p>
      {s.criteria.length > 0 && <Criteria criteria={s.criteria} />}
      {props.error && <ErrorNotice error={props.error} />}
      {s.candidates.length === 0 ? (
        <p class="empty">No candidate entry.</p>
      ) : (
        <table>
          <caption>Candidates for {tx.external_id}</caption>
          <thead>
            <tr>
              <th scope="col">Entry</th>
              <th scope="col">Confidence</th>
              <th scope="col">Evidence</th>
              <th scope="col">Decision</th>
            </tr>
          </thead>
          <tbody>
            {s.candidates.map((c) => (
              <tr key={c.entryId}>
                <td>
                  <code>{c.entryId}</code>
                  <span class="muted"> {c.tier}</span>
                  {c.taken && <span class="badge muted"> taken</span>}
                </td>
                <td>{c.confidence.toFixed(2)}</td>
                <td>
                  <Criteria criteria={c.criteria} />
                </td>
                <td class="actions">
                  <button type="button" disabled={decided || busy} aria-label={`Confirm ${c.entryId} for ${tx.external_id}`} onClick={() => props.onDecide(s, 'confirm', c.entryId)}>
                    Confirm
                  </button>
                  <button type="button" disabled={decided || busy} aria-label={`Decline ${c.entryId} for ${tx.external_id}`} onClick={() => props.onDecide(s, 'decline', c.entryId)}>
                    Decline
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}

/** Reconciliation suggestions with their rationale, criteria and candidates; confirm or decline. */
export function ReconView({ identity }: { identity: Identity }) {
  const [status, setStatus] = useState('suggested,blocked');
  const pages = useCursorStack(identity, status);
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), ...(status ? { status } : {}), ...(pages.cursor ? { cursor: pages.cursor } : {}) });
  const { data, error, loading } = useApi<ReconSuggestionPage>(`/v1/accounting/recon/suggestions?${params}`, identity);
  const [decided, setDecided] = useState<Record<string, ReconSuggestion>>({});
  const [failures, setFailures] = useState<Record<string, ApiError>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState('');
  // One key per attempted decision: a retry or a double click replays instead of deciding twice.
  const keys = useRef(new Map<string, string>());

  const decide = async (s: ReconSuggestion, decision: Decision, entryId: string) => {
    const attempt = `${s.id}|${decision}|${entryId}`;
    const key = keys.current.get(attempt) ?? newIdempotencyKey();
    keys.current.set(attempt, key);
    setBusy(s.id);
    try {
      const result = await callApi<ReconSuggestion>(`/v1/accounting/recon/suggestions/${encodeURIComponent(s.id)}/decision`, identity, {
        method: 'POST',
        body: { decision, entry_id: entryId },
        idempotencyKey: key,
      });
      setDecided((all) => ({ ...all, [s.id]: result }));
      setFailures(({ [s.id]: _cleared, ...rest }) => rest);
      setAnnouncement(`${decision === 'confirm' ? 'Confirmed' : 'Declined'} ${s.transaction.external_id} with ${entryId}.`);
    } catch (err) {
      if (err instanceof ApiError) setFailures((all) => ({ ...all, [s.id]: err }));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="recon-heading">
      <h2 id="recon-heading">Reconciliation suggestions</h2>
      <label for="recon-status">Status</label>{' '}
      <select id="recon-status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
        {Object.entries(STATUS_FILTERS).map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      <p role="status" class="announcement">
        {announcement}
      </p>
      {error ? (
        <ErrorNotice error={error} />
      ) : data && data.items.length === 0 && !loading ? (
        <p class="empty">No suggestions with this status. Reconciliation runs after each bank sync.</p>
      ) : (
        <div aria-busy={loading}>
          {data?.items.map((item) => (
            <SuggestionItem key={item.id} suggestion={decided[item.id] ?? item} onDecide={decide} busy={busy === item.id} error={failures[item.id] ?? null} />
          ))}
        </div>
      )}
      {!error && (
        <Pager
          label="Suggestion pages"
          page={pages.page}
          shown={count(data?.items.length ?? 0, 'suggestion')}
          loading={loading}
          hasNext={Boolean(data?.next_cursor)}
          onPrevious={pages.previous}
          onNext={() => data?.next_cursor && pages.next(data.next_cursor)}
        />
      )}
    </section>
  );
}
