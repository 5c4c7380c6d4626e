import { z } from 'zod';
import type { AuditEvent } from '@accounting/data-pg';
import { AUDIT_ACTIONS, readAuditCursor, type AuditChainVerification } from '@accounting/service-core-accounting';
import { instant, isInstantMicrosInRange, listQueryParam } from './commonSchemas.js';

// Requests: the audit router validates with these very objects; docs/openapi.json is generated from them.

/** A query parameter that must be given at most once. */
const single = <T extends z.ZodType<unknown, string>>(schema: T) => z.string({ error: 'give this parameter once' }).pipe(schema);

/** A `next_cursor` of the list: its id a positive bigint, its instant within the API's date range. */
const auditCursor = z
  .string()
  .min(1)
  .max(200)
  .refine((cursor) => {
    const position = readAuditCursor(cursor);
    return position !== null && isInstantMicrosInRange(BigInt(position.tsMicros));
  }, 'not a cursor this API issued');

/** Query of `GET /v1/accounting/audit` (docs/API.md "The audit list"). */
export const auditListQuery = z
  .object({
    action: listQueryParam
      .pipe(z.array(z.enum(AUDIT_ACTIONS)).max(AUDIT_ACTIONS.length))
      .optional()
      .meta({ description: 'One or several actions: repeat the parameter or separate with commas' }),
    subject_id: single(z.string().min(1).max(200)).optional().meta({ description: 'Exact subject id' }),
    actor: single(z.string().min(1).max(128)).optional().meta({ description: "The actor's id (`X-User-Id` when it was recorded) or role" }),
    from: single(instant).optional().meta({ description: 'Inclusive lower bound of `ts`' }),
    to: single(instant).optional().meta({ description: 'Exclusive upper bound of `ts`' }),
    q: single(z.string().trim().min(1).max(200))
      .optional()
      .meta({ description: 'Case-insensitive text in the subject id or the summary (`%` and `_` are literal)' }),
    limit: single(z.string().regex(/^\d{1,3}$/, 'must be a whole number from 1 to 200').transform(Number).pipe(z.number().min(1).max(200)))
      .default(50)
      .meta({ description: 'Page size, a whole number' }),
    cursor: single(auditCursor).optional().meta({ description: 'The `next_cursor` of the previous page' }),
  })
  .strict()
  .refine((query) => !query.from || !query.to || Date.parse(query.from) <= Date.parse(query.to), {
    message: 'from must not be after to',
    path: ['from'],
  });

/** Body of `POST /v1/accounting/audit/manual-review`. */
export const manualReviewBody = z
  .object({
    subject_type: z.string().trim().min(1).max(64),
    subject_id: z.string().trim().min(1).max(200),
    reason: z.string().trim().min(1).max(1_000),
    note: z.string().max(4_000).optional(),
    client_ts: instant.optional(),
  })
  .strict();

/** Query of `GET /v1/accounting/audit/verify`: optionally a head saved earlier, both parts or neither. */
export const auditVerifyQuery = z
  .object({
    expect_seq: single(z.string().regex(/^[1-9]\d{0,18}$/, 'must be a place in the chain (a positive whole number)'))
      .optional()
      .meta({ description: 'The place of a chain head saved earlier (a log line, the feedback webhook, an export receipt)' }),
    expect_mac: single(z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'))
      .optional()
      .meta({ description: 'The MAC of that head' }),
  })
  .strict()
  .refine((query) => (query.expect_seq === undefined) === (query.expect_mac === undefined), {
    message: 'give expect_seq and expect_mac together',
    path: ['expect_mac'],
  });

// Responses: documented only; test/openapi.test.ts checks real responses against them.

/** One audit event as the API shows it. */
export const auditEvent = z
  .object({
    id: z.string().regex(/^\d+$/).meta({ description: 'Numeric id, as a string' }),
    ts: z.iso.datetime().meta({ description: 'UTC with microseconds; can be repeated exactly in `from`/`to`' }),
    actor: z.object({
      role: z.string().meta({ description: 'Internal role, or `system`' }),
      id: z.string().nullable().meta({ description: '`X-User-Id` when it was given' }),
    }),
    action: z.enum(AUDIT_ACTIONS),
    subject_type: z.string().nullable(),
    subject_id: z.string().nullable(),
    summary: z.string(),
    details: z.record(z.string(), z.unknown()),
    request_id: z.string().nullable(),
  })
  .meta({ id: 'AuditEvent' }) satisfies z.ZodType<AuditEvent>;

/** `GET /v1/accounting/audit`: one page, newest first. */
export const auditListPage = z.object({
  tenant: z.string(),
  items: z.array(auditEvent),
  next_cursor: z.string().nullable().meta({ description: 'The `cursor` of the next page; null on the last page' }),
});

/** `GET /v1/accounting/audit/verify`: the tenant's audit chain checked (docs/POLICY.md "Audit trail integrity"). */
export const auditChainVerification = z
  .object({
    tenant: z.string(),
    valid: z.boolean().meta({ description: 'The chain verifies up to its recorded head and no row is outside it' }),
    checked: z.number().int().meta({ description: 'Rows checked, up to and including the first broken one' }),
    head: z.object({
      seq: z.string().regex(/^\d+$/).meta({ description: 'Place of the last row that verified; "0" when none did' }),
      mac: z.string().nullable(),
    }),
    first_broken: z
      .object({
        seq: z.string().nullable().meta({ description: 'The place that breaks; null for a row without chain columns' }),
        id: z.string().nullable().meta({ description: 'The row at that place; null when it is missing' }),
        reason: z.enum(['gap', 'order', 'mac_mismatch', 'unknown_key', 'unchained', 'head_mismatch']),
      })
      .optional()
      .meta({ description: 'The first link that does not verify; absent when valid' }),
    expected_head: z
      .object({ seq: z.string(), mac: z.string(), contained: z.boolean().meta({ description: 'The verified chain holds this head' }) })
      .optional()
      .meta({ description: 'Only with expect_seq and expect_mac' }),
  })
  .meta({ id: 'AuditChainVerification' }) satisfies z.ZodType<AuditChainVerification>;
