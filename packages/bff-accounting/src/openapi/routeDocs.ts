import { z } from 'zod';
import type { ZodOpenApiContentObject } from 'zod-openapi';
import type { ApiRouteName } from '../policy/permissions.js';
import { auditChainVerification, auditEvent, auditListPage, auditListQuery, auditVerifyQuery, manualReviewBody } from '../routes/schemas/auditSchemas.js';
import { idempotentReplayedHeader } from '../routes/schemas/commonSchemas.js';
import {
  exportParams,
  exportQuery,
  exportReceipt,
  exportVerification,
  signatureHeader,
  verifyDigestBody,
} from '../routes/schemas/exportsSchemas.js';
import {
  decisionBody,
  decisionParams,
  ledgerEntryPage,
  ledgerImportBody,
  ledgerImportResult,
  ledgerListQuery,
  reconRun,
  reconRunAccepted,
  reconRunBody,
  reconRunParams,
  reconSuggestion,
  reconSuggestionPage,
  suggestionsQuery,
} from '../routes/schemas/reconSchemas.js';
import { aliasesQuery, aliasParams, reconAlias, reconAliasPage } from '../routes/schemas/reconAliasSchemas.js';
import { configuredSource, sourceBody, sourceDetail, sourceList, sourceParams } from '../routes/schemas/sourcesSchemas.js';
import type { ErrorCode } from './errorCodes.js';

/** A zod object whose fields are request parameters (query, path or header). */
export type ParameterSchema = z.ZodObject<z.ZodRawShape, z.core.$ZodObjectConfig>;

/** One success answer of a route. */
export interface SuccessDoc {
  readonly description: string;
  readonly content?: ZodOpenApiContentObject;
  /** Response headers besides `X-Request-Id` (which every response has). */
  readonly headers?: Readonly<Record<string, z.ZodType>>;
}

/** What the OpenAPI document says about one route of the policy table, besides its path, method and permission. */
export interface RouteDoc {
  readonly tag: 'audit' | 'sources' | 'exports' | 'ledger' | 'recon';
  readonly summary: string;
  readonly description?: string;
  /** The query schema the handler parses; each field is a parameter, described by what it is parsed into. */
  readonly query?: ParameterSchema;
  /** The path schema the handler parses; its fields must be the route's `:params`. */
  readonly path?: ParameterSchema;
  /** Other parameters, as zod schemas with `.meta({ param: { in, name } })`. */
  readonly parameters?: readonly z.ZodType[];
  readonly body?: { readonly required: boolean; readonly description?: string; readonly content: ZodOpenApiContentObject };
  /** The route refuses a request without `Idempotency-Key` (docs/IDEMPOTENCY.md). */
  readonly idempotencyKey?: boolean;
  readonly responses: Readonly<Record<number, SuccessDoc>>;
  /** Codes this route answers besides those of the gate, its input, its body and idempotency. */
  readonly errors?: readonly ErrorCode[];
}

const json = (schema: z.ZodType): ZodOpenApiContentObject => ({ 'application/json': { schema } });

const replayed = { 'Idempotent-Replayed': idempotentReplayedHeader };

/** One entry per route of `API_ROUTES`; a route without one fails the type check and the OpenAPI test. */
export const ROUTE_DOCS = {
  listAuditEvents: {
    tag: 'audit',
    summary: "The tenant's audit events, newest first",
    description:
      'Keyset pages on `(ts, id)`: a page costs the same at any depth and rows arriving meanwhile never shift the next page. ' +
      'Filters combine with AND; `from` must not be after `to`. An unknown parameter, a parameter given twice (except `action`) ' +
      'or a cursor this API did not issue is `400 VALIDATION_FAILED`.',
    query: auditListQuery,
    responses: { 200: { description: 'One page', content: json(auditListPage) } },
  },
  createManualReview: {
    tag: 'audit',
    summary: 'Request a manual review (records one `manual_review_request` audit event)',
    body: { required: true, content: json(manualReviewBody) },
    idempotencyKey: true,
    responses: { 201: { description: 'The recorded audit event', content: json(auditEvent), headers: replayed } },
  },
  verifyAuditChain: {
    tag: 'audit',
    summary: "Verify the tenant's tamper-evident audit chain and name its first broken link",
    description:
      'Walks the chain up to its recorded head with every configured key (`AUDIT_CHAIN_KEY`, `AUDIT_CHAIN_KEY_PREV`). A broken chain is ' +
      'still `200` with `valid: false` and `first_broken`. With `expect_seq` and `expect_mac` (a head saved earlier) it also says whether ' +
      'the chain still holds that head. See docs/POLICY.md "Audit trail integrity".',
    query: auditVerifyQuery,
    responses: { 200: { description: 'The verification', content: json(auditChainVerification) } },
  },
  listSources: {
    tag: 'sources',
    summary: "The tenant's external sources with their sync state",
    description: 'Fields in docs/EXTERNAL_SYNC.md.',
    responses: { 200: { description: 'Every source of the tenant', content: json(sourceList) } },
  },
  getSource: {
    tag: 'sources',
    summary: 'One external source with its sync state',
    path: sourceParams,
    responses: { 200: { description: 'The source', content: json(sourceDetail) } },
    errors: ['NOT_FOUND'],
  },
  putSource: {
    tag: 'sources',
    summary:
      'Create or update an external source on a bank connection assigned to the tenant (audited as `external_source_configured`; a refusal as `source_connection_refused`)',
    path: sourceParams,
    body: { required: true, content: json(sourceBody) },
    responses: {
      200: { description: 'Updated', content: json(configuredSource) },
      201: { description: 'Created', content: json(configuredSource) },
    },
    errors: ['CONNECTION_NOT_ASSIGNED', 'SOURCE_CONNECTION_LOCKED', 'CONNECTION_IN_USE'],
  },
  exportAuditEvents: {
    tag: 'exports',
    summary: "Stream the tenant's audit events, oldest first, signed",
    description:
      'The signature comes in the HTTP trailer `X-Export-Signature: kid=<kid>,v1=<hex>` (HTTP/1.1), or later from ' +
      '`GET /v1/accounting/exports/{exportId}/signature` with the `X-Export-Id` header. Records `export_created` ' +
      '(or `export_aborted` when the client goes away). See docs/EXPORTS.md.',
    query: exportQuery,
    responses: {
      200: {
        description: 'The export, one event per line (NDJSON) or a CSV with a header row',
        content: {
          'application/x-ndjson': { schema: { type: 'string' } },
          'text/csv': { schema: { type: 'string' } },
        },
        headers: {
          'X-Export-Id': exportParams.shape.exportId.meta({ description: 'The export id, for the signature route' }),
          'Content-Disposition': z.string().meta({ description: '`attachment; filename="<file name>"`' }),
          Trailer: z.literal('X-Export-Signature').optional().meta({ description: 'Announces the signature trailer (HTTP/1.1 and later)' }),
        },
      },
    },
    errors: ['EXPORTS_BUSY', 'EXPORTS_DISABLED'],
  },
  getExportSignature: {
    tag: 'exports',
    summary: 'The signature, SHA-256, sizes and range of a completed export',
    description: 'For clients that ignore HTTP trailers.',
    path: exportParams,
    responses: { 200: { description: "The export's receipt", content: json(exportReceipt) } },
    errors: ['NOT_FOUND', 'EXPORTS_DISABLED'],
  },
  verifyExport: {
    tag: 'exports',
    summary: 'Verify an export signature',
    description:
      'Either JSON `{sha256, signature}`, or the export bytes as `application/octet-stream` with the signature in `X-Export-Signature`. ' +
      'An invalid signature is still `200` with `valid: false` and a `reason`.',
    parameters: [
      signatureHeader.shape['x-export-signature']
        .optional()
        .meta({ param: { in: 'header', name: 'X-Export-Signature' }, description: 'The signature to check; required with `application/octet-stream`' }),
    ],
    body: {
      required: true,
      content: {
        'application/json': { schema: verifyDigestBody },
        'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
      },
    },
    responses: { 200: { description: 'The verification', content: json(exportVerification) } },
    errors: ['EXPORTS_DISABLED'],
  },
  importLedgerEntries: {
    tag: 'ledger',
    summary: 'Import ledger entries, idempotent by `entry_id`',
    description: 'A bad entry rejects the whole batch. Amounts are decimal strings, never numbers.',
    body: { required: true, content: json(ledgerImportBody) },
    responses: { 200: { description: 'What the batch created, updated or left unchanged', content: json(ledgerImportResult) } },
  },
  listLedgerEntries: {
    tag: 'ledger',
    summary: "The tenant's ledger entries by date, keyset pages",
    description: '`from` must not be after `to`.',
    query: ledgerListQuery,
    responses: { 200: { description: 'One page', content: json(ledgerEntryPage) } },
  },
  runRecon: {
    tag: 'recon',
    summary: 'Queue a reconciliation run of the live bank transactions without a confirmed match',
    description:
      'Answers at once with the run to poll (`Location`). Without a body the run decides the lines that changed since the last ' +
      'runs (every line on the first run); `from`/`to` (bank booked dates) decide those lines. A queued run of the tenant with ' +
      'the same range is answered instead of a new one. Safe to repeat. See docs/RECON.md "Runs".',
    body: { required: false, content: json(reconRunBody) },
    responses: {
      202: {
        description: 'The queued run',
        content: json(reconRunAccepted),
        headers: { Location: z.string().meta({ description: 'The run: `/v1/accounting/recon/runs/{run_id}`' }) },
      },
    },
  },
  getReconRun: {
    tag: 'recon',
    summary: 'One reconciliation run: its status, then its summary or its error',
    description: 'Poll until `succeeded` or `failed`. Any replica answers. Another tenant’s run id is `404 NOT_FOUND`.',
    path: reconRunParams,
    responses: { 200: { description: 'The run', content: json(reconRun) } },
    errors: ['NOT_FOUND'],
  },
  listReconSuggestions: {
    tag: 'recon',
    summary: 'One suggestion per bank transaction, newest first, with rationale and candidates',
    query: suggestionsQuery,
    responses: { 200: { description: 'One page', content: json(reconSuggestionPage) } },
  },
  decideReconSuggestion: {
    tag: 'recon',
    summary: 'Confirm or decline a suggestion (a `recon_decision` audit event)',
    description:
      'Confirm freezes the pair; with `replace: true` it takes the entry from the line it is matched to (a `recon_match_replaced` audit event for that line). With `group: true` it confirms the group candidate as one match: a batch holds every entry it pays, a split matches every line of the split to the entry (one `recon_decision` event per line). A declined pair is never suggested again; the answer shows the line on its next candidate (`suggested`) or `unmatched`. `entry_id` defaults to the suggestion’s own entry.',
    path: decisionParams,
    body: { required: true, content: json(decisionBody) },
    idempotencyKey: true,
    responses: { 200: { description: 'The decided suggestion', content: json(reconSuggestion), headers: replayed } },
    errors: ['NOT_FOUND', 'SUGGESTION_ALREADY_DECIDED', 'ENTRY_ALREADY_MATCHED', 'GROUP_CHANGED', 'ENTRY_NOT_A_CANDIDATE', 'NOT_A_GROUP', 'TRANSACTION_PENDING'],
  },
  listReconAliases: {
    tag: 'recon',
    summary: 'The counterparty aliases learned from confirmed pairs, newest first',
    description: 'Every run uses them; see docs/RECON.md "Aliases".',
    query: aliasesQuery,
    responses: { 200: { description: 'One page', content: json(reconAliasPage) } },
  },
  deleteReconAlias: {
    tag: 'recon',
    summary: 'Remove a learned counterparty alias (a `recon_alias_removed` audit event)',
    description: 'The next run no longer uses it, and is full. Another tenant’s alias id is `404 NOT_FOUND`, as a missing one is.',
    path: aliasParams,
    responses: { 200: { description: 'The removed alias', content: json(reconAlias) } },
    errors: ['NOT_FOUND'],
  },
} as const satisfies Record<ApiRouteName, RouteDoc>;
