import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgDb, inTenant, listAuditEvents, runMigrations, SEARCH_WALK_ROWS, type AuditFilter, type AuditPosition, type Queryable } from '@accounting/data-pg';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '../../../test/support/postgres.js';
import { explain, monthSearchStatement, statementsSent } from '../../../test/support/statements.js';

// Audit search past the newest SEARCH_WALK_ROWS rows goes through the month index (migration
// 007) month by month. Whatever path a page takes, it must return exactly what the plain
// definition of the filters returns, in the same order: checked here against that definition
// on rows spread over more than three years, paging through every result.

let schema: TestSchema;
const ROWS = 6000;

beforeAll(async () => {
  schema = await createTestSchema('vt_audit_search');
  await runMigrations(schema.db);
  // Row g of a tenant is g hours and a few minutes old: 6,000 rows span about 8 months, every
  // 10th row lies a further 0-22 months back and every 500th three years back, so the oldest
  // months are sparse, with empty months between. Several rows share a timestamp (ties broken
  // by id).
  await schema.db.exec(`
    INSERT INTO audit_events (tenant, ts, actor_role, action, subject_type, subject_id, summary)
    SELECT tenant,
           now() - g * interval '1 hour' - (g % 7) * interval '1 minute'
             - CASE WHEN g % 10 = 0 THEN (g % 23) * interval '30 days' ELSE interval '0' END
             - CASE WHEN g % 500 = 0 THEN interval '3 years' ELSE interval '0' END,
           'operator',
           CASE WHEN g % 3 = 0 THEN 'manual_review_request' ELSE 'recon_decision' END,
           'bank_transaction', 'tx_' || g,
           CASE WHEN g % 97 = 0 THEN 'Amount differs: Quokka Traders ' || g || ' KRW'
                WHEN g % 151 = 0 THEN '한빛상사의 영수증 누락'
                WHEN g % 33 = 0 THEN 'Receipt missing: ' || g || ' KRW'
                WHEN g % 500 = 7 THEN 'legacy import 100%_done'
                WHEN g % 500 = 9 THEN 'imported from C:\\tmp\\ledger.csv'
                WHEN g % 2 = 0 THEN 'confirmed tx_' || g || ' <-> le_' || g
                ELSE 'declined tx_' || g || ' ' || (g * 31) || ' KRW' END
    FROM generate_series(1, ${ROWS}) AS g, (VALUES ('default'), ('pilot-a')) AS tenants (tenant);
    -- On both sides of the first instant of each of the last 40 UTC months.
    INSERT INTO audit_events (tenant, ts, actor_role, action, subject_type, subject_id, summary)
    SELECT tenant, date_trunc('month', now() AT TIME ZONE 'UTC' - k * interval '1 month') AT TIME ZONE 'UTC' + edge,
           'operator', 'recon_decision', 'bank_transaction', 'tx_edge_' || k, 'Boundary Wombat ' || k
    FROM generate_series(0, 39) AS k, (VALUES (interval '0'), (interval '-1 microsecond')) AS edges (edge),
         (VALUES ('default'), ('pilot-a')) AS tenants (tenant);
    ANALYZE audit_events;`);
});
afterAll(async () => {
  await schema?.drop();
});

/** Every id the repository pages through for `filter`, `limit` rows a page. */
async function pageThrough(filter: AuditFilter, limit: number, db: Queryable = schema.db): Promise<string[]> {
  const ids: string[] = [];
  let after: AuditPosition | null = null;
  do {
    const page = await listAuditEvents(db, 'default', { filter, limit, after });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((item) => item.id));
    after = page.next;
  } while (after);
  return ids;
}

/** What the filters mean, as one plain statement. */
async function definition(filter: AuditFilter): Promise<string[]> {
  const { rows } = await schema.db.query<{ id: string }>(
    `SELECT id FROM audit_events
     WHERE tenant = 'default'
       AND strpos(lower(coalesce(subject_id, '') || ' ' || summary), lower($1)) > 0
       AND ($2::text[] IS NULL OR action = ANY($2)) AND ($3::timestamptz IS NULL OR ts >= $3) AND ($4::timestamptz IS NULL OR ts < $4)
     ORDER BY ts DESC, id DESC`,
    [filter.q, filter.actions ?? null, filter.from ?? null, filter.to ?? null],
  );
  return rows.map((row) => row.id);
}

/** Every statement `listAuditEvents` sends for a page of 50 under `filter`. */
const statementsOf = (filter: AuditFilter) => statementsSent(schema.db, (db) => listAuditEvents(db, 'default', { filter, limit: 50 }));

/**
 * The plans of every statement `listAuditEvents` sends for `filter`; for the months step, the
 * plan of the query `audit_search_months` runs (monthSearchStatement), in the tenant's scope.
 */
async function plansOf(filter: AuditFilter): Promise<string[]> {
  const plans: string[] = [];
  for (const statement of await statementsOf(filter)) {
    plans.push(
      statement.text.includes('audit_search_months(')
        ? await inTenant(schema.db, 'default', async (tx) => explain(tx, await monthSearchStatement(tx, statement)))
        : await explain(schema.db, statement),
    );
  }
  return plans;
}

interface PlanNode {
  'Node Type': string;
  'Function Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

function findNode(node: PlanNode, test: (node: PlanNode) => boolean): PlanNode | undefined {
  if (test(node)) return node;
  for (const child of node.Plans ?? []) {
    const found = findNode(child, test);
    if (found) return found;
  }
  return undefined;
}

describe('audit search (q) past the newest rows', () => {
  it.each([
    ['a term in 1 % of the rows', 'quokka traders'],
    ['a term in 3 % of the rows', 'RECEIPT MISSING'],
    ['a term in a tenth of the rows', '1 KRW'],
    ['a term in half of the rows', 'krw'],
    ['a Korean name inside a word', '한빛상사'],
    ['% and _ taken literally, in rows older than two years', '100%_d'],
    ['an id fragment with an underscore', 'x_12'],
    ['a backslash taken literally', ':\\tmp'],
    ['rows on both sides of month boundaries', 'boundary wombat'],
  ])('returns exactly the matching rows, newest first, for %s', async (_name, q) => {
    const expected = await definition({ q });
    expect(expected.length).toBeGreaterThan(0);
    expect(await pageThrough({ q }, 50)).toEqual(expected);
  });

  it('returns nothing for a term no row has', async () => {
    expect(await definition({ q: 'no such counterparty' })).toEqual([]);
    expect(await pageThrough({ q: 'no such counterparty' }, 50)).toEqual([]);
  });

  it('holds under the pinned action filter, several actions and a time range, with small and large pages', async () => {
    const pinned: AuditFilter = { q: 'quokka', actions: ['manual_review_request'] };
    expect(await pageThrough(pinned, 7)).toEqual(await definition(pinned));
    const several: AuditFilter = { q: 'krw', actions: ['manual_review_request', 'recon_decision'] };
    expect(await pageThrough(several, 50)).toEqual(await definition(several));
    const rare: AuditFilter = { q: 'quokka', actions: ['recon_decision', 'manual_review_request'] };
    expect(await pageThrough(rare, 5)).toEqual(await definition(rare));
    const { rows } = await schema.db.query<{ from: string; to: string }>(
      `SELECT (now() - interval '400 days')::text AS from, (now() - interval '20 days')::text AS to`,
    );
    const ranged: AuditFilter = { q: 'receipt', from: new Date(rows[0]!.from).toISOString(), to: new Date(rows[0]!.to).toISOString() };
    expect(await pageThrough(ranged, 200)).toEqual(await definition(ranged));
  });

  it('holds across month boundaries whatever the time zone of the session and of this process', async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('options', `-c search_path=${schema.schema} -c timezone=America/New_York`);
    const newYork = createPgDb({ connectionString: url.toString(), max: 1 });
    const processZone = process.env.TZ;
    process.env.TZ = 'Asia/Seoul';
    try {
      expect(new Date(Date.UTC(2026, 0, 1)).getDate()).toBe(1);
      expect(new Date(Date.UTC(2026, 0, 1)).getHours()).toBe(9);
      for (const q of ['boundary wombat', 'quokka']) expect(await pageThrough({ q }, 7, newYork)).toEqual(await definition({ q }));
    } finally {
      if (processZone === undefined) delete process.env.TZ;
      else process.env.TZ = processZone;
      await newYork.close();
    }
  });

  it('reads older months only for a term the newest rows do not fill a page with', async () => {
    // The walk, then the months (whose plan at a realistic size, the month index, is asserted
    // in the BFF's auditList test).
    const plans = await plansOf({ q: 'quokka traders' });
    expect(plans).toHaveLength(2);
    expect(plans[0]).toMatch(/Index Scan using audit_events_tenant_ts_idx/);
    expect(plans[1]).toMatch(/audit_search_keys\(tenant, ts, .*\) @> audit_search_query_keys\(current_setting\('accounting.tenant'::text, true\), month\.start/);
  });

  it('stops asking older months once the page is full', async () => {
    // 'quokka traders' fills a page of 50 from the newest months of the 40 the tenant's rows span.
    const [, months] = await statementsOf({ q: 'quokka traders' });
    const monthCount = (months!.params.find(Array.isArray) as unknown[]).length;
    expect(monthCount).toBeGreaterThan(36);
    const { rows } = await inTenant(schema.db, 'default', async (tx) => {
      const inner = await monthSearchStatement(tx, months!);
      return tx.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${inner.text}`, inner.params);
    });
    const monthScan = findNode(rows[0]!['QUERY PLAN'][0].Plan, (node) => node['Node Type'] === 'Function Scan');
    expect(monthScan?.['Actual Rows']).toBeGreaterThan(1);
    expect(monthScan?.['Actual Rows']).toBeLessThan(monthCount / 2);
  });

  it('reads on newest first for a term the first walk finds often but not often enough', async () => {
    // '1 krw' is in about 15 of the newest 150 rows: the rest of the page is a few hundred rows on.
    const plans = await plansOf({ q: '1 krw' });
    expect(plans).toHaveLength(2);
    expect(plans[1]).toMatch(/Index Scan using audit_events_tenant_ts_idx/);
    expect(plans[1]).not.toMatch(/audit_search_query_keys/);
  });

  it('asks the month index for the action too when the search is under one action, and no other index', async () => {
    const plans = await plansOf({ q: 'quokka', actions: ['manual_review_request'] });
    const months = plans.at(-1);
    expect(months).toMatch(/audit_search_query_keys\(current_setting\('accounting.tenant'::text, true\), month\.start, 'quokka'::text, 'manual_review_request'::text\)/);
    // Each month's candidates are the month index's alone: a btree range over the tenant's
    // manual reviews, read again for every month, is what a small table tempts the planner to add.
    expect(months).toMatch(/Bitmap Index Scan on audit_events_search_month_idx/);
    expect(months).not.toMatch(/audit_events_tenant_action_ts_idx|audit_events_tenant_ts_idx/);
  });

  it('a term common in the newest rows never leaves the first walk', async () => {
    expect(await plansOf({ q: 'krw' })).toHaveLength(1);
    expect(SEARCH_WALK_ROWS).toBeLessThan(ROWS);
  });

  it('never returns another tenant its rows', async () => {
    const page = await listAuditEvents(schema.db, 'pilot-a', { filter: { q: 'quokka' }, limit: 200 });
    const { rows } = await schema.db.query<{ id: string }>(`SELECT id FROM audit_events WHERE tenant = 'pilot-a' AND summary LIKE '%Quokka%'`);
    expect(page.items.map((item) => item.id).sort()).toEqual(rows.map((row) => row.id).sort());
    const mine = await pageThrough({ q: 'quokka' }, 200);
    expect(mine.some((id) => rows.some((row) => row.id === id))).toBe(false);
  });
});
