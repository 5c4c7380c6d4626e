import { readFileSync } from 'node:fs';
import http from 'node:http';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedExternalSource, upsertLedgerTransactions } from '@accounting/data-pg';
import { buildTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestSchema, type TestSchema } from '../../../test/support/postgres.js';
import { listen, type RunningServer } from '../src/server.js';

// Property-based fuzzing of every route of docs/openapi.json with bad input (issue 18): no
// request may get a 5xx, and every error body is the one error shape without a stack or SQL.
// Reproducible: FUZZ_SEED=<n> repeats a run; a failure prints the seed to use.

const SEED = Number(process.env.FUZZ_SEED ?? 18_002);
/** Requests sent at once: each run of the property is one batch. */
const BATCH = 8;
const RUNS = 1_280;
const TOTAL = BATCH * RUNS;

// ---------------------------------------------------------------------------------------------
// The routes, as the OpenAPI document lists them

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
}

interface Parameter {
  $ref?: string;
  name: string;
  in: 'query' | 'path' | 'header';
  schema?: JsonSchema;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema?: JsonSchema }> } }>>;
  components: { schemas: Record<string, JsonSchema>; parameters: Record<string, Parameter> };
}

interface Operation {
  method: string;
  /** OpenAPI path, `{name}` for path parameters. */
  path: string;
  pathParams: Parameter[];
  query: Parameter[];
  headers: string[];
  /** The JSON body's schema, when the route takes one. */
  body: JsonSchema | undefined;
}

const document = JSON.parse(readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8')) as OpenApiDocument;

function resolve<T extends { $ref?: string }>(value: T, table: Record<string, T>): T {
  return value.$ref ? (table[value.$ref.split('/').pop()!] ?? value) : value;
}

const OPERATIONS: Operation[] = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, op]) => {
    const parameters = (op.parameters ?? []).map((p) => resolve(p, document.components.parameters));
    return {
      method: method.toUpperCase(),
      path,
      pathParams: parameters.filter((p) => p.in === 'path'),
      query: parameters.filter((p) => p.in === 'query'),
      headers: parameters.filter((p) => p.in === 'header').map((p) => p.name),
      body: op.requestBody?.content['application/json']?.schema ?? (op.requestBody ? {} : undefined),
    };
  }),
);

// ---------------------------------------------------------------------------------------------
// Values

const BOUNDARY_DATES = ['0000-01-01', '0001-01-01', '1899-12-31', '1900-01-01', '2026-02-28', '2026-02-30', '2026-13-45', '9998-12-31', '9999-12-31', '2026-1-1', '20260101'];
const BOUNDARY_INSTANTS = [
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999999Z',
  '2026-02-30T00:00:00Z',
  '2026-13-45T00:00:00Z',
  '1900-01-01T00:00:00+01:00',
  '9998-12-31T23:59:59-23:59',
  '2026-05-18T12:00:00.123456789Z',
  '2026-05-18T24:00:00Z',
  '2026-05-18T12:00:00',
  '2026-05-18T12:00:00Z',
];
const HUGE_NUMBERS = ['9223372036854775807', '9223372036854775808', '-9223372036854775809', '99999999999999999999999999', '1e400', '-0', '0', '-1', '1.5', 'NaN', 'Infinity', '0x10'];

/** Text with the characters that break things: NUL, lone surrogates, RTL marks, emoji, CJK, quotes. */
const nastyText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', ' ', '\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '\u202e\u0041', '👩‍👩‍👧', '한빛상사', "' OR 1=1 --", '%_\\', '"', '\\u0000', '${x}') },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.nat({ max: 20_000 }).map((n) => 'x'.repeat(n)) },
);

const wildString = fc.oneof(fc.constantFrom(...BOUNDARY_DATES, ...BOUNDARY_INSTANTS, ...HUGE_NUMBERS), nastyText);

const wildNumber = fc.oneof(
  fc.constantFrom(0, -1, 1.5, 2 ** 53 + 2, -(2 ** 63), 1e308, -1e308, 5e-324),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value, wrong in type or size for wherever it lands. */
const wildJson: fc.Arbitrary<unknown> = fc.oneof(
  wildString,
  wildNumber,
  fc.constantFrom(true, false, null, [], {}),
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(nastyText, wildString, { maxKeys: 3 }),
);

/**
 * Mostly `faithful`, now and then `wild`. Each part of a request is drawn so, so that most
 * requests are valid but for one or two parts, and so reach past the schema into the handler.
 */
const mostly = <T, U>(faithful: fc.Arbitrary<T>, wild: fc.Arbitrary<U>) =>
  fc.oneof({ weight: 9, arbitrary: faithful as fc.Arbitrary<T | U> }, { weight: 1, arbitrary: wild as fc.Arbitrary<T | U> });

/** `arbitrary` once in `times` draws, otherwise null. */
const onceIn = <T>(times: number, arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: times - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arbitrary as fc.Arbitrary<T | null> });

const saneDate = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2035-12-31T23:59:59Z'), noInvalidDate: true });
const calendarDate = fc.oneof({ weight: 3, arbitrary: saneDate.map((d) => d.toISOString().slice(0, 10)) }, { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_DATES) });
const instant = fc.oneof({ weight: 3, arbitrary: saneDate.map((d) => d.toISOString()) }, { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_INSTANTS) });

function stringMatching(pattern: string): fc.Arbitrary<string> {
  try {
    return fc.stringMatching(new RegExp(pattern));
  } catch {
    return wildString;
  }
}

/** A string as a schema wants it, boundary dates included. */
function faithfulString(schema: JsonSchema): fc.Arbitrary<string> {
  return schema.format === 'date'
      ? calendarDate
      : schema.format === 'date-time'
        ? instant
        : schema.format === 'uuid'
          ? fc.uuid()
          : schema.pattern
            ? stringMatching(schema.pattern)
            : fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), nastyText);
}

/** A string as a schema wants it, mostly, and sometimes a wild one. */
const stringFor = (schema: JsonSchema) => mostly(faithfulString(schema), fc.oneof(wildString, fc.date({ noInvalidDate: true }).map((d) => d.toISOString())));

/**
 * A JSON value shaped by `schema` (keys, nesting, formats). `wild`: with wild values mixed in at
 * every level (an extra key, a wrong type, a NUL); otherwise only what the schema allows, and
 * boundary dates.
 */
function jsonFor(schema: JsonSchema, wild = true, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, document.components.schemas);
  const choices = s.anyOf ?? s.oneOf;
  let faithful: fc.Arbitrary<unknown>;
  if (choices) faithful = fc.oneof(...choices.map((choice) => jsonFor(choice, wild, depth + 1)));
  else if (s.enum) faithful = fc.constantFrom(...s.enum);
  else if (s.const !== undefined) faithful = fc.constant(s.const);
  else if (s.type === 'object' && s.properties && depth < 6) {
    const model = Object.fromEntries(Object.entries(s.properties).map(([key, inner]) => [key, jsonFor(inner, wild, depth + 1)]));
    const record = fc.record(model, { requiredKeys: [] });
    faithful = wild
      ? fc.tuple(record, onceIn(12, fc.tuple(nastyText, wildJson))).map(([object, extra]) => (extra ? { ...object, [extra[0]]: extra[1] } : object))
      : record;
  } else if (s.type === 'array' && s.items && depth < 6) faithful = fc.array(jsonFor(s.items, wild, depth + 1), { minLength: 1, maxLength: 4 });
  else if (s.type === 'string') faithful = wild ? stringFor(s) : faithfulString(s);
  else if (s.type === 'boolean') faithful = fc.boolean();
  else if (s.type === 'integer' || s.type === 'number') faithful = wildNumber;
  else faithful = wildJson;
  return wild ? mostly(faithful, wildJson) : faithful;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

const bigintText = fc.oneof(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String), fc.constantFrom(...HUGE_NUMBERS));
const micros = (d: Date) => String(BigInt(d.getTime()) * 1_000n);

/** The cursors this API issues, their contents sane or out of range: audit `{t, i}`, ledger `[date, entry_id]`, suggestions a bigint. */
const CURSORS: Record<string, fc.Arbitrary<string>> = {
  '/v1/accounting/audit': fc
    .record({ t: mostly(saneDate.map(micros), fc.oneof(bigintText, fc.date({ noInvalidDate: true }).map(micros))), i: mostly(fc.integer({ min: 1, max: 50 }).map(String), bigintText) })
    .map((c) => base64url(JSON.stringify(c))),
  '/v1/accounting/ledger-entries': fc.tuple(calendarDate, mostly(fc.constantFrom('e-0', 'e-1', 'e-2'), nastyText)).map((c) => base64url(JSON.stringify(c))),
  '/v1/accounting/recon/suggestions': mostly(fc.integer({ min: 1, max: 50 }).map(String), bigintText),
};

/** A cursor of the route's kind mostly; else another kind, random base64url of random JSON or bytes, or plain garbage. */
const cursorFor = (path: string) =>
  mostly(
    CURSORS[path] ?? wildString,
    fc.oneof(
      ...Object.values(CURSORS),
      fc.jsonValue({ maxDepth: 2 }).map((value) => base64url(JSON.stringify(value))),
      fc.uint8Array({ maxLength: 150 }).map((bytes) => base64url(Buffer.from(bytes))),
      fc.constantFrom(...HUGE_NUMBERS, '', '====', '***'),
      nastyText,
    ),
  );

/** Percent-encodes `text` byte by byte (lone surrogates become U+FFFD), leaving unreserved characters. */
function encode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A URL component: encoded text mostly, sometimes raw bad percent-encoding. */
const urlPart = (text: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 40, arbitrary: text.map(encode) }, { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%C0%80', '%FF%FE', '%00', '%E2%82', '..', '%2F', '%2e%2e') });

function queryValueFor(op: Operation, param: Parameter): fc.Arbitrary<string> {
  if (param.name === 'cursor') return cursorFor(op.path);
  if (param.name === 'limit') return mostly(fc.integer({ min: 1, max: 200 }).map(String), fc.oneof(fc.integer({ min: -5, max: 600 }).map(String), fc.constantFrom(...HUGE_NUMBERS), wildString));
  const schema = param.schema ?? {};
  const items = schema.type === 'array' ? (schema.items ?? {}) : schema;
  return mostly(jsonFor(items, false).map((value) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''))), wildString);
}

function queryFor(op: Operation): fc.Arbitrary<string> {
  const known = op.query.map((param) =>
    fc.option(
      fc.oneof(
        { weight: 40, arbitrary: urlPart(queryValueFor(op, param)).map((value) => [`${param.name}=${value}`]) },
        { weight: 1, arbitrary: fc.array(urlPart(queryValueFor(op, param)), { minLength: 2, maxLength: 3 }).map((values) => values.map((v) => `${param.name}=${v}`)) },
        { weight: 1, arbitrary: fc.constantFrom([`${param.name}[]=x`], [`${param.name}[a]=b`], [param.name], [`${param.name}=`]) },
      ),
      { freq: 2 },
    ),
  );
  const unknown = onceIn(20, fc.tuple(urlPart(nastyText), urlPart(wildString)).map(([k, v]) => [`${k}=${v}`]));
  return fc.tuple(...known, unknown).map((parts) => {
    const pairs = parts.flatMap((part) => part ?? []);
    return pairs.length > 0 ? `?${pairs.join('&')}` : '';
  });
}

function pathParamFor(param: Parameter): fc.Arbitrary<string> {
  const faithful =
    param.name === 'id'
      ? fc.oneof(fc.constantFrom('1', '2', '3', '4'), bigintText)
      : param.name === 'source'
        ? fc.oneof(fc.constant('bank_sbx'), stringFor(param.schema ?? {}))
        : stringFor(param.schema ?? {});
  return urlPart(mostly(faithful, wildString));
}

/** Header values Node's client can send: tab, printable ASCII and Latin-1, never a line break. */
const headerText = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 300 }),
  fc.constantFrom('', ' ', '\t', 'a'.repeat(8_000), '../../etc', 'null', '0'),
);

const usually = <T>(value: T, otherwise: fc.Arbitrary<T | undefined>) =>
  fc.oneof({ weight: 12, arbitrary: fc.constant<T | undefined>(value) }, { weight: 1, arbitrary: otherwise });

const tenantHeader = usually('default', fc.oneof(fc.constantFrom(undefined, 'pilot-b', 'DEFAULT', 'a'.repeat(64), 'default,pilot-a'), headerText));
const roleHeader = usually('admin', fc.oneof(fc.constantFrom(undefined, 'viewer', 'operator', 'auditor', 'root', 'ADMIN'), headerText));
const optionalHeader = fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: headerText });
const idempotencyKey = fc.oneof(
  { weight: 6, arbitrary: fc.uuid().map((v): string | undefined => v) },
  { weight: 1, arbitrary: fc.constantFrom('reused-1', 'reused-2') },
  { weight: 2, arbitrary: fc.oneof(fc.constant(undefined), headerText) },
);
const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant<string | undefined>('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      undefined,
      'application/json; charset=utf-16le',
      'application/json; charset=utf-32',
      'application/json; charset=latin1',
      'application/json; charset=nonsense',
      'text/plain',
      'application/octet-stream',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ),
  },
  { weight: 1, arbitrary: headerText },
);
const contentEncoding = fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-nonsense') });

/** Bodies that are not what any route wants. */
const badBody = fc.oneof(
  fc.constantFrom('{', '{"a":', '{"a":1,}', 'nul', "{'a':1}", '[1,2', '"\\ud800"', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{}}}', '1e400', '123456789012345678901234567890'),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.nat({ max: 5_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.tuple(fc.integer({ min: 60, max: 70 }), fc.boolean()).map(([n, object]) => (object ? '{"a":'.repeat(n) + '1' + '}'.repeat(n) : '['.repeat(n) + ']'.repeat(n))),
  fc.constantFrom(1_000, 200_000, 1_048_600).map((n) => '['.repeat(n)),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
);

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

function requestFor(op: Operation): fc.Arbitrary<FuzzRequest> {
  const path = fc.tuple(...op.pathParams.map(pathParamFor)).map((values) => {
    let filled = op.path;
    op.pathParams.forEach((param, i) => (filled = filled.replace(`{${param.name}}`, values[i] ?? '')));
    return filled;
  });
  const json = op.body ? mostly(jsonFor(op.body, false), jsonFor(op.body)).map((value) => JSON.stringify(value) ?? 'undefined') : fc.constant(undefined);
  const body = op.body
    ? fc.oneof({ weight: 12, arbitrary: json }, { weight: 3, arbitrary: badBody }, { weight: 1, arbitrary: fc.constant(undefined) })
    : fc.oneof({ weight: 10, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: badBody });
  const method = fc.oneof({ weight: 20, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: fc.constantFrom('HEAD', 'DELETE', 'PATCH', 'OPTIONS', 'PUT') });
  return fc
    .record({
      method,
      path,
      query: queryFor(op),
      tenant: tenantHeader,
      role: roleHeader,
      requestId: optionalHeader,
      userId: optionalHeader,
      key: op.headers.includes('Idempotency-Key') ? idempotencyKey : optionalHeader,
      signature: op.headers.includes('X-Export-Signature') ? fc.oneof(fc.constant(`kid=${'a'.repeat(16)},v1=${'b'.repeat(64)}`), headerText) : fc.constant(undefined),
      contentType,
      contentEncoding,
      body,
    })
    .map((r) => {
      const headers: Record<string, string | undefined> = {
        'X-Tenant': r.tenant,
        'X-User-Role': r.role,
        'X-Request-Id': r.requestId,
        'X-User-Id': r.userId,
        'Idempotency-Key': r.key,
        'X-Export-Signature': r.signature,
        ...(r.body !== undefined ? { 'Content-Type': r.contentType, 'Content-Encoding': r.contentEncoding } : {}),
      };
      return {
        method: r.method,
        path: r.path + r.query,
        headers: Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined)),
        body: r.body,
      };
    });
}

// ---------------------------------------------------------------------------------------------
// Sending and judging

interface FuzzResponse {
  status: number;
  requestId: string | undefined;
  contentType: string;
  body: Buffer;
}

/** Methods Node's client sends without chunked framing: a body on them needs a Content-Length, or it is read as the next request. */
const UNFRAMED_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

function send(port: number, agent: http.Agent, req: FuzzRequest): Promise<FuzzResponse> {
  const framing = req.body !== undefined && UNFRAMED_METHODS.has(req.method) ? { 'Content-Length': String(Buffer.byteLength(req.body)) } : {};
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers, ...framing };
    const outgoing = http.request({ host: '127.0.0.1', port, agent, method: req.method, path: req.path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, requestId: res.headers['x-request-id'] as string | undefined, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

const STACK_OR_SQL = [/\n\s*at /, /\bat \S+ \(/, /\.[jt]s:\d+:\d+/, /node:internal/, /\bSELECT\b/, /syntax error/i, /\brelation\b/i];

/** What is wrong with the answer to `req`, or null when it is as it must be. */
function problemWith(req: FuzzRequest, res: FuzzResponse): string | null {
  if (res.status >= 500) return `status ${res.status}`;
  if (res.status < 400 || req.method === 'HEAD') return null;
  // Node's HTTP parser answers some requests itself, before the app sees them (headers over
  // 16 KiB, a malformed request line): a bare status, without a body or a request id.
  if (res.requestId === undefined && res.body.length === 0 && [400, 408, 413, 431].includes(res.status)) return null;
  if (!res.contentType.startsWith('application/json')) return `error with content type ${res.contentType}`;
  const text = res.body.toString('utf8');
  const leak = STACK_OR_SQL.find((pattern) => pattern.test(text));
  if (leak) return `error body matches ${leak}`;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'error body is not JSON';
  }
  const { error_code, message, request_id } = (body ?? {}) as Record<string, unknown>;
  if (typeof body !== 'object' || Array.isArray(body) || typeof error_code !== 'string' || typeof message !== 'string' || typeof request_id !== 'string') {
    return 'error body is not {error_code, message, request_id}';
  }
  return null;
}

function describeFailure(req: FuzzRequest, res: FuzzResponse | undefined, problem: string): string {
  const body = req.body === undefined ? '(none)' : JSON.stringify(req.body.toString().slice(0, 300));
  const answer = res ? `${res.status} ${res.body.toString('utf8').slice(0, 500)}` : '(no answer)';
  return `${problem}\n  ${req.method} ${req.path.slice(0, 500)}\n  headers ${JSON.stringify(req.headers).slice(0, 500)}\n  body ${body}\n  answer ${answer}`;
}

/** `gc()` when the flag can still be set; the RSS check is then after a full collection. */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

// ---------------------------------------------------------------------------------------------

let schema: TestSchema;
let t: TestApp;
let running: RunningServer;

beforeAll(async () => {
  schema = await createTestSchema('vt_fuzz');
  t = await buildTestApp(schema.db, {
    LOG_LEVEL: 'error',
    OS_TENANT_ALLOWLIST_JSON: '["default","pilot-a"]',
    EXPORT_SIGN_SECRET: 'fuzz-signing-secret-of-at-least-32-bytes',
  });
  // Something to find: a source with transactions, ledger entries and suggestions to decide.
  await seedExternalSource(schema.db, 'default', { source: 'bank_sbx', kind: 'bank_sbx', connectionId: 'conn', enabled: true });
  await upsertLedgerTransactions(
    schema.db,
    { tenant: 'default', source: 'bank_sbx', seenMarker: '1' },
    ['-12000', '-8700', '-55000', '-3300'].map((amount, i) => ({
      externalId: `tx_${i}`,
      accountId: 'acc_1',
      amount,
      currency: 'KRW',
      bookedDate: `2026-11-2${i}`,
      status: i === 3 ? ('pending' as const) : ('posted' as const),
      pendingExternalId: null,
      description: `CARD 4821 SHOP ${i}`,
      counterparty: null,
      reference: i === 2 ? 'INV-1' : null,
      providerUpdatedAt: null,
    })),
  );
  const admin = { 'X-Tenant': 'default', 'X-User-Role': 'admin' };
  const entries = ['-12000', '-8700', '-55000'].map((amount, i) => ({ entry_id: `e-${i}`, amount, currency: 'KRW', date: `2026-11-2${i}`, reference: i === 2 ? 'INV-1' : null }));
  expect((await request(t.app).post('/v1/accounting/ledger-entries').set(admin).send({ entries })).status).toBe(200);
  const run = await request(t.app).post('/v1/accounting/recon/run').set(admin).send({});
  expect(run.status).toBe(202);
  expect(await t.reconRuns.waitFor('default', run.body.run_id)).toMatchObject({ status: 'succeeded' });
  running = await listen(t.app, 0, '127.0.0.1');
});
afterAll(async () => {
  await running?.drain(1_000);
  await t?.reconRuns.stop();
  await schema?.drop();
});

describe('bad input never reaches a 5xx', () => {
  it(`answers ${TOTAL} generated requests to every route of the OpenAPI document without a 5xx, each error in the one shape`, async () => {
    // A connection per request: one the server closes after an error is never reused by a racing request.
    const agent = new http.Agent({ keepAlive: false, maxSockets: BATCH });
    const seen = new Map<string, number>();
    const statuses = new Map<number, number>();
    let pastTheGate = 0;
    const anyRequest = fc.oneof(...OPERATIONS.map((op) => requestFor(op).map((req) => ({ op, req }))));

    collectGarbage();
    const rssBefore = process.memoryUsage().rss;
    const run = await fc.check(
      fc.asyncProperty(fc.array(anyRequest, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const answers = await Promise.all(batch.map(({ req }) => send(running.port, agent, req).then((res) => ({ res }), (error: unknown) => ({ error }))));
        batch.forEach(({ op, req }, i) => {
          const answer = answers[i]!;
          if ('error' in answer) throw new Error(describeFailure(req, undefined, `request failed: ${String(answer.error)}`));
          const { res } = answer;
          seen.set(`${op.method} ${op.path}`, (seen.get(`${op.method} ${op.path}`) ?? 0) + 1);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (!/TENANT_|ROLE_NOT_MAPPED|FORBIDDEN/.test(res.body.toString('utf8', 0, 200))) pastTheGate++;
          const problem = problemWith(req, res);
          if (problem) throw new Error(describeFailure(req, res, problem));
        });
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    agent.destroy();
    if (run.failed) {
      // The counterexample is a batch of large requests: the error names the one that failed instead.
      const logged = t.logs.find('unhandled error').slice(0, 3);
      const error = run.errorInstance instanceof Error ? run.errorInstance.message : String(run.errorInstance);
      expect.fail(`fuzzing failed after ${run.numRuns} batches; repeat with FUZZ_SEED=${run.seed}\n${error}\nserver errors: ${JSON.stringify(logged).slice(0, 2_000)}`);
    }
    collectGarbage();
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    // Every route was fuzzed, and most requests reached their handler rather than the gate.
    for (const op of OPERATIONS) expect(seen.get(`${op.method} ${op.path}`) ?? 0, `${op.method} ${op.path}`).toBeGreaterThan(TOTAL / OPERATIONS.length / 3);
    expect([...seen.values()].reduce((sum, n) => sum + n, 0)).toBe(TOTAL);
    expect(pastTheGate).toBeGreaterThan(TOTAL / 2);
    expect([...statuses.keys()].every((status) => status < 500)).toBe(true);
    expect(rssGrowth).toBeLessThan(150 * 1024 * 1024);
  }, 300_000);
});
