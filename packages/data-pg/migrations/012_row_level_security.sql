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
  END LOOP;
END;
$$;

-- The audit search's month index (migration 007) under row-level security. A policy's condition
-- runs before any operator that is not LEAKPROOF, and the index's `@>` is not, so for a role
-- bound by the policies PostgreSQL cannot use the index and reads every row of the table. The
-- month's candidates therefore come from audit_search_month_rows, which runs as this migration's
-- role (the tables' owner), for which the policy below passes every row, so the index is used;
-- the function itself returns only rows of the tenant in `accounting.tenant`, so the
-- application's role reads through it exactly what its own policy would let it read.
CREATE POLICY owner_reads ON audit_events FOR SELECT TO CURRENT_USER USING (true);

DO $$
BEGIN
  EXECUTE format($f$
    CREATE FUNCTION audit_search_month_rows(month_start timestamptz, q text, action text) RETURNS SETOF audit_events
    -- ROWS: about what a month of matches holds (the default, 1000, would misguide the plan around it).
    LANGUAGE sql STABLE SECURITY DEFINER ROWS 20 SET search_path = %I, pg_catalog AS $body$
      SELECT * FROM audit_events
      WHERE audit_search_keys(tenant, ts, action, coalesce(subject_id, '') || ' ' || summary)
              @> audit_search_query_keys(current_setting('accounting.tenant', true), month_start, q, audit_search_month_rows.action)
        AND tenant = current_setting('accounting.tenant', true)
    $body$ $f$, current_schema());
END;
$$;
REVOKE ALL ON FUNCTION audit_search_month_rows(timestamptz, text, text) FROM PUBLIC;
