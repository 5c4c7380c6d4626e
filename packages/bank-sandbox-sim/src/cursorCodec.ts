import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * Where a client is in a connection's data.
 * - `snapshot`: paging a full sync taken at position `seq`, `offset` items already sent.
 * - `changes`: paging the changes between positions `from` and `seq`, `offset` items sent.
 * - `resume`: everything up to position `seq` sent; the next sync starts there.
 * `startDate` is the window of the full sync the client started with; it stays in every
 * later cursor so incremental syncs keep to the same window.
 */
export type CursorPosition =
  | { kind: 'snapshot'; seq: number; startDate: string | null; offset: number }
  | { kind: 'changes'; from: number; seq: number; startDate: string | null; offset: number }
  | { kind: 'resume'; seq: number; startDate: string | null };

export interface Cursor {
  /** Sandbox instance and cursor generation; a cursor from another epoch is expired. */
  epoch: string;
  /** Short hash of the connection id, so a cursor only works for its own connection. */
  connection: string;
  position: CursorPosition;
}

const count = z.number().int().min(0);
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).nullable();
const wireSchema = z.discriminatedUnion('k', [
  z.strictObject({ v: z.literal(1), e: z.string(), c: z.string(), k: z.literal('s'), s: count, d: date, o: count }),
  z.strictObject({ v: z.literal(1), e: z.string(), c: z.string(), k: z.literal('c'), f: count, s: count, d: date, o: count }),
  z.strictObject({ v: z.literal(1), e: z.string(), c: z.string(), k: z.literal('r'), s: count, d: date }),
]);
type WireCursor = z.infer<typeof wireSchema>;

/** The short, non-reversible tag of a connection id that cursors carry. */
export function connectionTag(connectionId: string): string {
  return createHash('sha256').update(connectionId).digest('base64url').slice(0, 12);
}

/** An opaque cursor string: base64url of a small versioned JSON document. */
export function encodeCursor(cursor: Cursor): string {
  const { epoch: e, connection: c, position: p } = cursor;
  let wire: WireCursor;
  switch (p.kind) {
    case 'snapshot':
      wire = { v: 1, e, c, k: 's', s: p.seq, d: p.startDate, o: p.offset };
      break;
    case 'changes':
      wire = { v: 1, e, c, k: 'c', f: p.from, s: p.seq, d: p.startDate, o: p.offset };
      break;
    case 'resume':
      wire = { v: 1, e, c, k: 'r', s: p.seq, d: p.startDate };
      break;
  }
  return Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The cursor `text` encodes, or `null` when it is not one this simulator issued. */
export function decodeCursor(text: string): Cursor | null {
  if (!BASE64URL.test(text) || text.length > 2_048) return null;
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) return null;
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  const parsed = wireSchema.safeParse(json);
  if (!parsed.success) return null;
  const w = parsed.data;
  const head = { epoch: w.e, connection: w.c };
  switch (w.k) {
    case 's':
      return { ...head, position: { kind: 'snapshot', seq: w.s, startDate: w.d, offset: w.o } };
    case 'c':
      return { ...head, position: { kind: 'changes', from: w.f, seq: w.s, startDate: w.d, offset: w.o } };
    case 'r':
      return { ...head, position: { kind: 'resume', seq: w.s, startDate: w.d } };
  }
}
