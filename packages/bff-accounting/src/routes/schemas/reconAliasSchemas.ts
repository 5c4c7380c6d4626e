import { z } from 'zod';
import type { ReconAliasRow } from '@accounting/data-pg';
import { bigintId, pageLimitParam } from './commonSchemas.js';

// Requests: the aliases router validates with these very objects; docs/openapi.json is generated from them.

/** Query of `GET /v1/accounting/recon/aliases`. */
export const aliasesQuery = z
  .object({
    limit: pageLimitParam(200, 50),
    cursor: bigintId('not a cursor this API issued').optional().meta({ description: 'The `next_cursor` of the previous page' }),
  })
  .strict();

/** Path of `/v1/accounting/recon/aliases/:id`. */
export const aliasParams = z.object({ id: bigintId('alias ids are numbers from 1 to 9223372036854775807') });

// Responses: documented only; test/openapi.test.ts checks real responses against them.

/** A counterparty alias learned from a confirmed pair (docs/RECON.md "Aliases"). */
export const reconAlias = z
  .object({
    id: z.string().regex(/^\d+$/),
    bank_name: z.string().meta({ description: 'The bank line’s name (counterparty, else description) as an alias key' }),
    ledger_name: z.string().meta({ description: 'The ledger entry’s name (counterparty, else memo) as an alias key' }),
    learned_from: z
      .object({
        suggestion_id: z.string().nullable(),
        source: z.string().nullable(),
        external_id: z.string().nullable(),
        entry_id: z.string().nullable(),
      })
      .meta({ description: 'The confirmation it was learned from' }),
    created_by: z.string(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'ReconAlias' }) satisfies z.ZodType<ReconAliasRow>;

/** `GET /v1/accounting/recon/aliases`: one page, newest first. */
export const reconAliasPage = z.object({
  tenant: z.string(),
  items: z.array(reconAlias),
  next_cursor: z.string().nullable(),
});
