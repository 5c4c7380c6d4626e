import type { Queryable, QueryOptions } from '../db.js';
import { getAuditChainKeyring, type AuditChainContent, type AuditChainKey } from '../auditChainMac.js';
import { inTenant } from '../tenantScope.js';
import { sqlParams } from '../sqlParams.js';

/** An audit event as the API shows it. */
export interface AuditEvent {
  id: string;
  ts: string;
  actor: { role: string; id: string | null };
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  summary: string;
  details: Record<string, unknown>;
  request_id: string | null;
}

/** What a caller records; the database assigns `id` and `ts`. */
export interface NewAuditEvent {
  actorRole: string;
  actorId?: string | null;
  action: string;
  subjectType?: string | null;
  subjectId?: string | null;
  summary?: string;
  details?: Record<string, unknown>;
  requestId?: string | null;
}

interface AuditRow {
  id: string;
  ts: string;
  actor_role: string;
  actor_id: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  summary: string;
  details: Record<string, unknown>;
  request_id: string | null;
}

/**
 * SQL for a timestamptz `column` as ISO 8601 UTC with microseconds: what the API shows, and
 * text that round-trips through timestamptz exactly (so `from`/`to` may repeat it).
 */
export const isoTimestampSql = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Every statement here has one text per combination of filters: kept prepared (db.ts). */
const PREPARED: QueryOptions = { prepare: true };

const COLUMNS = `id, ${isoTimestampSql('ts')} AS ts, actor_role, actor_id, action, subject_type, subject_id, summary, details, request_id`;

function toAuditEvent(row: AuditRow): AuditEvent {
  return {
    id: row.id,
    ts: row.ts,
    actor: { role: row.actor_role, id: row.actor_id },
    action: row.action,
    subject_type: row.subject_type,
    subject_id: row.subject_id,
    summary: row.summary,
    details: row.details,
    request_id: row.request_id,
  };
}

/** How often an append whose chain head moved under it starts again (only if the head's lock were not held). */
const APPEND_ATTEMPTS = 50;

/**
 * Appends one event to the tenant's audit trail (there is no update or delete), as the next link
 * of the tenant's chain (migration 011): locks the tenant's `audit_chain_heads` row, takes the
 * row's id and time, computes its MAC with the current chain key (`getAuditChainKeyring`), and
 * inserts the row and moves the head in one statement, in the caller's transaction (or one of its
 * own when `db` is the database or a session), so the lock holds until commit and the tenant's
 * appends are serial. The insert also happens only if the head did not move meanwhile (and starts
 * again otherwise), so the chain stays whole even if that lock were lost.
 */
export function appendAuditEvent(db: Queryable, tenant: string, event: NewAuditEvent): Promise<AuditEvent> {
  const key = getAuditChainKeyring().current;
  const details = JSON.stringify(event.details ?? {});
  return inTenant(db, tenant, (tx) => appendChained(tx, tenant, event, key, details));
}

async function appendChained(db: Queryable, tenant: string, event: NewAuditEvent, key: AuditChainKey, details: string): Promise<AuditEvent> {
  for (let attempt = 1; ; attempt += 1) {
    // ON CONFLICT DO UPDATE locks the head row (creating it on the tenant's first event); the
    // id and the time are taken under the lock, so they grow with the chain.
    const { rows: heads } = await db.query<{ seq: string; mac: string | null; id: string; ts: string; details: string }>(
      `INSERT INTO audit_chain_heads AS head (tenant) VALUES ($1)
       ON CONFLICT (tenant) DO UPDATE SET tenant = head.tenant
       RETURNING head.seq::text AS seq, head.mac, nextval(pg_get_serial_sequence('audit_events', 'id'))::text AS id,
                 ${isoTimestampSql('clock_timestamp()')} AS ts, $2::jsonb::text AS details`,
      [tenant, details],
      PREPARED,
    );
    const head = heads[0] as { seq: string; mac: string | null; id: string; ts: string; details: string };
    const content: AuditChainContent = {
      tenant,
      seq: (BigInt(head.seq) + 1n).toString(),
      id: head.id,
      ts: head.ts,
      actor_role: event.actorRole,
      actor_id: event.actorId ?? null,
      action: event.action,
      subject_type: event.subjectType ?? null,
      subject_id: event.subjectId ?? null,
      summary: event.summary ?? '',
      details: head.details,
      request_id: event.requestId ?? null,
    };
    const mac = key.mac(content, head.mac);
    const { rows } = await db.query<AuditRow>(
      `WITH moved AS (
         UPDATE audit_chain_heads SET seq = $13, mac = $15, key_id = $14, updated_at = now()
         WHERE tenant = $1 AND seq = $13 - 1 RETURNING tenant)
       INSERT INTO audit_events (id, tenant, ts, actor_role, actor_id, action, subject_type, subject_id, summary, details, request_id,
                                 chain_seq, chain_key_id, chain_prev_mac, chain_mac)
       OVERRIDING SYSTEM VALUE
       SELECT $2, moved.tenant, $3::timestamptz, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $13, $14, $12, $15 FROM moved
       RETURNING ${COLUMNS}`,
      [
        tenant,
        content.id,
        content.ts,
        content.actor_role,
        content.actor_id,
        content.action,
        content.subject_type,
        content.subject_id,
        content.summary,
        content.details,
        content.request_id,
        head.mac,
        content.seq,
        key.id,
        mac,
      ],
      PREPARED,
    );
    if (rows[0]) return toAuditEvent(rows[0]);
    if (attempt >= APPEND_ATTEMPTS) throw new Error(`audit chain head of tenant ${tenant} kept moving; append in a transaction`);
  }
}

/** Filters of the audit list; every one is optional and they combine with AND. */
export interface AuditFilter {
  /** Any of these actions. */
  actions?: readonly string[];
  subjectId?: string;
  /** The actor's id (`X-User-Id`) or role. */
  actor?: string;
  /** Inclusive lower bound of `ts`, an ISO 8601 timestamp (microseconds kept). */
  from?: string;
  /** Exclusive upper bound of `ts`, an ISO 8601 timestamp. */
  to?: string;
  /** Case-insensitive substring of subject id or summary. */
  q?: string;
}

/** Where a page ended: the last row's `ts` in microseconds since the epoch, and its id. */
export interface AuditPosition {
  tsMicros: string;
  id: string;
}

export interface AuditPage {
  items: AuditEvent[];
  /** Present when more rows follow. */
  next: AuditPosition | null;
}

/** The text `q` is searched in. */
const SEARCH_TEXT = `coalesce(subject_id, '') || ' ' || summary`;
/** The search expression; ILIKE over it is what `q` means. */
const SEARCH_EXPRESSION = `(${SEARCH_TEXT})`;
/** The length of the month index's keys; a shorter `q` has none and is tested row by row. */
const SEARCH_KEY_LENGTH = 3;
/**
 * Rows a search reads newest first, testing each against `q`, before anything else: enough
 * for a term in more than a third of the rows to fill a page of 50 (docs/BENCHMARKS.md, "Audit list").
 */
export const SEARCH_WALK_ROWS = 150;
/**
 * The most rows a second walk reads. A term the first walk found often enough to fill the page
 * within this many more rows is read on newest first; a rarer one month by month through the
 * index, where a month costs about as much as its matches (docs/BENCHMARKS.md).
 */
const SEARCH_WALK_MAX_ROWS = 2000;

/** The ILIKE pattern for text containing `q`, its `%`, `_` and `\` taken literally. */
const containsPattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

type PagedRow = AuditRow & { ts_micros: string };

/** Where `row` is, as a cursor position. */
const positionOf = (row: PagedRow): AuditPosition => ({ tsMicros: row.ts_micros, id: row.id });

const TS_MICROS = `(extract(epoch FROM ts) * 1000000)::bigint AS ts_micros`;

/** `(ts, id)` before a position, in the cursor's terms. */
function beforePosition(param: (value: unknown) => string, position: AuditPosition): string {
  return `(ts, id) < (timestamptz 'epoch' + ${param(position.tsMicros)}::bigint * interval '1 microsecond', ${param(position.id)}::bigint)`;
}

/** The WHERE conditions of every filter but `q`, and of the cursor. */
function filterConditions(tenant: string, filter: AuditFilter, after: AuditPosition | null | undefined) {
  const built = sqlParams([tenant]);
  const { where, param } = built;
  where.push('tenant = $1');
  // One action (the Backoffice's pinned filter) as an equality, so the (tenant, action, ts, id)
  // index also gives the order; a list needs ANY and a sort of the matches.
  if (filter.actions?.length === 1) where.push(`action = ${param(filter.actions[0])}`);
  else if (filter.actions?.length) where.push(`action = ANY(${param(filter.actions)}::text[])`);
  if (filter.subjectId !== undefined) where.push(`subject_id = ${param(filter.subjectId)}`);
  if (filter.actor !== undefined) {
    const actor = param(filter.actor);
    where.push(`(actor_id = ${actor} OR actor_role = ${actor})`);
  }
  if (filter.from) where.push(`ts >= ${param(filter.from)}::timestamptz`);
  if (filter.to) where.push(`ts < ${param(filter.to)}::timestamptz`);
  if (after) where.push(beforePosition(param, after));
  return built;
}

/**
 * One page of the tenant's audit events, newest first (ties broken by id), after `after`.
 * Keyset pagination: a page costs the same at any depth, and rows inserted meanwhile (newer)
 * never shift what the next page returns. A search (`q` of 3 or more characters, without a
 * subject) goes through {@link searchNewestFirst}.
 */
export async function listAuditEvents(
  db: Queryable,
  tenant: string,
  options: { filter?: AuditFilter; limit: number; after?: AuditPosition | null },
): Promise<AuditPage> {
  const filter = options.filter ?? {};
  const want = options.limit + 1;
  const rows = await inTenant(db, tenant, (tx) =>
    filter.q && [...filter.q].length >= SEARCH_KEY_LENGTH && filter.subjectId === undefined
      ? searchNewestFirst(tx, tenant, { ...filter, q: filter.q }, want, options.after)
      : readNewestFirst(tx, tenant, filter, want, options.after),
  );
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    items: page.map(toAuditEvent),
    next: rows.length > options.limit && last ? positionOf(last) : null,
  };
}

/** Up to `want` rows in one statement: an index walk newest first, or the subject's rows. */
async function readNewestFirst(
  db: Queryable,
  tenant: string,
  filter: AuditFilter,
  want: number,
  after: AuditPosition | null | undefined,
): Promise<PagedRow[]> {
  const { params, where, param } = filterConditions(tenant, filter, after);
  if (filter.q) where.push(`${SEARCH_EXPRESSION} ILIKE ${param(containsPattern(filter.q))}`);
  // The ORDER BY names the table's columns: a bare `ts` there would be the output column, the
  // to_char text, which no index orders (a full sort of the tenant's rows on every page).
  const { rows } = await db.query<PagedRow>(
    `SELECT ${COLUMNS}, ${TS_MICROS}
     FROM audit_events WHERE ${where.join(' AND ')}
     ORDER BY audit_events.ts DESC, audit_events.id DESC LIMIT ${param(want)}`,
    params,
    PREPARED,
  );
  return rows;
}

/** What a walk found: its matches, and the last row it read when it did not read to the end. */
interface Walked {
  found: PagedRow[];
  edge: (PagedRow & { oldest_micros: string }) | null;
}

/**
 * The newest `rows` rows under the filters after `after`, each tested against `q`: their
 * matches (at most `want`), and the last row read unless the walk reached the end.
 */
async function walkNewestFirst(
  db: Queryable,
  tenant: string,
  filter: AuditFilter & { q: string },
  after: AuditPosition | null | undefined,
  rows: number,
  want: number,
): Promise<Walked> {
  const { params, where, param } = filterConditions(tenant, filter, after);
  const like = param(containsPattern(filter.q));
  const limit = param(rows);
  // The tenant's oldest row rides along (one index probe), for where the months may stop.
  const { rows: walked } = await db.query<PagedRow & { hit: boolean; n: string; oldest_micros: string }>(
    `SELECT ${COLUMNS}, ${TS_MICROS}, hit, n,
            (SELECT (extract(epoch FROM min(ts)) * 1000000)::bigint FROM audit_events WHERE tenant = $1) AS oldest_micros
     FROM (SELECT audit_events.*, ${SEARCH_EXPRESSION} ILIKE ${like} AS hit,
                  row_number() OVER (ORDER BY ts DESC, id DESC) AS n
           FROM audit_events WHERE ${where.join(' AND ')}
           ORDER BY ts DESC, id DESC LIMIT ${limit}) AS walked
     WHERE hit OR n = ${limit}
     ORDER BY walked.ts DESC, walked.id DESC LIMIT ${param(want + 1)}`,
    params,
    PREPARED,
  );
  const found = walked.filter((row) => row.hit).slice(0, want);
  // With fewer matches than wanted every row came back, the walk's last among them unless the
  // walk read every row under the filters.
  const last = walked.at(-1);
  const edge = found.length < want && last && Number(last.n) === rows ? last : null;
  return { found, edge };
}

/**
 * Up to `want` rows matching `q`, newest first, in at most three statements whose cost does
 * not grow with the table (docs/BENCHMARKS.md, "Audit list"):
 *
 * 1. the newest {@link SEARCH_WALK_ROWS} rows under the other filters, each tested against
 *    `q`: a common term fills the page here;
 * 2. a term the first walk found often enough goes on the same way, for as many rows as its
 *    frequency there says the rest of the page needs (at most {@link SEARCH_WALK_MAX_ROWS});
 * 3. otherwise, or if the page is still not full, month by month newest first (UTC months,
 *    down to the tenant's oldest row or `from`): the month's candidates from the month index
 *    (migration 007) by q's keys (and the action's, when one action is asked for) in that
 *    month, tested with ILIKE. One parameterised plan runs once per month and stops when the
 *    page is full, so a month costs an index lookup, not a plan.
 */
async function searchNewestFirst(
  db: Queryable,
  tenant: string,
  filter: AuditFilter & { q: string },
  want: number,
  after: AuditPosition | null | undefined,
): Promise<PagedRow[]> {
  const first = await walkNewestFirst(db, tenant, filter, after, SEARCH_WALK_ROWS, want);
  const found = [...first.found];
  let edge = first.edge;
  if (!edge) return found;
  // Rows the rest of the page needs at the frequency seen, with half again as margin.
  const walkOn = found.length > 0 ? Math.ceil((((want - found.length) * SEARCH_WALK_ROWS) / found.length) * 1.5) : Infinity;
  if (walkOn <= SEARCH_WALK_MAX_ROWS) {
    const second = await walkNewestFirst(db, tenant, filter, positionOf(edge), walkOn, want - found.length);
    found.push(...second.found);
    edge = second.edge;
    if (!edge) return found;
  }

  // `from` only shortens the list of months (a `from` Date cannot read costs none: the months
  // go back to the oldest row, and the filter itself is in the SQL).
  const from = filter.from ? Date.parse(filter.from) : Number.NaN;
  const oldest = Math.max(Number(edge.oldest_micros) / 1000, Number.isNaN(from) ? -Infinity : from);
  const months: string[] = [];
  const oldestMonth = utcMonthStart(oldest);
  for (let month = utcMonthStart(Number(edge.ts_micros) / 1000); month >= oldestMonth; month = utcMonthStart(month, -1)) {
    months.push(new Date(month).toISOString());
  }
  // The month-by-month step runs in audit_search_months (migration 012): the same query the
  // repository sent before row-level security, run as the tables' owner, whose policies let it
  // use the month index (the application's role could not), returning the scoped tenant's rows
  // only. Its keys carry tenant, month and, for one action, the action.
  const action = filter.actions?.length === 1 ? filter.actions[0] : null;
  const { rows } = await db.query<PagedRow>(
    `SELECT ${COLUMNS}, ${TS_MICROS}
     FROM audit_search_months($1::timestamptz[], $2, $3, $4, $5::text[], $6, $7::timestamptz, $8::timestamptz,
                              timestamptz 'epoch' + $9::bigint * interval '1 microsecond', $10::bigint, $11) AS audit_events
     ORDER BY audit_events.ts DESC, audit_events.id DESC`,
    [
      months,
      filter.q,
      containsPattern(filter.q),
      action,
      filter.actions?.length ? filter.actions : null,
      filter.actor ?? null,
      filter.from ?? null,
      filter.to ?? null,
      edge.ts_micros,
      edge.id,
      want - found.length,
    ],
    PREPARED,
  );
  return [...found, ...rows];
}

/** The first instant (ms since the epoch) of the UTC month of `ms`, or of the month `monthsLater` after it. */
function utcMonthStart(ms: number, monthsLater = 0): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + monthsLater, 1);
}
