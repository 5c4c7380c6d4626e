import { useEffect, useState } from 'preact/hooks';
import type { Identity } from './api';
import { AuditList } from './AuditList';
import { ReconView } from './ReconView';
import { SourcesCard } from './SourcesCard';

const BASE = '/backoffice/';
const VIEWS = [
  { id: 'audit', label: 'Audit' },
  { id: 'sources', label: 'OS sources' },
  { id: 'recon', label: 'Reconciliation' },
] as const;
type View = (typeof VIEWS)[number]['id'];

/** The demo's tenants; `pilot-b` is outside the embedded start's allowlist, to show the 403. */
const DEMO_TENANTS = ['default', 'pilot-a', 'pilot-b'];
const ROLES = ['viewer', 'operator', 'auditor', 'admin'];
const STORAGE_KEY = 'backoffice.identity';

function viewOf(pathname: string): View {
  const segment = pathname.startsWith(BASE) ? pathname.slice(BASE.length).split('/')[0] : '';
  return VIEWS.find((v) => v.id === segment)?.id ?? 'audit';
}

/** The picker's starting identity: the link's tenant, else the last one used, else the demo's default. */
function initialIdentity(): { tenant: string; role: string } {
  let saved: { tenant?: unknown; role?: unknown } = {};
  try {
    saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as typeof saved;
  } catch {
    // a broken entry is as good as none
  }
  const linked = new URLSearchParams(location.search).get('tenant');
  return {
    tenant: linked || (typeof saved.tenant === 'string' ? saved.tenant : 'default'),
    role: typeof saved.role === 'string' && ROLES.includes(saved.role) ? saved.role : 'operator',
  };
}

function IdentityPicker({ identity, onChange }: { identity: { tenant: string; role: string }; onChange: (next: { tenant: string; role: string }) => void }) {
  const tenants = DEMO_TENANTS.includes(identity.tenant) ? DEMO_TENANTS : [...DEMO_TENANTS, identity.tenant];
  return (
    <form class="identity" aria-label="Demo identity" onSubmit={(e) => e.preventDefault()}>
      <label for="identity-tenant">Tenant (X-Tenant)</label>
      <select id="identity-tenant" value={identity.tenant} onChange={(e) => onChange({ ...identity, tenant: e.currentTarget.value })}>
        {tenants.map((tenant) => (
          <option key={tenant} value={tenant}>
            {tenant}
          </option>
        ))}
      </select>
      <label for="identity-role">Role (X-User-Role)</label>
      <select id="identity-role" value={identity.role} onChange={(e) => onChange({ ...identity, role: e.currentTarget.value })}>
        {ROLES.map((role) => (
          <option key={role} value={role}>
            {role}
          </option>
        ))}
      </select>
      <span class="muted">embedded demo: in production the gateway sets both</span>
    </form>
  );
}

/** The Backoffice shell: identity, navigation between the views, and the current view. */
export function App({ mode }: { mode: 'picker' | 'gateway' }) {
  const [path, setPath] = useState(location.pathname);
  // Bumped on each navigation, so a view re-reads its filters from the new address.
  const [visit, setVisit] = useState(0);
  const [picked, setPicked] = useState(initialIdentity);
  const identity: Identity = mode === 'picker' ? picked : null;

  useEffect(() => {
    const onPop = () => {
      setPath(location.pathname);
      setVisit((n) => n + 1);
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  const navigate = (href: string) => {
    const url = new URL(href, location.href);
    if (mode === 'picker' && url.searchParams.get('tenant')) {
      setPicked((current) => ({ ...current, tenant: url.searchParams.get('tenant') ?? current.tenant }));
    }
    history.pushState(null, '', url.pathname + url.search);
    setPath(url.pathname);
    setVisit((n) => n + 1);
  };

  const choose = (next: { tenant: string; role: string }) => {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    const params = new URLSearchParams(location.search);
    if (params.has('tenant')) {
      params.set('tenant', next.tenant);
      history.replaceState(history.state, '', `${location.pathname}?${params}`);
    }
    setPicked(next);
  };

  const view = viewOf(path);
  return (
    <>
      <header>
        <h1>Backoffice</h1>
        <nav aria-label="Views">
          {VIEWS.map((v) => (
            <a
              key={v.id}
              href={`${BASE}${v.id}`}
              aria-current={v.id === view ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                navigate(`${BASE}${v.id}`);
              }}
            >
              {v.label}
            </a>
          ))}
        </nav>
        {mode === 'picker' ? <IdentityPicker identity={picked} onChange={choose} /> : <p class="muted">Tenant and role: set by the gateway</p>}
      </header>
      <main>
        {view === 'audit' && <AuditList key={visit} identity={identity} onNavigate={navigate} />}
        {view === 'sources' && <SourcesCard identity={identity} />}
        {view === 'recon' && <ReconView identity={identity} />}
      </main>
    </>
  );
}
