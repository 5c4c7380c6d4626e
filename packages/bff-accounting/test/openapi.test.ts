import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  learnReconAlias,
  recordSyncFailure,
  recordSyncSuccess,
  seedExternalSource,
  startSyncRun,
  upsertLedgerTransactions,
  type SyncRunTotals,
} from '@accounting/data-pg';
import type { oas31 } from 'zod-openapi';
import { buildOpenApiDocument, toOpenApiPath } from '../src/openapi/buildOpenApiDocument.js';
import { API_ROUTES, type ApiRoute } from '../src/policy/permissions.js';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';

const REGENERATE = 'docs/openapi.json is out of date: run `pnpm openapi` and commit the result';
const SECRET = 'openapi-test-export-secret-7f3Kq9Lm2Xp';
const admin = { 'X-Tenant': 'default', 'X-User-Role': 'admin', 'X-User-Id': 'kim.admin' };

type Method = 'get' | 'put' | 'post' | 'delete';

const document = buildOpenApiDocument();

// ajv-formats is CommonJS; its `default` property is the plugin under every module interop.
const ajv = addFormats.default(new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true }));
// The document is added whole so that `#/components/...` references resolve; its top-level
// OpenAPI fields are declared as keywords without meaning, and everything else stays strict.
ajv.addVocabulary(Object.keys(document));
ajv.addSchema(document as object, 'openapi.json');
const validators = new Map<string, ValidateFunction>();

/** A JSON pointer segment. */
const pointer = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

function isReference(value: object): value is oas31.ReferenceObject {
  return '$ref' in value;
}

/** Follows a `#/components/<kind>/<name>` reference. */
function resolve<T extends object>(value: T | oas31.ReferenceObject): T {
  if (!isReference(value)) return value;
  const [, , kind, name] = value.$ref.split('/');
  const components = document.components as Record<string, Record<string, T> | undefined>;
  const found = components[kind ?? '']?.[name ?? ''];
  if (!found) throw new Error(`unresolved ${value.$ref}`);
  return found;
}

function operationOf(method: Method, template: string): oas31.OperationObject | undefined {
  return document.paths?.[template]?.[method];
}

/** Which documented operations answered with a 2xx the test checked. */
const checkedSuccesses = new Set<string>();

/**
 * Asserts that `res` is what the document says `method template` answers: its status is listed,
 * its required headers are there, its media type is listed, and a JSON body matches the schema.
 */
function expectDocumented(res: request.Response, method: Method, template: string): void {
  const where = `${method.toUpperCase()} ${template} -> ${res.status}`;
  const operation = operationOf(method, template);
  expect(operation, `${method.toUpperCase()} ${template} is in the document`).toBeDefined();
  const documented = operation?.responses?.[String(res.status)] as oas31.ResponseObject | oas31.ReferenceObject | undefined;
  expect(documented, `${where} is a documented status; body: ${JSON.stringify(res.body)}`).toBeDefined();
  if (!documented) return;
  const response = resolve(documented);
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    if (resolve(header).required) expect(res.headers[name.toLowerCase()], `${where} has the header ${name}`).toBeDefined();
  }
  const mediaTypes = Object.keys(response.content ?? {});
  expect(mediaTypes, `${where} documents the media type ${res.type}`).toContain(res.type);
  if (res.type === 'application/json') {
    const path = `#/paths/${pointer(template)}/${method}/responses/${res.status}/content/${pointer('application/json')}/schema`;
    let validate = validators.get(path);
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi.json${path}` });
      validators.set(path, validate);
    }
    const valid = validate(res.body);
    expect(validate.errors ?? [], `${where}: the body ${JSON.stringify(res.body).slice(0, 500)} matches the document`).toEqual([]);
    expect(valid).toBe(true);
  }
  if (res.status < 300) checkedSuccesses.add(`${method} ${template}`);
}

/** The document's path template and method of a policy-table route. */
const at = (route: ApiRoute): [Method, string] => [route.method.toLowerCase() as Method, toOpenApiPath(route.path)];

describe('the OpenAPI document', () => {
  it('is committed as docs/openapi.json exactly as generated', async () => {
    const committed: unknown = JSON.parse(await readFile(new URL('../../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(committed, REGENERATE).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(JSON.stringify(document)) as Record<string, unknown>);
    expect(result.errors ?? [], 'OpenAPI 3.1 schema errors').toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('has every route of the policy table with its method, permission, security and path parameters, and no other /v1 route', () => {
    for (const [name, route] of Object.entries(API_ROUTES)) {
      const [method, template] = at(route);
      const operation = operationOf(method, template);
      expect(operation, `${route.method} ${route.path} (API_ROUTES.${name}) is in the document`).toBeDefined();
      expect(operation).toMatchObject({ operationId: name, 'x-permission': route.permission, security: [{ tenant: [], role: [] }, { bearer: [] }] });
      expect(Object.keys(operation?.responses?.['401']?.headers ?? {})).toContain('WWW-Authenticate');
      const pathParams = (operation?.parameters ?? []).map((p) => resolve(p)).filter((p) => p.in === 'path');
      expect(pathParams.map((p) => p.name)).toEqual([...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]));
      expect(pathParams.every((p) => p.required)).toBe(true);
    }
    const documented = Object.entries(document.paths ?? {})
      .filter(([template]) => template.startsWith('/v1/'))
      .flatMap(([template, item]) => (['get', 'put', 'post', 'delete'] as const).filter((m) => item[m]).map((m) => `${m} ${template}`));
    expect(documented.sort()).toEqual(Object.values(API_ROUTES).map((route) => at(route).join(' ')).sort());
  });

  it('writes Express :params as OpenAPI {params}', () => {
    expect(toOpenApiPath('/v1/accounting/recon/suggestions/:id/decision')).toBe('/v1/accounting/recon/suggestions/{id}/decision');
    expect(() => toOpenApiPath('/v1/files/*rest')).toThrow(/unsupported/);
  });
});

describe('the running app and the document', () => {
  let schema: TestSchema;
  let t: TestApp;

  const totals: SyncRunTotals = {
    pages: 1,
    attempts: 1,
    added: 2,
    modified: 0,
    removed: 0,
    removedUnknown: 0,
    fullResync: true,
    providerRefreshedAt: null,
  };

  beforeAll(async () => {
    schema = await createTestSchema('vt_openapi');
    t = await buildTestApp(schema.db, {
      EXPORT_SIGN_SECRET: SECRET,
      OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a"]',
      BANK_SBX_CONNECTIONS_JSON: '{"default":["conn_default","conn_docs"]}',
    });
    // A source with a succeeded and a failed run, and bank transactions to reconcile.
    await seedExternalSource(schema.db, 'default', { source: 'bank_sbx', kind: 'bank_sbx', connectionId: 'conn_default', enabled: true });
    const ok = await startSyncRun(schema.db, 'default', 'bank_sbx');
    await recordSyncSuccess(schema.db, 'default', 'bank_sbx', ok, totals);
    const failed = await startSyncRun(schema.db, 'default', 'bank_sbx');
    await recordSyncFailure(schema.db, 'default', 'bank_sbx', failed, { code: 'TIMEOUT', message: 'bank did not answer', attempts: 3, totals });
    const bankTx = { accountId: 'acc_1', currency: 'KRW', status: 'posted' as const, pendingExternalId: null, providerUpdatedAt: null };
    await upsertLedgerTransactions(schema.db, { tenant: 'default', source: 'bank_sbx', seenMarker: '1' }, [
      { ...bankTx, externalId: 'tx_ref', amount: '-55000', bookedDate: '2026-11-20', description: 'TRANSFER ACME', counterparty: 'ACME', reference: 'INV-42' },
      { ...bankTx, externalId: 'tx_none', amount: '-777777', bookedDate: '2026-11-20', description: 'UNKNOWN MERCHANT', counterparty: null, reference: null },
    ]);
  });
  afterAll(async () => {
    await schema?.drop();
  });

  it('serves the document at GET /openapi.json without X-Tenant', async () => {
    const res = await request(t.app).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.type).toBe('application/json');
    expect(res.body).toEqual(JSON.parse(JSON.stringify(document)));
    expectDocumented(res, 'get', '/openapi.json');
  });

  it('answers the ops routes as documented', async () => {
    expectDocumented(await request(t.app).get('/health').expect(200), 'get', '/health');
    expectDocumented(await request(t.app).get('/ready').expect(200), 'get', '/ready');
    expectDocumented(await request(t.app).get('/metrics').expect(200), 'get', '/metrics');
  });

  it('answers the audit routes as documented, a replayed write included', async () => {
    const review = { subject_type: 'invoice', subject_id: 'inv-1', reason: 'amount looks wrong', client_ts: '2026-11-20T09:00:00+09:00' };
    const created = await request(t.app).post('/v1/accounting/audit/manual-review').set(admin).set('Idempotency-Key', 'review-1').send(review);
    expect(created.status).toBe(201);
    expectDocumented(created, ...at(API_ROUTES.createManualReview));
    const replayed = await request(t.app).post('/v1/accounting/audit/manual-review').set(admin).set('Idempotency-Key', 'review-1').send(review);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expectDocumented(replayed, ...at(API_ROUTES.createManualReview));
    await request(t.app).post('/v1/accounting/audit/manual-review').set(admin).set('Idempotency-Key', 'review-2').send({ ...review, subject_id: 'inv-2' }).expect(201);

    const page = await request(t.app).get('/v1/accounting/audit?limit=1').set(admin);
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(1);
    expect(page.body.next_cursor).toEqual(expect.any(String));
    expectDocumented(page, ...at(API_ROUTES.listAuditEvents));

    const verified = await request(t.app).get('/v1/accounting/audit/verify').set(admin);
    expect(verified.body).toMatchObject({ valid: true, checked: 2 });
    expectDocumented(verified, ...at(API_ROUTES.verifyAuditChain));
    expectDocumented(await request(t.app).get('/v1/accounting/audit/verify?expect_seq=1').set(admin).expect(400), ...at(API_ROUTES.verifyAuditChain));
  });

  it('answers the sources routes as documented', async () => {
    const created = await request(t.app).put('/v1/accounting/os/sources/docs_src').set(admin).send({ kind: 'bank_sbx', connection_id: 'conn_docs' });
    expect(created.status).toBe(201);
    expectDocumented(created, ...at(API_ROUTES.putSource));
    const updated = await request(t.app).put('/v1/accounting/os/sources/docs_src').set(admin).send({ kind: 'bank_sbx', connection_id: 'conn_docs', enabled: false });
    expect(updated.status).toBe(200);
    expectDocumented(updated, ...at(API_ROUTES.putSource));
    const refused = await request(t.app).put('/v1/accounting/os/sources/docs_other').set(admin).send({ kind: 'bank_sbx', connection_id: 'conn_unassigned' });
    expect(refused.status).toBe(403);
    expectDocumented(refused, ...at(API_ROUTES.putSource));

    const list = await request(t.app).get('/v1/accounting/os/sources').set(admin);
    expect(list.status).toBe(200);
    const synced = (list.body.sources as { source: string; recent_runs: unknown[]; last_error: unknown }[]).find((s) => s.source === 'bank_sbx');
    expect(synced?.recent_runs).toHaveLength(2);
    expect(synced?.last_error).toMatchObject({ code: 'TIMEOUT' });
    expectDocumented(list, ...at(API_ROUTES.listSources));

    expectDocumented(await request(t.app).get('/v1/accounting/os/sources/bank_sbx').set(admin).expect(200), ...at(API_ROUTES.getSource));
    expectDocumented(await request(t.app).get('/v1/accounting/os/sources/missing').set(admin).expect(404), ...at(API_ROUTES.getSource));
  });

  it('answers the ledger and reconciliation routes as documented', async () => {
    const entries = [
      { entry_id: 'e-ref', amount: '-55000', currency: 'KRW', date: '2026-11-20', memo: 'ACME invoice', reference: 'INV-42', counterparty: 'ACME' },
      { entry_id: 'e-other', amount: '-1000', currency: 'KRW', date: '2026-11-21' },
    ];
    expectDocumented(await request(t.app).post('/v1/accounting/ledger-entries').set(admin).send({ entries }).expect(200), ...at(API_ROUTES.importLedgerEntries));
    const ledger = await request(t.app).get('/v1/accounting/ledger-entries?limit=1').set(admin).expect(200);
    expect(ledger.body.next_cursor).toEqual(expect.any(String));
    expectDocumented(ledger, ...at(API_ROUTES.listLedgerEntries));

    const accepted = await request(t.app).post('/v1/accounting/recon/run').set(admin).send({}).expect(202);
    expectDocumented(accepted, ...at(API_ROUTES.runRecon));
    await t.reconRuns.waitFor('default', accepted.body.run_id);
    expectDocumented(await request(t.app).get(accepted.headers.location as string).set(admin).expect(200), ...at(API_ROUTES.getReconRun));
    const unknownRun = await request(t.app).get('/v1/accounting/recon/runs/00000000-0000-4000-8000-000000000000').set(admin).expect(404);
    expectDocumented(unknownRun, ...at(API_ROUTES.getReconRun));
    const suggestions = await request(t.app).get('/v1/accounting/recon/suggestions').set(admin).expect(200);
    expectDocumented(suggestions, ...at(API_ROUTES.listReconSuggestions));
    const items = suggestions.body.items as { id: string; transaction: { external_id: string }; candidates: unknown[] }[];
    const withCandidate = items.find((s) => s.transaction.external_id === 'tx_ref');
    expect(withCandidate?.candidates.length).toBeGreaterThan(0);

    const decide = (key: string, body: object) =>
      request(t.app).post(`/v1/accounting/recon/suggestions/${withCandidate?.id}/decision`).set(admin).set('Idempotency-Key', key).send(body);
    expectDocumented(await decide('decide-1', { decision: 'decline', note: 'not this one' }).expect(200), ...at(API_ROUTES.decideReconSuggestion));
    expectDocumented(await decide('decide-2', { decision: 'confirm' }).expect(409), ...at(API_ROUTES.decideReconSuggestion));
    expectDocumented(await decide('decide-1', { decision: 'confirm' }).expect(422), ...at(API_ROUTES.decideReconSuggestion));
  });

  it('answers the alias routes as documented', async () => {
    const alias = await learnReconAlias(schema.db, 'default', {
      bankName: 'hanbit sangsa',
      ledgerName: '한빛상사',
      learnedFrom: { suggestionId: null, source: 'bank_sbx', externalId: 'tx_ref', entryId: 'e-ref' },
      createdBy: 'kim.admin',
    });
    const list = await request(t.app).get('/v1/accounting/recon/aliases').set(admin).expect(200);
    expect(list.body.items).toHaveLength(1);
    expectDocumented(list, ...at(API_ROUTES.listReconAliases));
    expectDocumented(await request(t.app).delete(`/v1/accounting/recon/aliases/${alias?.id}`).set(admin).expect(200), ...at(API_ROUTES.deleteReconAlias));
    expectDocumented(await request(t.app).delete(`/v1/accounting/recon/aliases/${alias?.id}`).set(admin).expect(404), ...at(API_ROUTES.deleteReconAlias));
  });

  it('answers the export routes as documented, and 503 EXPORTS_DISABLED without a secret', async () => {
    const exported = await request(t.app).get('/v1/accounting/exports/audit?format=ndjson').set(admin).responseType('blob').expect(200);
    expectDocumented(exported, ...at(API_ROUTES.exportAuditEvents));
    const exportId = exported.headers['x-export-id'];
    const receipt = await request(t.app).get(`/v1/accounting/exports/${exportId}/signature`).set(admin).expect(200);
    expectDocumented(receipt, ...at(API_ROUTES.getExportSignature));
    const { sha256, signature } = receipt.body as { sha256: string; signature: string };

    const byDigest = await request(t.app).post('/v1/accounting/exports/verify').set(admin).send({ sha256, signature }).expect(200);
    expect(byDigest.body).toMatchObject({ valid: true, key: 'current' });
    expectDocumented(byDigest, ...at(API_ROUTES.verifyExport));
    const byBytes = await request(t.app)
      .post('/v1/accounting/exports/verify')
      .set(admin)
      .set('Content-Type', 'application/octet-stream')
      .set('X-Export-Signature', signature)
      .send(exported.body as Buffer)
      .expect(200);
    expect(byBytes.body).toMatchObject({ valid: true });
    expectDocumented(byBytes, ...at(API_ROUTES.verifyExport));
    const wrong = await request(t.app).post('/v1/accounting/exports/verify').set(admin).send({ sha256: 'a'.repeat(64), signature }).expect(200);
    expect(wrong.body).toMatchObject({ valid: false, reason: 'mismatch' });
    expectDocumented(wrong, ...at(API_ROUTES.verifyExport));
    expectDocumented(
      await request(t.app).get('/v1/accounting/exports/00000000-0000-4000-8000-000000000000/signature').set(admin).expect(404),
      ...at(API_ROUTES.getExportSignature),
    );

    const disabled = await buildTestApp(schema.db, {}, { migrate: false });
    expectDocumented(await request(disabled.app).get(`/v1/accounting/exports/${exportId}/signature`).set(admin).expect(503), ...at(API_ROUTES.getExportSignature));
  });

  it('answers the gate and input errors in the one error shape, with codes the document lists for the route', async () => {
    const audit = at(API_ROUTES.listAuditEvents);
    const cases: [Record<string, string>, string, number, string][] = [
      [{ 'X-User-Role': 'admin' }, '', 400, 'TENANT_REQUIRED'],
      [{ 'X-Tenant': 'Not A Tenant', 'X-User-Role': 'admin' }, '', 400, 'INVALID_TENANT'],
      [{ 'X-Tenant': 'elsewhere', 'X-User-Role': 'admin' }, '', 403, 'TENANT_NOT_ENABLED'],
      [{ 'X-Tenant': 'default', 'X-User-Role': 'intern' }, '', 403, 'ROLE_NOT_MAPPED'],
      [{ 'X-Tenant': 'default', 'X-User-Role': 'viewer' }, '', 403, 'FORBIDDEN'],
      [admin, '?limit=0', 400, 'VALIDATION_FAILED'],
    ];
    for (const [headers, query, status, code] of cases) {
      const res = await request(t.app).get(`/v1/accounting/audit${query}`).set(headers);
      expect([res.status, res.body.error_code]).toEqual([status, code]);
      expect(res.body.request_id).toBe(res.headers['x-request-id']);
      expectDocumented(res, ...audit);
    }
    const badJson = await request(t.app).post('/v1/accounting/ledger-entries').set(admin).set('Content-Type', 'application/json').send('{"entries": [');
    expect([badJson.status, badJson.body.error_code]).toEqual([400, 'INVALID_JSON']);
    expectDocumented(badJson, ...at(API_ROUTES.importLedgerEntries));
  });

  it('requires Idempotency-Key on exactly the writes the document says', async () => {
    const requiresKey = (route: ApiRoute) =>
      (operationOf(...at(route))?.parameters ?? []).some((p) => {
        const parameter = resolve(p);
        return parameter.in === 'header' && parameter.name === 'Idempotency-Key' && parameter.required === true;
      });
    const paths: Record<string, string> = { ':source': 'docs_src', ':id': '1', ':exportId': '00000000-0000-4000-8000-000000000000' };
    for (const [name, route] of Object.entries(API_ROUTES)) {
      if (route.method === 'GET') continue;
      const url = route.path.replace(/:\w+/g, (param) => paths[param] ?? param);
      const res = await request(t.app)[route.method === 'PUT' ? 'put' : route.method === 'POST' ? 'post' : 'delete'](url).set(admin).send({ not: 'valid' });
      const refused = res.status === 400 && res.body.error_code === 'IDEMPOTENCY_KEY_REQUIRED';
      expect(refused, `${name}: refuses a request without Idempotency-Key exactly when the document requires the header`).toBe(requiresKey(route));
      expectDocumented(res, ...at(route));
    }
  });

  it('has checked a real success answer of every route of the policy table', () => {
    const missing = Object.entries(API_ROUTES)
      .filter(([, route]) => !checkedSuccesses.has(at(route).join(' ')))
      .map(([name]) => name);
    expect(missing, 'routes without a success sample in test/openapi.test.ts').toEqual([]);
  });
});
