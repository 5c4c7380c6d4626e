import type { AuditExportRow } from '@accounting/data-pg';

/** The formats an audit export can be written in. */
export const AUDIT_EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

/** How one format writes rows: a fixed preamble, then one chunk per batch of rows. */
export interface AuditExportSerializer {
  readonly contentType: string;
  readonly extension: string;
  /** Written once before the first row (also for an export with no rows). */
  readonly preamble: string;
  serialize(rows: readonly AuditExportRow[]): string;
}

/**
 * One JSON object per line (`\n`), keys in a fixed order (the row's audit chain link in `chain`),
 * `details` last and copied verbatim
 * from PostgreSQL's jsonb text so large numbers keep every digit. Strings are JSON-escaped, so
 * a line never contains a raw newline.
 */
function ndjsonLine(row: AuditExportRow): string {
  const head = JSON.stringify({
    id: row.id,
    ts: row.ts,
    tenant: row.tenant,
    actor: { role: row.actor_role, id: row.actor_id },
    action: row.action,
    subject_type: row.subject_type,
    subject_id: row.subject_id,
    summary: row.summary,
    request_id: row.request_id,
    chain: { seq: row.chain_seq, key_id: row.chain_key_id, prev_mac: row.chain_prev_mac, mac: row.chain_mac },
  });
  return `${head.slice(0, -1)},"details":${row.details}}\n`;
}

/** The CSV columns, in order; the header row names them. */
export const AUDIT_CSV_COLUMNS = [
  'id',
  'ts',
  'tenant',
  'actor_role',
  'actor_id',
  'action',
  'subject_type',
  'subject_id',
  'summary',
  'request_id',
  'chain_seq',
  'chain_key_id',
  'chain_prev_mac',
  'chain_mac',
  'details',
] as const satisfies readonly (keyof AuditExportRow)[];

/** Cells a spreadsheet would run as a formula (OWASP "CSV injection"): = + - @ tab CR. */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV cell: `null` is empty; a value starting with = + - @, tab or CR gets a leading `'` so
 * spreadsheets show it as text; a value with a quote, comma, CR or LF is quoted with inner quotes
 * doubled (RFC 4180).
 */
export function csvCell(value: string | null): string {
  if (value === null) return '';
  const inert = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(inert) ? `"${inert.replaceAll('"', '""')}"` : inert;
}

function csvRow(cells: readonly (string | null)[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** The serializer of each format. */
export const AUDIT_EXPORT_SERIALIZERS: Readonly<Record<AuditExportFormat, AuditExportSerializer>> = {
  ndjson: {
    contentType: 'application/x-ndjson; charset=utf-8',
    extension: 'ndjson',
    preamble: '',
    serialize: (rows) => rows.map(ndjsonLine).join(''),
  },
  csv: {
    contentType: 'text/csv; charset=utf-8; header=present',
    extension: 'csv',
    preamble: csvRow(AUDIT_CSV_COLUMNS),
    serialize: (rows) => rows.map((row) => csvRow(AUDIT_CSV_COLUMNS.map((column) => row[column]))).join(''),
  },
};
