import { z } from 'zod';
import {
  AUDIT_EXPORT_FORMATS,
  EXPORT_SIGNATURE_PATTERN,
  SHA256_HEX_PATTERN,
  type ExportSignatureView,
  type ExportVerification,
} from '@accounting/service-core-accounting';
import { instant } from './commonSchemas.js';

// Requests: the exports router validates with these very objects; docs/openapi.json is generated from them.

/** Query of `GET /v1/accounting/exports/audit`. */
export const exportQuery = z
  .object({
    format: z.enum(AUDIT_EXPORT_FORMATS).default('ndjson'),
    from: instant.optional().meta({ description: 'Inclusive lower bound of `ts`' }),
    to: instant.optional().meta({ description: 'Exclusive upper bound of `ts`; must not be before `from`' }),
  })
  .strict()
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { path: ['to'], message: 'must not be before from' });

/** An export signature, `kid=<16 hex>,v1=<64 hex>`. */
const exportSignature = z.string().regex(EXPORT_SIGNATURE_PATTERN, 'must look like kid=<16 hex>,v1=<64 hex>');

/** Path of `/v1/accounting/exports/:exportId/signature`. */
export const exportParams = z.object({ exportId: z.uuid('export ids are UUIDs') });

/** JSON body of `POST /v1/accounting/exports/verify`. */
export const verifyDigestBody = z.object({ sha256: z.string().regex(SHA256_HEX_PATTERN, 'must be 64 hex characters'), signature: exportSignature }).strict();

/** Header of `POST /v1/accounting/exports/verify` when the body is the export's raw bytes. */
export const signatureHeader = z.object({ 'x-export-signature': exportSignature });

// Responses: documented only; test/openapi.test.ts checks real responses against them.

/** `GET /v1/accounting/exports/:exportId/signature`: a completed export's receipt. */
export const exportReceipt = z
  .object({
    export_id: z.uuid(),
    format: z.enum(AUDIT_EXPORT_FORMATS),
    from: z.string().nullable(),
    to: z.string().nullable(),
    as_of: z.string().meta({ description: 'The fixed upper bound: the database clock when the export started' }),
    rows: z.number().int(),
    bytes: z.number().int(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).meta({ description: 'SHA-256 of the exact bytes sent, lowercase hex' }),
    kid: z.string(),
    signature: z.string().regex(EXPORT_SIGNATURE_PATTERN).meta({ description: 'As sent in the `X-Export-Signature` trailer' }),
    created_at: z.string().meta({ description: 'When the export completed (its `export_created` event)' }),
    chain_head: z
      .object({
        seq: z.string().regex(/^\d+$/),
        mac: z.string().nullable(),
        signature: z.string().regex(EXPORT_SIGNATURE_PATTERN).meta({
          description: 'Export signature over the SHA-256 of `["audit-chain-head/v1", tenant, export_id, sha256, seq, mac]` as JSON (docs/POLICY.md)',
        }),
      })
      .optional()
      .meta({ description: "The head of the tenant's audit chain when the export completed; absent on receipts made before the chain" }),
  })
  .meta({ id: 'ExportReceipt' }) satisfies z.ZodType<ExportSignatureView>;

/** `POST /v1/accounting/exports/verify`. */
export const exportVerification = z.object({
  valid: z.boolean(),
  key: z.enum(['current', 'previous']).nullable().meta({ description: 'The configured key that matched; null when none did' }),
  kid: z.string().nullable().meta({ description: 'The key id the signature names; null when it does not parse' }),
  reason: z.enum(['unknown_key', 'mismatch', 'malformed']).optional().meta({ description: 'Why the signature is not valid' }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
}) satisfies z.ZodType<ExportVerification & { sha256: string }>;
