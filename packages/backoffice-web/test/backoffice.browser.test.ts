import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBankSandbox } from '@accounting/bank-sandbox-sim';
import type { ReconSuggestion } from '@accounting/hud-client';
import { BankSandboxAdapter, backofficeAuditLink, requestManualReview, syncExternalSource } from '@accounting/service-core-accounting';
import { DEMO_BROKEN_SOURCE, seedDemoBrokenSource, seedDemoManualReviews } from '../../bff-accounting/src/demoBackoffice.js';
import { seedDemoLedger } from '../../bff-accounting/src/demoLedger.js';
import { buildTestApp } from '../../../test/support/app.js';
import { BANK_NOW, BANK_TOKEN, startTestBank } from '../../../test/support/bank.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

const WEB_DIR = fileURLToPath(new URL('../', import.meta.url));
const SCREENSHOTS = fileURLToPath(new URL('../../../artifacts/screenshots/', import.meta.url));
/** Debian's chromium here; CHROMIUM_PATH or Chrome elsewhere (GitHub's Ubuntu runners ship Google Chrome). */
const CHROMIUM =
  process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((path) => existsSync(path)) ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const NEEDLE = { subjectId: 'tx_needle', reason: 'Needle: taxi receipt missing' };

let schema: TestSchema;
let bank: RunningBankSandbox;
let server: Server;
let base: string;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** The API as the test sees it, for the facts the UI must show. */
async function api<T>(path: string, tenant = 'default', role = 'operator'): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: { 'X-Tenant': tenant, 'X-User-Role': role } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

async function open(path: string): Promise<Page> {
  page = await browser.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(path.startsWith('http') ? path : `${base}${path}`);
  return page;
}

const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
const pagerSays = (text: string) => page.getByRole('status').filter({ hasText: text }).waitFor();
const auditRows = () => page.locator('table[aria-label="Audit events"] tbody tr');
const column = (n: number) => page.locator(`table[aria-label="Audit events"] tbody tr td:nth-child(${n})`).allInnerTexts();

beforeAll(async () => {
  if (!existsSync(join(WEB_DIR, 'dist/index.html'))) {
    await build({ root: WEB_DIR, configFile: join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn' });
  }
  await mkdir(SCREENSHOTS, { recursive: true });

  schema = await createTestSchema('vt_backoffice_web');
  bank = await startTestBank();
  const t = await buildTestApp(schema.db, {
    OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a"]',
    BANK_SBX_CONNECTIONS_JSON: '{"default":"conn_default"}',
    BACKOFFICE_IDENTITY_PICKER: 'true',
  });
  // The embedded demo's data, made by its own seeding functions: one healthy source synced
  // from the project's bank simulator, one broken source, ledger, suggestions, manual reviews.
  await seedDemoBrokenSource(schema.db, ['default']);
  const adapter = new BankSandboxAdapter({ baseUrl: bank.url, token: BANK_TOKEN, timeoutMs: 5_000 });
  const sync = { sinceDays: 30, pageSize: 500, now: () => BANK_NOW };
  expect((await syncExternalSource(schema.db, adapter, { tenant: 'default', source: 'bank_sbx', connectionId: 'conn_default' }, sync)).status).toBe('succeeded');
  expect((await syncExternalSource(schema.db, adapter, { tenant: 'default', source: DEMO_BROKEN_SOURCE.source, connectionId: DEMO_BROKEN_SOURCE.connectionId }, sync)).status).toBe('failed');
  await seedDemoLedger(schema.db, 'default', 'bank_sbx');
  const run = await t.reconRuns.submit({ tenant: 'default', requestedBy: 'test' });
  expect((await t.reconRuns.waitFor('default', run.run_id)).status).toBe('succeeded');
  expect(await seedDemoManualReviews(schema.db, 'default', 'bank_sbx')).toBe(25);
  await requestManualReview(schema.db, { tenant: 'default', role: 'operator', userId: 'hud.kim' }, { subjectType: 'bank_transaction', subjectId: NEEDLE.subjectId, reason: NEEDLE.reason });

  server = t.app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterEach(async () => {
  await page?.context().close();
  expect(pageErrors, 'uncaught errors in the page').toEqual([]);
});

afterAll(async () => {
  await browser?.close();
  if (server) await new Promise((resolve) => server.close(resolve));
  await bank?.close();
  await schema?.drop();
});

describe('the Backoffice in headless Chromium', () => {
  it('opens the audit list with the manual-review filter pinned and on, and pages forward and back on the API cursors', async () => {
    await open('/backoffice/');
    const pinned = page.getByRole('checkbox', { name: 'manual_review_request pinned', exact: true });
    expect(await pinned.isChecked()).toBe(true);
    await pagerSays('Page 1: 20 events');
    expect(await column(2)).toEqual(Array(20).fill('manual_review_request'));
    const first = await column(3);
    await shot('audit-page-1');

    await page.getByRole('button', { name: 'Next' }).click();
    await pagerSays('Page 2: 6 events');
    const second = await column(3);
    expect(second).toHaveLength(6);
    expect(new Set([...first, ...second]).size).toBe(26);
    expect(first[0]).toContain(NEEDLE.subjectId); // newest first
    await shot('audit-page-2');

    await page.getByRole('button', { name: 'Previous' }).click();
    await pagerSays('Page 1: 20 events');
    expect(await column(3)).toEqual(first);
    expect(await page.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
  });

  it('shows the other actions once the pinned filter is off, and filters by another action', async () => {
    await open('/backoffice/audit');
    await pagerSays('Page 1: 20 events');
    await page.getByRole('checkbox', { name: 'manual_review_request pinned', exact: true }).uncheck();
    expect(new URL(page.url()).searchParams.get('manual_review')).toBe('off');
    // Every action now: the 26 manual reviews and, older than all of them, the failed sync.
    await page.getByRole('button', { name: 'Next' }).click();
    await pagerSays('Page 2: 7 events');
    expect((await column(2)).at(-1)).toBe('external_sync_failed');

    await page.getByRole('checkbox', { name: 'external_sync_failed', exact: true }).check();
    await pagerSays('Page 1: 1 event');
    expect(await column(2)).toEqual(['external_sync_failed']);
    expect(await column(3)).toEqual([expect.stringContaining(DEMO_BROKEN_SOURCE.source)]);
    await shot('audit-failed-syncs');
  });

  it('searches the subject and summary with free text', async () => {
    await open('/backoffice/audit');
    await pagerSays('Page 1: 20 events');
    await page.getByLabel('Search subject or summary').fill('needle');
    await page.getByRole('button', { name: 'Search' }).click();
    await pagerSays('Page 1: 1 event');
    expect(await column(3)).toEqual([expect.stringContaining(NEEDLE.subjectId)]);
    expect(await column(4)).toEqual([NEEDLE.reason]);
    await shot('audit-search');
  });

  it("opens the feedback webhook's deep link filtered by its subject_id, with every action of that subject", async () => {
    await open(backofficeAuditLink(`${base}/backoffice/`, 'default', DEMO_BROKEN_SOURCE.source));
    await pagerSays('Page 1: 1 event');
    expect(await page.getByRole('checkbox', { name: 'manual_review_request pinned', exact: true }).isChecked()).toBe(false);
    expect(await page.locator('.chip').innerText()).toContain(DEMO_BROKEN_SOURCE.source);
    expect(await column(2)).toEqual(['external_sync_failed']);
    await shot('audit-deep-link');

    await page.goto(backofficeAuditLink(`${base}/backoffice/`, 'default', NEEDLE.subjectId));
    await pagerSays('Page 1: 1 event');
    expect(await column(4)).toEqual([NEEDLE.reason]);
  });

  it('shows the broken source stale with its last error and runs, and the healthy one up to date', async () => {
    await open('/backoffice/sources');
    const broken = page.getByRole('article', { name: /^bank_sbx_legacy\b/ });
    await broken.waitFor();
    const brokenText = await broken.innerText();
    expect(brokenText).toContain('Stale');
    expect(brokenText).toContain('never synced');
    expect(brokenText).toContain('CONNECTION_NOT_FOUND');
    expect(await broken.getByRole('table').locator('tbody tr').allInnerTexts()).toEqual([expect.stringMatching(/failed\s+CONNECTION_NOT_FOUND/)]);
    const healthy = page.getByRole('article', { name: /^bank_sbx Up to date$/ });
    expect(await healthy.innerText()).not.toContain('Stale');
    expect(await healthy.getByRole('table').locator('tbody tr').allInnerTexts()).toEqual([expect.stringMatching(/succeeded/)]);
    await shot('sources');
  });

  it('shows a suggestion with its rationale and candidates, and confirms it', async () => {
    // The view's first page of "suggested" is the API's: ten, newest first.
    const { items } = await api<{ items: ReconSuggestion[] }>('/v1/accounting/recon/suggestions?status=suggested&limit=10');
    const target = items.find((s) => s.transaction.status === 'posted' && s.candidates.length > 0 && s.decision === null);
    expect(target, 'a suggestion to confirm').toBeDefined();
    const { id, rationale } = target as ReconSuggestion;
    const externalId = (target as ReconSuggestion).transaction.external_id;
    const entryId = (target as ReconSuggestion).candidates[0]?.entryId ?? '';

    await open('/backoffice/recon');
    await page.getByLabel('Status').selectOption('suggested');
    await pagerSays('Page 1: 10 suggestions');
    const card = page.getByRole('article', { name: new RegExp(`^${externalId}:`) });
    expect(await card.innerText()).toContain(rationale);
    expect(await card.getByRole('table').innerText()).toContain(entryId);
    await card.getByRole('button', { name: `Confirm ${entryId} for ${externalId}` }).click();
    await page.getByRole('status').filter({ hasText: `Confirmed ${externalId} with ${entryId}.` }).waitFor();
    expect(await card.getByRole('heading').innerText()).toContain('confirmed by operator');
    expect(await card.getByRole('button', { name: `Confirm ${entryId} for ${externalId}` }).isDisabled()).toBe(true);
    await shot('recon-confirmed');

    const after = await api<{ items: ReconSuggestion[] }>('/v1/accounting/recon/suggestions?status=matched&limit=200');
    expect(after.items.find((s) => s.id === id)).toMatchObject({ decision: 'confirm', status: 'matched' });
    const audit = await api<{ items: { action: string; summary: string }[] }>(`/v1/accounting/audit?action=recon_decision&subject_id=${externalId}`);
    expect(audit.items).toEqual([expect.objectContaining({ summary: `confirmed ${externalId} <-> ${entryId}` })]);
  });

  it('shows the 403 message for a tenant that is not enabled, and nothing of another tenant', async () => {
    await open('/backoffice/audit');
    await pagerSays('Page 1: 20 events');
    await page.getByLabel('Tenant (X-Tenant)').selectOption('pilot-b');
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: 'Tenant "pilot-b" is not enabled for this service' }).waitFor();
    expect(await alert.innerText()).toContain('TENANT_NOT_ENABLED');
    expect(await alert.innerText()).toContain('HTTP 403');
    expect(await auditRows().count()).toBe(0);
    await shot('tenant-not-enabled');

    await page.getByLabel('Tenant (X-Tenant)').selectOption('pilot-a');
    await page.getByText('No audit events match these filters.').waitFor();
    expect(await auditRows().count()).toBe(0);

    await page.getByLabel('Role (X-User-Role)').selectOption('viewer');
    await page.getByRole('alert').filter({ hasText: 'FORBIDDEN' }).waitFor();
  });
});
