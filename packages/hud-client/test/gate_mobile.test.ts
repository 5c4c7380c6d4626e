/**
 * gate_mobile: the HUD client against a real BFF process on real PostgreSQL, reached through a
 * TCP proxy the test can cut ("offline") and restore. Writes made offline survive an app restart
 * (a new client over the same queue file) and are applied exactly once when the network returns;
 * a write whose answer was lost is replayed, not repeated; a permanent refusal is a dead letter.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedExternalSource, upsertLedgerTransactions, type LedgerTransaction } from '@accounting/data-pg';
import { spawnBffOnPostgres, type BffProcess } from '../../../test/support/process.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { TcpProxy } from '../../../test/support/tcpProxy.js';
import { createFileStorage } from '../src/node/index.js';
import { createHudClient, HudApiError, type FetchLike, type HudClient, type HudIdentity, type ReconSuggestion } from '../src/index.js';

/** The HUD user as the gateway names them: `hud-operator` maps to the internal `operator`. */
const hudUser: HudIdentity = { tenant: 'default', role: 'hud-operator', userId: 'u-42' };

let schema: TestSchema;
let bff: BffProcess;
let proxy: TcpProxy;
let baseUrl: string;
let bffUrl: string;
let directory: string;
const opened: HudClient[] = [];

function bankTx(id: string, overrides: Partial<LedgerTransaction>): LedgerTransaction {
  return {
    externalId: id,
    accountId: 'acc_1',
    amount: '-20000',
    currency: 'KRW',
    bookedDate: '2026-11-20',
    status: 'posted',
    pendingExternalId: null,
    description: 'CARD 4821 TAXI',
    counterparty: null,
    reference: null,
    providerUpdatedAt: null,
    ...overrides,
  };
}

/** A call to the BFF made by the test itself (the back office's side), not by the HUD. */
async function bffCall(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${bffUrl}${path}`, {
    method,
    headers: { 'X-Tenant': 'default', 'X-User-Role': 'operator', 'Content-Type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  expect(response.status).toBe(200);
  return response.json();
}

/** A reconciliation run as the back office starts one: `202` with the run, polled until it has succeeded. */
async function reconcile(): Promise<void> {
  const headers = { 'X-Tenant': 'default', 'X-User-Role': 'operator', 'Content-Type': 'application/json' };
  const accepted = await fetch(`${bffUrl}/v1/accounting/recon/run`, { method: 'POST', headers, body: '{}' });
  expect(accepted.status).toBe(202);
  for (;;) {
    const run = (await (await fetch(`${bffUrl}${accepted.headers.get('location')}`, { headers })).json()) as { status: string };
    expect(run.status).not.toBe('failed');
    if (run.status === 'succeeded') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A HUD app run: a client over the queue file `name`, as a fresh process would open it. */
async function openHud(name: string, options: { fetch?: FetchLike; identity?: HudIdentity } = {}): Promise<HudClient> {
  const client = await createHudClient({
    baseUrl,
    identity: options.identity ?? hudUser,
    storage: createFileStorage(join(directory, name)),
    requestTimeoutMs: 15_000,
    // No background retry during a test: the network comes back when the test says online().
    backoff: { initialMs: 600_000, maxMs: 600_000 },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  opened.push(client);
  return client;
}

/** Audit events of the tenant by action and subject, straight from the table. */
async function auditCounts(subjectIds: string[]): Promise<string[]> {
  const { rows } = await schema.db.query<{ action: string; subject_id: string; n: number }>(
    `SELECT action, subject_id, count(*)::int AS n FROM audit_events
     WHERE tenant = 'default' AND subject_id = ANY($1::text[]) GROUP BY action, subject_id ORDER BY action, subject_id`,
    [subjectIds],
  );
  return rows.map((row) => `${row.action} ${row.subject_id} x${row.n}`);
}

async function storedQueue(name: string): Promise<{ items: unknown[]; deadLetters: { error: { error_code: string } }[] }> {
  return JSON.parse(await readFile(join(directory, name), 'utf8'));
}

async function suggestionFor(client: HudClient, externalId: string): Promise<ReconSuggestion> {
  const page = await client.listReconSuggestions({ limit: 200 });
  const suggestion = page.items.find((item) => item.transaction.external_id === externalId);
  if (!suggestion) throw new Error(`no suggestion for ${externalId}`);
  return suggestion;
}

beforeAll(async () => {
  schema = await createTestSchema('vt_hud');
  directory = await mkdtemp(join(tmpdir(), 'hud-gate-'));
  bff = spawnBffOnPostgres(schema.url, {
    OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a"]',
    OS_ROLE_MAP_JSON: '{"hud-operator":"operator","operator":"operator","viewer":"viewer"}',
    OS_POLICY_BRIDGE_ENFORCE: 'true',
  });
  const port = await bff.port();
  bffUrl = `http://127.0.0.1:${port}`;
  proxy = new TcpProxy('127.0.0.1', port);
  await proxy.start();
  baseUrl = `http://127.0.0.1:${proxy.port}`;

  // The bank side as the sync stores it, the ledger through the API, then a reconciliation run.
  await seedExternalSource(schema.db, 'default', { source: 'bank_sbx', kind: 'bank_sbx', connectionId: 'conn', enabled: true });
  await upsertLedgerTransactions(schema.db, { tenant: 'default', source: 'bank_sbx', seenMarker: '1' }, [
    bankTx('tx_taxi', {}),
    bankTx('tx_acme', { amount: '-55000', reference: 'INV-2026-0042', description: 'TRANSFER ACME', counterparty: 'ACME' }),
  ]);
  const entry = (id: string, fields: Record<string, string>) => ({ entry_id: id, amount: '-20000', currency: 'KRW', date: '2026-11-21', memo: 'taxi', ...fields });
  await bffCall('POST', '/v1/accounting/ledger-entries', {
    entries: [
      entry('e-taxi-1', { date: '2026-11-19' }),
      entry('e-taxi-2', {}),
      entry('e-acme', { amount: '-55000', reference: 'INV-2026-0042', memo: 'ACME invoice INV-2026-0042' }),
    ],
  });
  await reconcile();
});

afterAll(async () => {
  await Promise.allSettled(opened.map((client) => client.close()));
  await proxy?.stop();
  await bff?.stop();
  await schema?.drop();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('gate_mobile: the HUD offline queue against the real BFF', () => {
  it('reads suggestions with their rationale, and a refused read is a HudApiError with the server error_code', async () => {
    const hud = await openHud('reads.json');
    const taxi = await suggestionFor(hud, 'tx_taxi');
    expect(taxi).toMatchObject({ status: 'suggested', decision: null });
    expect(taxi.rationale).toMatch(/tie/);
    expect(taxi.candidates.map((c) => c.entryId).sort()).toEqual(['e-taxi-1', 'e-taxi-2']);

    const viewer = await openHud('viewer.json', { identity: { tenant: 'default', role: 'viewer' } });
    const error = await viewer.listAuditEvents().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HudApiError);
    expect(error).toMatchObject({ status: 403, errorCode: 'FORBIDDEN', body: { permission: 'audit:read' }, requestId: expect.any(String) });
  });

  it('queues three manual reviews and one decision made offline, keeps them over an app restart, and applies each exactly once when back online', async () => {
    const taxi = await suggestionFor(await openHud('lookup.json'), 'tx_taxi');
    await proxy.stop();

    const before = await openHud('offline.json');
    const outcomes = [
      await before.requestManualReview({ subject_type: 'bank_tx', subject_id: 'tx_hud_1', reason: 'amount looks wrong' }),
      await before.requestManualReview({ subject_type: 'bank_tx', subject_id: 'tx_hud_2', reason: 'duplicate?', note: 'twice on the statement' }),
      await before.requestManualReview({ subject_type: 'bank_tx', subject_id: 'tx_hud_3', reason: 'unknown merchant' }),
      await before.decideReconSuggestion(taxi.id, { decision: 'confirm', entry_id: 'e-taxi-2', note: 'receipt matches' }),
    ];
    expect(outcomes.map((o) => o.outcome)).toEqual(['queued', 'queued', 'queued', 'queued']);
    expect(before.queue.queueCount.get()).toBe(4);
    const keys = before.queue.pending.get().map((item) => item.idempotencyKey);
    await before.close();

    const after = await openHud('offline.json');
    expect(after.queue.queueCount.get()).toBe(4);
    expect(after.queue.pending.get().map((item) => item.idempotencyKey)).toEqual(keys);

    await proxy.start();
    const report = await after.online();

    expect(report.applied.map((a) => [a.item.kind, a.status, a.replayed])).toEqual([
      ['manual_review', 201, false],
      ['manual_review', 201, false],
      ['manual_review', 201, false],
      ['recon_decision', 200, false],
    ]);
    expect(report.stopped).toBeNull();
    expect(after.queue.queueCount.get()).toBe(0);
    expect((await storedQueue('offline.json')).items).toEqual([]);

    expect(await auditCounts(['tx_hud_1', 'tx_hud_2', 'tx_hud_3', 'tx_taxi'])).toEqual([
      'manual_review_request tx_hud_1 x1',
      'manual_review_request tx_hud_2 x1',
      'manual_review_request tx_hud_3 x1',
      'recon_decision tx_taxi x1',
    ]);
    const trail = await after.auditTrailOf('tx_hud_2');
    expect(trail).toMatchObject([
      { action: 'manual_review_request', actor: { role: 'operator', id: 'u-42' }, details: { reason: 'duplicate?', note: 'twice on the statement' } },
    ]);
    expect((await suggestionFor(after, 'tx_taxi')).decision).toBe('confirm');
    const otherTenant = await openHud('pilot-a.json', { identity: { tenant: 'pilot-a', role: 'operator' } });
    expect((await otherTenant.auditTrailOf('tx_hud_2'))).toEqual([]);
  });

  it('replays a write the server applied but whose answer was lost, after an app restart, without a second event', async () => {
    let dropAnswers = 1;
    const losingFetch: FetchLike = async (url, init) => {
      const response = await fetch(url, init);
      if (init.method === 'POST' && dropAnswers > 0) {
        dropAnswers -= 1;
        await response.text();
        throw new TypeError('fetch failed: the connection dropped before the answer arrived');
      }
      return response;
    };
    const before = await openHud('lost.json', { fetch: losingFetch });
    const outcome = await before.requestManualReview({ subject_type: 'bank_tx', subject_id: 'tx_lost', reason: 'answer lost' });
    expect(outcome).toMatchObject({ outcome: 'queued', item: { lastFailure: { error_code: 'NETWORK_ERROR' } } });
    expect(await auditCounts(['tx_lost'])).toEqual(['manual_review_request tx_lost x1']);
    await before.close();

    const after = await openHud('lost.json');
    const report = await after.online();

    expect(report.applied).toHaveLength(1);
    expect(report.applied[0]).toMatchObject({ status: 201, replayed: true, item: { idempotencyKey: outcome.item.idempotencyKey } });
    const [event] = await after.auditTrailOf('tx_lost');
    expect(report.applied[0]?.body).toMatchObject({ id: event?.id, subject_id: 'tx_lost' });
    expect(await auditCounts(['tx_lost'])).toEqual(['manual_review_request tx_lost x1']);
    expect(after.queue.queueCount.get()).toBe(0);
  });

  it('moves a permanent refusal to the dead letters with the server error_code and goes on with the next writes', async () => {
    const acme = await suggestionFor(await openHud('lookup-acme.json'), 'tx_acme');
    await proxy.stop();
    const hud = await openHud('dead.json');
    await hud.decideReconSuggestion(acme.id, { decision: 'confirm' });
    await hud.decideReconSuggestion(acme.id, { decision: 'decline', note: 'changed my mind offline' });
    await hud.requestManualReview({ subject_type: 'bank_tx', subject_id: 'tx_blank', reason: '   ' });
    await hud.requestManualReview({ subject_type: 'bank_tx', subject_id: 'tx_after_dead', reason: 'still sent' });
    expect(hud.queue.queueCount.get()).toBe(4);

    await proxy.start();
    const report = await hud.online();

    expect(report.applied.map((a) => a.item.kind)).toEqual(['recon_decision', 'manual_review']);
    expect(report.deadLettered.map((d) => [d.item.kind, d.status, d.error.error_code])).toEqual([
      ['recon_decision', 409, 'SUGGESTION_ALREADY_DECIDED'],
      ['manual_review', 400, 'VALIDATION_FAILED'],
    ]);
    expect(report.deadLettered[1]?.error).toMatchObject({ issues: [{ path: 'reason' }], request_id: expect.any(String) });
    expect(hud.queue.queueCount.get()).toBe(0);
    expect(hud.queue.deadLetters.get()).toHaveLength(2);
    expect((await storedQueue('dead.json')).deadLetters.map((d) => d.error.error_code)).toEqual(['SUGGESTION_ALREADY_DECIDED', 'VALIDATION_FAILED']);
    expect(await auditCounts(['tx_acme', 'tx_after_dead', 'tx_blank'])).toEqual(['manual_review_request tx_after_dead x1', 'recon_decision tx_acme x1']);

    const [conflict] = hud.queue.deadLetters.get();
    await hud.queue.discardDeadLetter(conflict?.item.id ?? '');
    expect((await storedQueue('dead.json')).deadLetters.map((d) => d.error.error_code)).toEqual(['VALIDATION_FAILED']);
  });
});
