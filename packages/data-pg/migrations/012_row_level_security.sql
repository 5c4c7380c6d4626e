-- Tenant isolation in the database, not only in WHERE clauses: row-level security, enabled and
-- forced (so the tables' owner is bound too; only a superuser or a BYPASSRLS role is not), on
-- every table that holds a tenant's rows. A statement sees and writes the rows of the tenant in
-- the transaction-local setting `accounting.tenant`, or every tenant's rows when the background
-- jobs that span tenants set `accounting.all_tenants` to `on` (packages/data-pg/src/tenantScope.ts).
-- With neither set, which is what a query that forgot its tenant gets, it sees no row and may
-- write none. current_setting(..., true) is NULL when the setting was never set.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'audit_events', 'audit_chain_heads', 'idempotency_keys',
    'external_sources', 'external_connection_owners', 'external_ledger', 'external_ledger_offset',
    'external_sync_runs', 'external_sync_state', 'external_sync_progress',
    'feedback_outbox',
    'ledger_entries', 'recon_suggestions', 'recon_declined_pairs',
    'recon_runs', 'recon_state', 'recon_scored_entries', 'recon_pending_lines', 'recon_pending_days'
  ] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY tenant_rows ON %I USING (tenant = current_setting(''accounting.tenant'', true)) '
      'WITH CHECK (tenant = current_setting(''accounting.tenant'', true))', t);
    EXECUTE format(
      'CREATE POLICY all_tenants ON %I USING (current_setting(''accounting.all_tenants'', true) = ''on'') '
      'WITH CHECK (current_setting(''accounting.all_tenants'', true) = ''on'')', t);
    -- For this release only: the tables' owner keeps every row, so pods of the release before
    -- (one role, the owner, no tenant setting) still serve during the rolling upgrade and after
    -- a rollback. The application's role (DATABASE_URL of two roles) is bound from now on; a
    -- later migration drops these once no release without the setting may run (docs/DEPLOY.md).
    EXECUTE format('CREATE POLICY owner_during_upgrade ON %I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
  END LOOP;
END;
$$;

-- The audit search's month index (migration 007) under row-level security. A policy's condition
-- runs before any operator that is not LEAKPROOF, and the index's `@>` is not, so for a role
-- bound by the policies PostgreSQL cannot use the index and reads every row of the table. The
-- month-by-month step of a search therefore runs in audit_search_months, as this migration's
-- role (the tables' owner), for which the policy below passes every row, so the index is used;
-- the function returns only rows of the tenant in `accounting.tenant`, so the application's role
-- reads through it exactly what its own policy would let it read.
CREATE POLICY owner_reads ON audit_events FOR SELECT TO CURRENT_USER USING (true);

-- The step itself, as the repository ran it before (packages/data-pg/src/repositories/auditEvents.ts,
-- searchNewestFirst): `months`, newest first, each asked for its candidates through the month
-- index alone (the OFFSET 0 fence keeps the planner from adding a btree index for the other
-- filters on every month), the candidates tested against the filters and the month's bounds
-- (its end in UTC), ordered by month so the planner stops asking older months once `want` rows
-- are found. A NULL filter is no filter; `pattern` is the ILIKE pattern of `q`; `action` the one
-- action whose key the index is asked for too (NULL: any); `before_ts`/`before_id` the position
-- the page starts after. PL/pgSQL: one call per search, whose plan is kept for the session.
-- search_path is fixed, pg_temp last, so a caller's objects cannot stand in for ours.
DO $$
BEGIN
  EXECUTE format($f$
    CREATE FUNCTION audit_search_months(months timestamptz[], q text, pattern text, action text, actions text[], actor text,
                                        ts_from timestamptz, ts_to timestamptz, before_ts timestamptz, before_id bigint, want int)
    RETURNS SETOF audit_events
    LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 50 SET search_path = %I, pg_catalog, pg_temp AS $body$
    BEGIN
      RETURN QUERY
      SELECT e.* FROM unnest(months) WITH ORDINALITY AS month(start, n)
      CROSS JOIN LATERAL (
        SELECT c.* FROM (
          SELECT a.* FROM audit_events a
          WHERE audit_search_keys(a.tenant, a.ts, a.action, coalesce(a.subject_id, '') || ' ' || a.summary)
                  @> audit_search_query_keys(current_setting('accounting.tenant', true), month.start, q, audit_search_months.action)
          OFFSET 0) AS c
        WHERE c.tenant = current_setting('accounting.tenant', true)
          AND c.ts >= month.start AND c.ts < (month.start AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC'
          AND (coalesce(c.subject_id, '') || ' ' || c.summary) ILIKE pattern
          AND (actions IS NULL OR c.action = ANY(actions))
          AND (audit_search_months.actor IS NULL OR c.actor_id = audit_search_months.actor OR c.actor_role = audit_search_months.actor)
          AND (ts_from IS NULL OR c.ts >= ts_from) AND (ts_to IS NULL OR c.ts < ts_to)
          AND (c.ts, c.id) < (before_ts, before_id)
        ORDER BY c.ts DESC, c.id DESC LIMIT want) AS e
      ORDER BY month.n, e.ts DESC, e.id DESC LIMIT want;
    END;
    $body$ $f$, current_schema());
END;
$$;
REVOKE ALL ON FUNCTION audit_search_months(timestamptz[], text, text, text, text[], text, timestamptz, timestamptz, timestamptz, bigint, int) FROM PUBLIC;
