import { createHash } from 'node:crypto';
import type { RunningBankSandbox } from '@accounting/bank-sandbox-sim';
import { learnReconAlias, type Db } from '@accounting/data-pg';
import { BankSandboxAdapter } from '@accounting/service-core-accounting';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/app.js';
import { API_ROUTES, type ApiRouteName } from '../src/policy/permissions.js';
import { runSyncWorker } from '../src/worker/syncWorker.js';
import { buildTestApp, LogCapture, type TestApp } from '../../../test/support/app.js';
import { BANK_NOW, BANK_TOKEN, startTestBank } from '../../../test/support/bank.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

// Issue 19: several tenants write random data through the API (and their banks through the
// project's simulator, synced by the worker's own function); then every GET route of the policy
// table is read as every tenant. Each tenant sees all it wrote and nothing of the others: their
// ids answer 404 exactly as a missing id does, lists and exports hold none of their ids or
// names, and verify refuses their exports. Every string a tenant writes carries its name, so a
// body that holds another tenant's name has leaked it.
// Reproducible: FUZZ_SEED=<n> repeats a run; a failure prints the seed to use.

const SEED = Number(process.env.FUZZ_SEED ?? 19_019);
const RUNS = 12;

let schema: TestSchema;

/**
 * The sync worker's database: the app's role, not the tables' owner, bound by row-level
 * security as in production (`buildTestApp` serves the API as that role too). The test itself
 * reads only through the API, never with SQL.
 */
function connectAsApp(): Db {
  return schema.appDb;
}

// ---------------------------------------------------------------------------------------------
// The routes, as the policy table declares them

type RouteName<M extends string> = { [K in ApiRouteName]: (typeof API_ROUTES)[K]['method'] extends M ? K : never }[ApiRouteName];
type GetRouteName = RouteName<'GET'>;
type WriteRouteName = Exclude<ApiRouteName, GetRouteName>;

const GET_ROUTES = Object.entries(API_ROUTES).filter(([, route]) => route.method === 'GET') as [GetRouteName, (typeof API_ROUTES)[GetRouteName]][];

/** `route`'s path with its `:params` filled in. */
function pathOf(name: ApiRouteName, params: Record<string, string> = {}): string {
  return API_ROUTES[name].path.replace(/:(\w+)/g, (_match, param: string) => {
    const value = params[param];
    if (value === undefined) throw new Error(`no value for :${param} of ${name}`);
    return encodeURIComponent(value);
  });
}

// ---------------------------------------------------------------------------------------------
// The tenants and what each one wrote

const NAMES = ['quokka', 'narwhal', 'axolotl'] as const;
const EXPORT_SECRET = 'cross-tenant-export-secret-5Tq8Wn2Lx7Zp4Kv9';

interface Tenant {
  id: string;
  /** In every string the tenant writes (ids, memos, descriptions, notes, its user id). */
  name: string;
  headers: Record<string, string>;
  /** Its bank connections: the first feeds the seeded `bank_sbx` source, the others are for PUT. */
  connections: string[];
  /** Audit events of its manual-review requests. */
  reviewEventIds: string[];
  /** Configured with PUT; never shared with another tenant. */
  sources: string[];
  entryIds: string[];
  runIds: string[];
  decidedSuggestionIds: string[];
  /** Its learned counterparty aliases still in place. */
  aliasIds: string[];
  exports: { exportId: string; body: Buffer; signature: string }[];
  /** Marker strings each list must show its owner. */
  markers: { audit: string[]; ledger: string[]; suggestions: string[]; aliases: string[] };
  /** What the tenant's own reads showed this round: ids by route, the text of each list and export. */
  seen: Map<GetRouteName, Set<string>>;
  texts: Map<GetRouteName, string>;
  /** The answer to a by-id read of an id nobody has, by route, without its request id. */
  missing: Map<GetRouteName, unknown>;
  /** Its audit chain's head as its own verification answered it. */
  chainHead?: { seq: string; mac: string };
}

const tenants: Tenant[] = NAMES.map((name) => ({
  id: `tnt-${name}`,
  name,
  headers: { 'X-Tenant': `tnt-${name}`, 'X-User-Role': 'admin', 'X-User-Id': `user-${name}` },
  connections: [0, 1, 2].map((i) => `conn_${name}_${i}`),
  reviewEventIds: [],
  sources: [],
  entryIds: [],
  runIds: [],
  decidedSuggestionIds: [],
  aliasIds: [],
  exports: [],
  markers: { audit: [], ledger: [], suggestions: [], aliases: [] },
  seen: new Map(),
  texts: new Map(),
  missing: new Map(),
}));

/** The marker of each manual-review event, by event id. */
const reviewMarkers = new Map<string, string>();

let sequence = 0;
/** A marker unique in the whole file: `quokka-00042` (fixed width, so none is a prefix of another). */
const marker = (tenant: Tenant) => `${tenant.name}-${String(++sequence).padStart(5, '0')}`;

const dayBefore = (date: Date, days: number) => new Date(date.getTime() - days * 86_400_000).toISOString().slice(0, 10);

// The simulator's clock is fixed; the sync uses the real one, so it asks for enough days back.
const SYNC_SINCE_DAYS = String(Math.min(365, Math.ceil((Date.now() - BANK_NOW.getTime()) / 86_400_000) + 30));

let bank: RunningBankSandbox;
let t: TestApp;

const api = (tenant: Tenant) => ({
  get: (path: string) => request(t.app).get(path).set(tenant.headers),
  post: (path: string) => request(t.app).post(path).set(tenant.headers),
  put: (path: string) => request(t.app).put(path).set(tenant.headers),
  delete: (path: string) => request(t.app).delete(path).set(tenant.headers),
});

/** GET `path` as `tenant`, its body as raw bytes (exports are NDJSON or CSV). */
const getBytes = (tenant: Tenant, path: string) =>
  api(tenant)
    .get(path)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

/** A body as `missing` holds it: without the request id, the one field that differs per request. */
const withoutRequestId = (body: Record<string, unknown>) => ({ ...body, request_id: undefined });

/** Fails naming where `text` shows `other`'s name, with the text around it. */
function expectNoneOf(other: Tenant, text: string, where: string): void {
  const at = text.indexOf(other.name);
  if (at >= 0) expect.fail(`${where} shows ${other.id}'s data: ...${text.slice(Math.max(0, at - 200), at + 100)}...`);
}

/** Fails naming the ids of `ids` that are also in `others` (another tenant's, as its own reads showed them). */
function expectDisjoint(ids: Iterable<string>, others: Set<string> | undefined, where: string): void {
  const leaked = [...ids].filter((id) => others?.has(id));
  expect(leaked, where).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// The writes

async function exportAndVerify(tenant: Tenant, format: 'ndjson' | 'csv'): Promise<Buffer> {
  const res = await getBytes(tenant, `${pathOf('exportAuditEvents')}?format=${format}`);
  expect(res.status).toBe(200);
  const exportId = String(res.headers['x-export-id']);
  const body = res.body as Buffer;
  const receipt = await api(tenant).get(pathOf('getExportSignature', { exportId }));
  expect(receipt.status).toBe(200);
  expect(receipt.body.sha256).toBe(sha256(body));
  const signature = receipt.body.signature as string;
  const verified = await verify(tenant, body, signature);
  expect(verified.body).toMatchObject({ valid: true, key: 'current' });
  tenant.exports.push({ exportId, body, signature });
  return body;
}

/** POST /exports/verify with the raw bytes and with their digest; both answers must agree. */
async function verify(tenant: Tenant, body: Buffer, signature: string): Promise<{ body: Record<string, unknown> }> {
  const fromBytes = await api(tenant)
    .post(pathOf('verifyExport'))
    .set('Content-Type', 'application/octet-stream')
    .set('X-Export-Signature', signature)
    .send(body);
  expect(fromBytes.status).toBe(200);
  const fromDigest = await api(tenant).post(pathOf('verifyExport')).send({ sha256: sha256(body), signature });
  expect(fromDigest.body).toEqual(fromBytes.body);
  return fromBytes;
}

async function sync(tenant: Tenant): Promise<void> {
  const results = await runSyncWorker({
    db: connectAsApp(),
    bank: new BankSandboxAdapter({ baseUrl: bank.url, token: BANK_TOKEN, sleep: async () => undefined }),
    config: t.config,
    logger: createLogger('silent', new LogCapture()),
    tenants: [tenant.id],
    signal: new AbortController().signal,
  });
  for (const result of results) expect(result.outcome.status, `sync of ${tenant.id}/${result.source}`).toBe('succeeded');
}

/** POST recon/run, then polls the run as its owner until it has finished. */
async function runRecon(tenant: Tenant): Promise<void> {
  const accepted = await api(tenant).post(pathOf('runRecon')).send({});
  expect(accepted.status).toBe(202);
  const runId = accepted.body.run_id as string;
  for (let poll = 0; poll < 1_000; poll++) {
    const run = await api(tenant).get(pathOf('getReconRun', { runId }));
    expect(run.status).toBe(200);
    if (run.body.status === 'failed') expect.fail(`recon run of ${tenant.id} failed: ${JSON.stringify(run.body.error)}`);
    if (run.body.status === 'succeeded') {
      tenant.runIds.push(runId);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect.fail(`recon run ${runId} of ${tenant.id} never finished`);
}

const words = fc.array(fc.constantFrom('invoice', 'refund', 'wire', '한빛상사', 'Zürich', "O'Brien", '50%_off'), { maxLength: 3 }).map((list) => list.join(' '));
const who = fc.nat({ max: NAMES.length - 1 });
const won = fc.integer({ min: 1, max: 9_999 }).map((n) => String(n * 100));

/** One write of one tenant (`tenant` indexes `tenants`). */
const write = fc.oneof(
  fc.record({ kind: fc.constant('review' as const), tenant: who, words, note: fc.boolean() }),
  fc.record({ kind: fc.constant('bank' as const), tenant: who, lines: fc.array(fc.record({ amount: won, daysBack: fc.nat({ max: 6 }), words }), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('sync' as const), tenant: who }),
  fc.record({ kind: fc.constant('source' as const), tenant: who, slot: fc.nat({ max: 2 }), connection: fc.integer({ min: 1, max: 2 }), enabled: fc.boolean() }),
  fc.record({
    kind: fc.constant('ledger' as const),
    tenant: who,
    entries: fc.array(fc.record({ pairWith: fc.option(fc.nat()), amount: won, dayShift: fc.integer({ min: -1, max: 1 }), words }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('recon' as const), tenant: who }),
  fc.record({ kind: fc.constant('decide' as const), tenant: who, pick: fc.nat(), decision: fc.constantFrom('confirm' as const, 'decline' as const) }),
  fc.record({ kind: fc.constant('export' as const), tenant: who, format: fc.constantFrom('ndjson' as const, 'csv' as const) }),
);
type Write = typeof write extends fc.Arbitrary<infer W> ? W : never;

/** The bank lines each tenant's simulator connection got, newest last (what ledger entries pair with). */
const bankLines = new Map<Tenant, { amount: string; date: string; reference: string }[]>(tenants.map((tenant) => [tenant, []]));

async function perform(w: Write): Promise<void> {
  const tenant = tenants[w.tenant] as Tenant;
  switch (w.kind) {
    case 'review': {
      const mark = marker(tenant);
      const res = await api(tenant)
        .post(pathOf('createManualReview'))
        .set('Idempotency-Key', `review-${mark}`)
        .send({ subject_type: 'bank_transaction', subject_id: `subj-${mark}`, reason: `review ${mark} ${w.words}`.trim(), ...(w.note ? { note: `note ${mark}` } : {}) });
      expect(res.status).toBe(201);
      tenant.reviewEventIds.push(res.body.id);
      reviewMarkers.set(res.body.id, mark);
      tenant.markers.audit.push(mark);
      return;
    }
    case 'bank':
      // The outside world: new lines at the tenant's bank, for the next sync.
      for (const line of w.lines) {
        const mark = marker(tenant);
        const date = dayBefore(BANK_NOW, line.daysBack);
        bank.sandbox.addTransaction(tenant.connections[0] as string, {
          amount: `-${line.amount}`,
          booked_date: date,
          description: `CARD ${mark} ${line.words}`.trim(),
          reference: `REF-${mark}`,
        });
        bankLines.get(tenant)?.push({ amount: `-${line.amount}`, date, reference: `REF-${mark}` });
        tenant.markers.suggestions.push(mark);
      }
      return;
    case 'sync':
      return sync(tenant);
    case 'source': {
      const source = `src-${tenant.name}-${w.slot}`;
      const res = await api(tenant)
        .put(pathOf('putSource', { source }))
        .send({ kind: 'bank_sbx', connection_id: tenant.connections[w.connection], enabled: w.enabled });
      // 409: the connection already feeds another of its sources, or the source holds synced data.
      expect([200, 201, 409], JSON.stringify(res.body)).toContain(res.status);
      if (res.status !== 409 && !tenant.sources.includes(source)) tenant.sources.push(source);
      return;
    }
    case 'ledger': {
      const lines = bankLines.get(tenant) ?? [];
      const entries = w.entries.map((entry) => {
        const mark = marker(tenant);
        const paired = entry.pairWith !== null && lines.length ? lines[entry.pairWith % lines.length] : undefined;
        tenant.markers.ledger.push(mark);
        return {
          entry_id: `e-${mark}`,
          amount: paired?.amount ?? `-${entry.amount}`,
          currency: 'KRW',
          date: paired ? dayBefore(new Date(`${paired.date}T00:00:00Z`), entry.dayShift) : dayBefore(BANK_NOW, 2),
          memo: `memo ${mark} ${entry.words}`.trim(),
          reference: paired?.reference ?? null,
          counterparty: null,
        };
      });
      const res = await api(tenant).post(pathOf('importLedgerEntries')).send({ entries });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ tenant: tenant.id, received: entries.length });
      tenant.entryIds.push(...entries.map((entry) => entry.entry_id));
      return;
    }
    case 'recon':
      return runRecon(tenant);
    case 'decide': {
      const page = await api(tenant).get(`${pathOf('listReconSuggestions')}?limit=200`);
      expect(page.status, page.text).toBe(200);
      const open = (page.body.items as { id: string; decision: string | null; candidates: unknown[] }[]).filter((s) => s.decision === null && s.candidates.length > 0);
      const chosen = open[w.pick % Math.max(open.length, 1)];
      if (!chosen) return;
      const mark = marker(tenant);
      const res = await api(tenant)
        .post(pathOf('decideReconSuggestion', { id: chosen.id }))
        .set('Idempotency-Key', `decide-${mark}`)
        .send({ decision: w.decision, note: `note ${mark}` });
      // 409/422: already matched elsewhere, or a pending line: refused, and nothing recorded.
      expect([200, 409, 422], JSON.stringify(res.body)).toContain(res.status);
      if (res.status === 200) {
        tenant.decidedSuggestionIds.push(chosen.id);
        tenant.markers.audit.push(mark);
      }
      return;
    }
    case 'export':
      await exportAndVerify(tenant, w.format);
      return;
  }
}

/**
 * Two counterparty aliases of `tenant`, learned as a confirmation learns them (the app's role,
 * the tenant's scope), then one of them removed through the API.
 */
async function learnAliases(tenant: Tenant): Promise<void> {
  const learned: string[] = [];
  for (let i = 0; i < 2; i++) {
    const mark = marker(tenant);
    const alias = await learnReconAlias(connectAsApp(), tenant.id, {
      bankName: `bank ${mark}`,
      ledgerName: `ledger ${mark}`,
      learnedFrom: { suggestionId: null, source: 'bank_sbx', externalId: `tx-${mark}`, entryId: `e-${mark}` },
      createdBy: `user-${tenant.name}`,
    });
    expect(alias).not.toBeNull();
    learned.push(alias?.id as string);
    tenant.markers.aliases.push(mark);
  }
  const removed = await api(tenant).delete(pathOf('deleteReconAlias', { id: learned[0] as string }));
  expect(removed.status, removed.text).toBe(200);
  tenant.markers.aliases.shift();
  tenant.aliasIds.push(learned[1] as string);
}

/** Which write exercises each non-GET route; the test fails when a route is missing here. */
const WRITE_COVERAGE: Record<WriteRouteName, string> = {
  createManualReview: 'review',
  putSource: 'source',
  importLedgerEntries: 'ledger',
  runRecon: 'recon (and every round, after a sync of every tenant)',
  decideReconSuggestion: 'decide; and as every other tenant, on the owner suggestions',
  verifyExport: 'export; and as every other tenant, on the owner exports',
  deleteReconAlias: 'alias (learned, one removed); and as every other tenant, on the owner aliases',
};

// ---------------------------------------------------------------------------------------------
// The reads

type Item = Record<string, unknown>;

interface ListPlan {
  kind: 'list';
  /** The first page's query; the next pages add `cursor=<next_cursor>`. */
  query: string;
  items: (body: Item) => Item[];
  id: (item: Item) => string;
  /** What its owner must find in it: ids and marker strings. */
  owned: (owner: Tenant) => { ids: readonly string[]; text: readonly string[] };
  /**
   * Filtered reads built from `owner`'s data: they show the owner `ids`, and another tenant none
   * of the owner's; `onlyOwner` ones (they name the owner's strings) show another tenant nothing.
   */
  probes?: (owner: Tenant) => { query: string; ids: readonly string[]; onlyOwner?: boolean }[];
}

interface ByIdPlan {
  kind: 'byId';
  param: string;
  /** An id in the right form that nobody has. */
  missing: string;
  /** The owner's ids to read (the latest few: older ones were read in earlier rounds). */
  owned: (owner: Tenant) => readonly string[];
  /** Ids every tenant has one of its own (the reader must get its own). */
  shared?: readonly string[];
}

/** A route read its own way (exports, verifications): as the owner, then as every other tenant. */
interface CustomPlan {
  kind: 'custom';
  asOwner: (owner: Tenant, name: GetRouteName) => Promise<void>;
  asOther: (reader: Tenant, other: Tenant, name: GetRouteName) => Promise<void>;
}

const latest = (ids: readonly string[]) => ids.slice(-4);

/** How many of another tenant's ids each route was asked for (or had to leave out), for the final check. */
const crossChecked = new Map<GetRouteName | 'decideReconSuggestion' | 'deleteReconAlias' | 'verifyExport', number>();
const count = (route: GetRouteName | 'decideReconSuggestion' | 'deleteReconAlias' | 'verifyExport', n: number) => crossChecked.set(route, (crossChecked.get(route) ?? 0) + n);

/**
 * How to read each GET route of the policy table. A GET route missing here fails the test: a
 * new route must say how it is read as its owner and as everyone else.
 */
const READ_PLANS: Record<GetRouteName, ListPlan | ByIdPlan | CustomPlan> = {
  listAuditEvents: {
    kind: 'list',
    query: 'limit=200',
    items: (body) => body.items as Item[],
    id: (item) => String(item.id),
    owned: (owner) => ({ ids: owner.reviewEventIds, text: [...owner.markers.audit, ...owner.sources] }),
    probes: (owner) => [
      { query: `limit=200&q=${owner.name}`, ids: owner.reviewEventIds, onlyOwner: true },
      { query: `limit=200&actor=user-${owner.name}`, ids: owner.reviewEventIds, onlyOwner: true },
      { query: 'limit=200&action=manual_review_request', ids: owner.reviewEventIds },
      ...owner.reviewEventIds.slice(-1).map((id) => ({ query: `limit=200&subject_id=subj-${reviewMarkers.get(id)}`, ids: [id], onlyOwner: true })),
    ],
  },
  verifyAuditChain: {
    kind: 'custom',
    async asOwner(owner, name) {
      const where = `${name} as its owner ${owner.id}`;
      const res = await api(owner).get(pathOf(name));
      expect(res.status, `${where}: ${res.text}`).toBe(200);
      expect(res.body, `${where}: ${res.text}`).toMatchObject({ tenant: owner.id, valid: true });
      const head = res.body.head as { seq: string; mac: string | null };
      // "0": no audit event yet (a tenant that has only synced and reconciled).
      if (head.seq === '0' || head.mac === null) return;
      const held = await api(owner).get(`${pathOf(name)}?expect_seq=${head.seq}&expect_mac=${head.mac}`);
      expect(held.body, `${where}: its own head: ${held.text}`).toMatchObject({ valid: true, expected_head: { contained: true } });
      owner.chainHead = { seq: head.seq, mac: head.mac };
    },
    // Another tenant's saved head is not in the reader's chain, which still verifies on its own.
    async asOther(reader, other, name) {
      const where = `${name} as ${reader.id} (owner ${other.id})`;
      const head = other.chainHead;
      if (!head) return;
      const res = await api(reader).get(`${pathOf(name)}?expect_seq=${head.seq}&expect_mac=${head.mac}`);
      expect(res.status, `${where}: ${res.text}`).toBe(200);
      expect(res.body, where).toMatchObject({ tenant: reader.id, valid: true, expected_head: { contained: false } });
      expectNoneOf(other, res.text, where);
      count(name, 1);
    },
  },
  listSources: {
    kind: 'list',
    query: '',
    items: (body) => body.sources as Item[],
    id: (item) => String(item.connection_id),
    owned: (owner) => ({ ids: [owner.connections[0] as string], text: owner.sources }),
  },
  getSource: {
    kind: 'byId',
    param: 'source',
    missing: 'src-nobody-has',
    owned: (owner) => owner.sources,
    shared: ['bank_sbx'],
  },
  exportAuditEvents: {
    kind: 'custom',
    // The export's create + fetch + verify, in NDJSON to read its events back.
    async asOwner(owner, name) {
      const where = `${name} as its owner ${owner.id}`;
      const text = (await exportAndVerify(owner, 'ndjson')).toString('utf8');
      const events = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { id: string; tenant?: string });
      expect(events.filter((event) => event.tenant !== undefined && event.tenant !== owner.id), where).toEqual([]);
      const auditIds = new Set(events.map((event) => String(event.id)));
      expect(owner.reviewEventIds.filter((id) => !auditIds.has(id)), `${where}: events missing`).toEqual([]);
      expect(owner.markers.audit.filter((mark) => !text.includes(mark)), `${where}: markers missing`).toEqual([]);
      owner.seen.set(name, auditIds);
      owner.texts.set(name, text);
    },
    async asOther(reader, other, name) {
      const where = `${name} as ${reader.id} (owner ${other.id})`;
      expectNoneOf(other, reader.texts.get(name) ?? '', where);
      expectDisjoint(reader.seen.get(name) ?? [], other.seen.get('listAuditEvents'), `${where}: the other tenant's events`);
      count(name, other.seen.get('listAuditEvents')?.size ?? 0);
      for (const exp of other.exports.slice(-4)) {
        const verified = await verify(reader, exp.body, exp.signature);
        expect(verified.body, `${where}: verify of the other tenant's export ${exp.exportId}`).toMatchObject({ valid: false, key: null });
        count('verifyExport', 1);
      }
    },
  },
  getExportSignature: {
    kind: 'byId',
    param: 'exportId',
    missing: '3b241101-e2bb-4255-8caf-4136c566a962',
    owned: (owner) => latest(owner.exports.map((exp) => exp.exportId)),
  },
  listLedgerEntries: {
    kind: 'list',
    query: 'limit=500',
    items: (body) => body.items as Item[],
    id: (item) => String(item.entry_id),
    owned: (owner) => ({ ids: owner.entryIds, text: owner.markers.ledger }),
    probes: (owner) => [{ query: `limit=500&from=${dayBefore(BANK_NOW, 8)}&to=${dayBefore(BANK_NOW, -1)}`, ids: owner.entryIds }],
  },
  getReconRun: {
    kind: 'byId',
    param: 'runId',
    missing: '8f14e45f-ceea-467f-a0e6-6e2bb2f1c2a3',
    owned: (owner) => latest(owner.runIds),
  },
  listReconSuggestions: {
    kind: 'list',
    query: 'limit=200',
    items: (body) => body.items as Item[],
    id: (item) => String(item.id),
    owned: (owner) => ({ ids: owner.decidedSuggestionIds, text: owner.markers.suggestions }),
    probes: (owner) => [{ query: 'limit=200&status=matched,suggested,unmatched,blocked', ids: owner.decidedSuggestionIds }],
  },
  listReconAliases: {
    kind: 'list',
    query: 'limit=200',
    items: (body) => body.items as Item[],
    id: (item) => String(item.id),
    owned: (owner) => ({ ids: owner.aliasIds, text: owner.markers.aliases }),
  },
};

/** Every page of a list as `reader`: the ids of its items and the text of every page. */
async function readList(reader: Tenant, name: GetRouteName, plan: ListPlan, query: string): Promise<{ ids: Set<string>; text: string }> {
  const ids = new Set<string>();
  const texts: string[] = [];
  let next = query;
  for (let page = 0; ; page++) {
    expect(page, `${name} as ${reader.id} keeps paging`).toBeLessThan(100);
    const res = await api(reader).get(`${pathOf(name)}?${next}`);
    expect(res.status, `${name}?${next} as ${reader.id}: ${res.text}`).toBe(200);
    expect(res.body.tenant).toBe(reader.id);
    texts.push(res.text);
    for (const item of plan.items(res.body as Item)) ids.add(plan.id(item));
    const cursor = res.body.next_cursor as string | null | undefined;
    if (!cursor) break;
    next = `${query}&cursor=${encodeURIComponent(cursor)}`;
  }
  return { ids, text: texts.join('\n') };
}

/** As the owner: every route shows what it wrote; remembers what it saw for the cross reads. */
async function readAsOwner(owner: Tenant): Promise<void> {
  for (const [name] of GET_ROUTES) {
    const plan = READ_PLANS[name];
    expect(plan, `no read plan for GET ${API_ROUTES[name].path}`).toBeDefined();
    const where = `${name} as its owner ${owner.id}`;
    if (plan.kind === 'list') {
      const view = await readList(owner, name, plan, plan.query);
      const owned = plan.owned(owner);
      expect(owned.ids.filter((id) => !view.ids.has(id)), `${where}: ids missing`).toEqual([]);
      expect(owned.text.filter((text) => !view.text.includes(text)), `${where}: markers missing`).toEqual([]);
      owner.seen.set(name, view.ids);
      owner.texts.set(name, view.text);
      for (const probe of plan.probes?.(owner) ?? []) {
        const found = await readList(owner, name, plan, probe.query);
        expect(probe.ids.filter((id) => !found.ids.has(id)), `${where}?${probe.query}: ids missing`).toEqual([]);
      }
    } else if (plan.kind === 'byId') {
      for (const id of [...plan.owned(owner), ...(plan.shared ?? [])]) {
        const res = await api(owner).get(pathOf(name, { [plan.param]: id }));
        expect(res.status, `${where} of ${id}: ${res.text}`).toBe(200);
      }
      const missing = await api(owner).get(pathOf(name, { [plan.param]: plan.missing }));
      expect(missing.status, `${where} of a missing id`).toBe(404);
      owner.missing.set(name, withoutRequestId(missing.body));
    } else {
      await plan.asOwner(owner, name);
    }
  }
}

/** As `reader`: every route shows nothing of `other`, and its ids answer as missing ones do. */
async function readAsOther(reader: Tenant, other: Tenant): Promise<void> {
  for (const [name] of GET_ROUTES) {
    const plan = READ_PLANS[name];
    const where = `${name} as ${reader.id} (owner ${other.id})`;
    if (plan.kind === 'list') {
      expectNoneOf(other, reader.texts.get(name) ?? '', where);
      expectDisjoint(reader.seen.get(name) ?? [], other.seen.get(name), `${where}: the other tenant's ids`);
      count(name, other.seen.get(name)?.size ?? 0);
      for (const probe of plan.probes?.(other) ?? []) {
        const found = await readList(reader, name, plan, probe.query);
        expectDisjoint(found.ids, other.seen.get(name), `${where}?${probe.query}`);
        expectNoneOf(other, found.text, `${where}?${probe.query}`);
        if (probe.onlyOwner) expect([...found.ids], `${where}?${probe.query}`).toEqual([]);
      }
    } else if (plan.kind === 'byId') {
      for (const id of plan.owned(other)) {
        const res = await api(reader).get(pathOf(name, { [plan.param]: id }));
        expect(res.status, `${where} of ${id}: ${res.text}`).toBe(404);
        expect(withoutRequestId(res.body), `${where} of ${id} answers as a missing id does`).toEqual(reader.missing.get(name));
        count(name, 1);
      }
      for (const id of plan.shared ?? []) {
        const res = await api(reader).get(pathOf(name, { [plan.param]: id }));
        expect(res.status).toBe(200);
        expect(res.body.tenant).toBe(reader.id);
        expectNoneOf(other, res.text, `${where} of its own ${id}`);
      }
    } else {
      await plan.asOther(reader, other, name);
    }
  }
}

/** The by-id write that reads first: deciding another tenant's suggestion answers as a missing one. */
async function decideAsOther(reader: Tenant, other: Tenant): Promise<void> {
  const path = (id: string) => pathOf('decideReconSuggestion', { id });
  const missing = await api(reader).post(path('9000000000000000000')).set('Idempotency-Key', `missing-${marker(reader)}`).send({ decision: 'decline' });
  expect(missing.status).toBe(404);
  for (const id of [...(other.seen.get('listReconSuggestions') ?? [])].slice(0, 3)) {
    const res = await api(reader).post(path(id)).set('Idempotency-Key', `cross-${marker(reader)}`).send({ decision: 'decline' });
    expect(res.status, `decision as ${reader.id} on ${other.id}'s suggestion ${id}: ${res.text}`).toBe(404);
    expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
    count('decideReconSuggestion', 1);
  }
}

/** The by-id delete: removing another tenant's alias answers as a missing one, and removes nothing. */
async function deleteAliasAsOther(reader: Tenant, other: Tenant): Promise<void> {
  const missing = await api(reader).delete(pathOf('deleteReconAlias', { id: '9000000000000000000' }));
  expect(missing.status).toBe(404);
  for (const id of other.aliasIds) {
    const res = await api(reader).delete(pathOf('deleteReconAlias', { id }));
    expect(res.status, `delete as ${reader.id} of ${other.id}'s alias ${id}: ${res.text}`).toBe(404);
    expect(withoutRequestId(res.body)).toEqual(withoutRequestId(missing.body));
    count('deleteReconAlias', 1);
  }
}

// ---------------------------------------------------------------------------------------------

beforeAll(async () => {
  schema = await createTestSchema('vt_xtenant');
  bank = await startTestBank(tenants.flatMap((tenant) => tenant.connections.map((id) => ({ id, days: 3, perDay: 2 }))));
  // Migrated as the owner (schema.db), which grants the app's role; the API then serves as that role.
  t = await buildTestApp(
    schema.db,
    {
      OS_TENANT_ALLOWLIST_JSON: JSON.stringify(tenants.map((tenant) => tenant.id)),
      BANK_SBX_CONNECTIONS_JSON: JSON.stringify(Object.fromEntries(tenants.map((tenant) => [tenant.id, tenant.connections]))),
      EXPORT_SIGN_SECRET: EXPORT_SECRET,
      SYNC_SINCE_DAYS,
    },
  );
});
afterAll(async () => {
  await t?.reconRuns.stop();
  await bank?.close();
  await schema?.drop();
});

describe('another tenant gets nothing, on every route (property)', () => {
  it('has a read plan for every GET route of the policy table and a write for every other route', () => {
    expect(Object.keys(READ_PLANS).sort()).toEqual(GET_ROUTES.map(([name]) => name).sort());
    const writes = (Object.keys(API_ROUTES) as ApiRouteName[]).filter((name) => API_ROUTES[name].method !== 'GET');
    expect(Object.keys(WRITE_COVERAGE).sort()).toEqual(writes.sort());
  });

  it(`after random writes by ${NAMES.length} tenants, each reads all of its own data and none of the others'`, async () => {
    // Whatever the seed draws, every tenant first writes one of each kind, so no route is read empty.
    for (const [index, tenant] of tenants.entries()) {
      const baseline: Write[] = [
        { kind: 'bank', tenant: index, lines: [{ amount: '48000', daysBack: 1, words: '' }] },
        { kind: 'sync', tenant: index },
        { kind: 'ledger', tenant: index, entries: [{ pairWith: 0, amount: '100', dayShift: 0, words: '' }] },
        { kind: 'recon', tenant: index },
        { kind: 'decide', tenant: index, pick: 0, decision: 'confirm' },
        { kind: 'review', tenant: index, words: '', note: true },
        { kind: 'source', tenant: index, slot: 0, connection: 1, enabled: true },
        { kind: 'export', tenant: index, format: 'csv' },
      ];
      for (const w of baseline) await perform(w);
      await learnAliases(tenant);
      expect(tenant.decidedSuggestionIds, `${tenant.id} decided its suggestion`).toHaveLength(1);
      expect(tenant.sources, `${tenant.id} configured its source`).toEqual([`src-${tenant.name}-0`]);
    }
    let rounds = 0;
    const run = await fc.check(
      fc.asyncProperty(fc.array(write, { minLength: 2, maxLength: 8 }), async (writes) => {
        rounds++;
        for (const w of writes) await perform(w);
        // Every tenant's bank lines synced and reconciled, so its suggestions show them all.
        for (const tenant of tenants) {
          await sync(tenant);
          await runRecon(tenant);
        }
        for (const tenant of tenants) await readAsOwner(tenant);
        for (const reader of tenants) {
          for (const other of tenants) {
            if (other === reader) continue;
            await readAsOther(reader, other);
            await decideAsOther(reader, other);
            await deleteAliasAsOther(reader, other);
          }
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    if (run.failed) {
      const error = run.errorInstance instanceof Error ? run.errorInstance.message : String(run.errorInstance);
      expect.fail(`cross-tenant property failed in round ${run.numRuns}; repeat with FUZZ_SEED=${run.seed}\nwrites: ${JSON.stringify(run.counterexample)}\n${error}`);
    }
    expect(rounds).toBe(RUNS);
    // Not vacuous: every GET route (and the by-id writes) had another tenant's data to withhold.
    for (const [name] of GET_ROUTES) expect(crossChecked.get(name) ?? 0, `${name} checked against another tenant's ids`).toBeGreaterThan(0);
    expect(crossChecked.get('decideReconSuggestion') ?? 0).toBeGreaterThan(0);
    expect(crossChecked.get('deleteReconAlias') ?? 0).toBeGreaterThan(0);
    expect(crossChecked.get('verifyExport') ?? 0).toBeGreaterThan(0);
    // The writes really happened: every tenant ended up with data of every kind it can read.
    for (const tenant of tenants) {
      for (const [name] of GET_ROUTES) {
        const seen = tenant.seen.get(name);
        if (seen) expect(seen.size, `${name} as ${tenant.id}`).toBeGreaterThan(0);
      }
      expect(tenant.chainHead, tenant.id).toBeDefined();
    }
  }, 120_000);
});
