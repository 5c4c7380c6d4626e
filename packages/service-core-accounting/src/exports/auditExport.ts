import { createHash, randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import { findExportCreatedEvent, readAuditChainHead, readAuditClock, readAuditExportBatches, type Queryable } from '@accounting/data-pg';
import type { Actor } from '../audit/manualReview.js';
import { recordActorEvent } from '../audit/recordAuditEvent.js';
import { NotFoundError } from '../errors.js';
import { AUDIT_EXPORT_FORMATS, AUDIT_EXPORT_SERIALIZERS, type AuditExportFormat } from './auditExportFormats.js';
import { sha256Of, type ExportKeyring } from './exportSigning.js';

/** What the caller asked for. `from` is inclusive, `to` exclusive; both ISO 8601 with offset. */
export interface AuditExportRequest {
  format: AuditExportFormat;
  from?: string | undefined;
  to?: string | undefined;
}

/** What a completed export's `export_created` audit event records, and the signature route shows. */
export interface AuditExportReceipt {
  export_id: string;
  format: AuditExportFormat;
  from: string | null;
  to: string | null;
  /** The fixed upper bound: the database clock when the export started. */
  as_of: string;
  rows: number;
  bytes: number;
  /** SHA-256 of the exact bytes sent, lowercase hex. */
  sha256: string;
  kid: string;
  /** `kid=<kid>,v1=<hex>`, as sent in the `X-Export-Signature` trailer. */
  signature: string;
  /** The head of the tenant's audit chain when the export completed, signed (`auditChainHeadText`). */
  chain_head?: ExportChainHead;
}

/** An audit chain head in an export receipt. */
export interface ExportChainHead {
  seq: string;
  mac: string | null;
  /** An export signature (tenant's export key) over the SHA-256 of `auditChainHeadText`. */
  signature: string;
}

/**
 * The text an export receipt's chain head signature covers: the head bound to its tenant and to
 * the export (its id and SHA-256). Its SHA-256 and the signature verify with
 * `POST /v1/accounting/exports/verify` or `scripts/verify_export_signature.mjs`.
 */
export function auditChainHeadText(tenant: string, receipt: { export_id: string; sha256: string }, head: { seq: string; mac: string | null }): string {
  return JSON.stringify(['audit-chain-head/v1', tenant, receipt.export_id, receipt.sha256, head.seq, head.mac]);
}

/** One export, started but not yet streamed. */
export interface AuditExport {
  readonly exportId: string;
  readonly format: AuditExportFormat;
  readonly contentType: string;
  readonly fileName: string;
  /**
   * Streams the export into `sink` (respecting backpressure; `sink` is not ended), then signs
   * the bytes with the tenant's current key and records `export_created`. Resolves with the receipt, or with `undefined` when
   * `sink` closed first (then `export_aborted` is recorded). A failure midway records
   * `export_aborted` too (best effort) and rejects.
   */
  writeTo(sink: Writable): Promise<AuditExportReceipt | undefined>;
}

export interface AuditExportOptions {
  /** Rows per database query (default 1,000). */
  batchSize?: number;
  /** Rows serialized, hashed and written per slice of synchronous work (default `EXPORT_SLICE_ROWS`). */
  sliceRows?: number;
}

/**
 * Rows serialized, hashed and written in one go. Before each slice the export waits for a
 * turn of the event loop (`sliceTurn`), so other requests run between slices: 250 typical
 * audit rows (about 100 KB) take about 0.5 ms; a batch of 1,000 at once takes about 4 ms, on
 * top of parsing the query's result (docs/BENCHMARKS.md "Cheap-route latency under heavy work").
 */
export const EXPORT_SLICE_ROWS = 250;

/** Exports waiting for their next slice, first come first served. */
const waitingForTurn: (() => void)[] = [];

function grantTurn(): void {
  waitingForTurn.shift()?.();
  if (waitingForTurn.length > 0) setImmediate(grantTurn);
}

/**
 * Resolves in a later turn of the event loop, one export slice per turn for the whole process:
 * with each export taking its own turn (`setImmediate` apiece), concurrent exports ran their
 * slices back to back in one turn, and every request waited behind all of them.
 */
function sliceTurn(): Promise<void> {
  return new Promise((resolve) => {
    waitingForTurn.push(resolve);
    if (waitingForTurn.length === 1) setImmediate(grantTurn);
  });
}

/** Resolves `true` once `sink` drains, `false` if it closes first. */
function drained(sink: Writable): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (value: boolean) => {
      sink.off('drain', onDrain);
      sink.off('close', onClose);
      resolve(value);
    };
    const onDrain = () => settle(true);
    const onClose = () => settle(false);
    sink.on('drain', onDrain);
    sink.on('close', onClose);
  });
}

/**
 * Starts an export of the tenant's audit events: fixes its upper bound (the database clock now)
 * and its id. Nothing is read or recorded until `writeTo`.
 */
export async function startAuditExport(
  db: Queryable,
  keyring: ExportKeyring,
  actor: Actor,
  request: AuditExportRequest,
  options: AuditExportOptions = {},
): Promise<AuditExport> {
  const asOf = await readAuditClock(db);
  const exportId = randomUUID();
  const serializer = AUDIT_EXPORT_SERIALIZERS[request.format];
  const range = { from: request.from ?? null, to: request.to ?? null, as_of: asOf };

  const record = (action: 'export_created' | 'export_aborted', summary: string, details: Record<string, unknown>) =>
    recordActorEvent(db, actor, {
      action,
      subjectType: 'audit_export',
      subjectId: exportId,
      summary,
      details,
    });

  return {
    exportId,
    format: request.format,
    contentType: serializer.contentType,
    fileName: `audit-${actor.tenant}-${exportId}.${serializer.extension}`,

    async writeTo(sink) {
      const hash = createHash('sha256');
      let rows = 0;
      let bytes = 0;
      let closed = sink.destroyed;
      const onClose = () => {
        closed = true;
      };
      sink.once('close', onClose);

      const send = async (text: string): Promise<boolean> => {
        if (closed) return false;
        const chunk = Buffer.from(text, 'utf8');
        hash.update(chunk);
        bytes += chunk.length;
        return sink.write(chunk) || (await drained(sink));
      };
      const aborted = (reason: 'client_closed' | 'failed') =>
        record('export_aborted', `audit export ${request.format} aborted (${reason}) after ${rows} rows`, {
          export_id: exportId,
          format: request.format,
          ...range,
          rows,
          bytes,
          reason,
        });

      try {
        // The preamble goes out with the first rows, so a failing first query still gets a
        // proper error response instead of a cut connection.
        let pending = serializer.preamble;
        const sliceRows = options.sliceRows ?? EXPORT_SLICE_ROWS;
        reading: for await (const batch of readAuditExportBatches(db, actor.tenant, { from: request.from, to: request.to, asOf }, options)) {
          for (let start = 0; start < batch.length; start += sliceRows) {
            await sliceTurn();
            const slice = batch.slice(start, start + sliceRows);
            if (!(await send(pending + serializer.serialize(slice)))) break reading;
            pending = '';
            rows += slice.length;
          }
        }
        if (pending) await send(pending);
      } catch (err) {
        await aborted('failed').catch(() => undefined);
        throw err;
      } finally {
        sink.off('close', onClose);
      }

      if (closed) {
        await aborted('client_closed');
        return undefined;
      }
      const sha256 = hash.digest();
      const signer = keyring.current.forTenant(actor.tenant);
      const signed = { export_id: exportId, sha256: sha256.toString('hex') };
      const head = await readAuditChainHead(db, actor.tenant);
      const chainHead = { seq: head.seq, mac: head.mac };
      const receipt: AuditExportReceipt = {
        export_id: exportId,
        format: request.format,
        ...range,
        rows,
        bytes,
        sha256: signed.sha256,
        kid: signer.kid,
        signature: signer.sign(sha256),
        chain_head: { ...chainHead, signature: signer.sign(sha256Of(Buffer.from(auditChainHeadText(actor.tenant, signed, chainHead), 'utf8'))) },
      };
      await record('export_created', `audit export ${request.format}: ${rows} rows, ${bytes} bytes`, { ...receipt });
      return receipt;
    },
  };
}

const storedReceipt = z.object({
  export_id: z.string(),
  format: z.enum(AUDIT_EXPORT_FORMATS),
  from: z.string().nullable(),
  to: z.string().nullable(),
  as_of: z.string(),
  rows: z.number(),
  bytes: z.number(),
  sha256: z.string(),
  kid: z.string(),
  signature: z.string(),
  chain_head: z.object({ seq: z.string(), mac: z.string().nullable(), signature: z.string() }).optional(),
});

/** A completed export's receipt as `GET /v1/accounting/exports/{id}/signature` shows it. */
export interface ExportSignatureView extends AuditExportReceipt {
  /** When the export completed (its `export_created` event). */
  created_at: string;
}

/**
 * The signature and receipt of the tenant's completed export `exportId`, read back from its
 * `export_created` audit event (for clients that ignore HTTP trailers). `NotFoundError` when the
 * tenant has no such completed export (aborted ones have no signature).
 */
export async function getExportSignature(db: Queryable, tenant: string, exportId: string): Promise<ExportSignatureView> {
  const event = await findExportCreatedEvent(db, tenant, exportId);
  const receipt = event ? storedReceipt.safeParse(event.details) : undefined;
  if (!event || !receipt?.success) throw new NotFoundError('no completed export with this id');
  return { ...receipt.data, created_at: event.ts };
}
