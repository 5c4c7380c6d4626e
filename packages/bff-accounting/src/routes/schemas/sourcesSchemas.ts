import { z } from 'zod';
import type { SyncRunView } from '@accounting/data-pg';
import type { SourceStatus } from '@accounting/service-core-accounting';

// Requests: the sources router validates with these very objects; docs/openapi.json is generated from them.

/** Path of `/v1/accounting/os/sources/:source`. */
export const sourceParams = z.object({ source: z.string().regex(/^[a-z0-9_-]{1,63}$/, 'source ids are 1-63 characters of [a-z0-9_-]') });

/** Body of `PUT /v1/accounting/os/sources/:source`. */
export const sourceBody = z
  .object({
    kind: z.literal('bank_sbx'),
    connection_id: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'connection ids are 1-128 characters of [A-Za-z0-9_.-]'),
    enabled: z.boolean().default(true),
  })
  .strict();

// Responses: documented only; test/openapi.test.ts checks real responses against them.

const instant = z.iso.datetime();

/** One sync run of a source, newest first in `recent_runs`. */
const syncRun = z
  .object({
    id: z.string(),
    started_at: instant,
    finished_at: instant.nullable(),
    outcome: z.enum(['running', 'succeeded', 'failed']),
    full_resync: z.boolean(),
    error_code: z.string().nullable(),
    attempts: z.number().int(),
    pages: z.number().int(),
    rows_added: z.number().int(),
    rows_modified: z.number().int(),
    rows_removed: z.number().int(),
  })
  .meta({ id: 'SyncRun' }) satisfies z.ZodType<SyncRunView>;

/** One external source with its sync state (docs/EXTERNAL_SYNC.md). */
const sourceStatus = z
  .object({
    source: z.string(),
    kind: z.string(),
    connection_id: z.string(),
    enabled: z.boolean(),
    last_success_at: instant.nullable(),
    lag_seconds: z.number().int().nullable().meta({ description: 'Seconds since the last successful sync; null before the first one' }),
    stale: z.boolean().meta({ description: 'Enabled and not synced successfully within `stale_threshold_seconds` (or never)' }),
    last_error: z.object({ code: z.string(), at: instant.nullable(), attempts: z.number().int().nullable() }).nullable(),
    cursor_present: z.boolean().meta({ description: 'A complete sync pass stored its cursor; later runs sync the changes since then' }),
    cursor_updated_at: instant.nullable(),
    pass_in_progress: z
      .object({ full_sync: z.boolean(), started_at: instant, updated_at: instant, pages: z.number().int() })
      .nullable()
      .meta({ description: 'A sync pass cut short (deadline, kill) after storing `pages` pages; the next run resumes after them' }),
    rows: z.object({ total: z.number().int(), active: z.number().int(), removed: z.number().int() }),
    provider_refreshed_at: instant.nullable(),
    runs_total: z.number().int(),
    errors_total: z.number().int(),
    recent_runs: z.array(syncRun),
  })
  .meta({ id: 'SourceStatus' }) satisfies z.ZodType<SourceStatus>;

/** `GET /v1/accounting/os/sources`. */
export const sourceList = z.object({
  tenant: z.string(),
  stale_threshold_seconds: z.number().int(),
  sources: z.array(sourceStatus),
});

/** `GET /v1/accounting/os/sources/:source`: the source's status with the tenant. */
export const sourceDetail = z.object({ tenant: z.string(), ...sourceStatus.shape });

/** `PUT /v1/accounting/os/sources/:source`: the source as configured. */
export const configuredSource = z.object({
  tenant: z.string(),
  source: z.string(),
  kind: z.literal('bank_sbx'),
  connection_id: z.string(),
  enabled: z.boolean(),
});
