-- Counterparty aliases a tenant's reconciliation learned from confirmed pairs: a bank line named
-- `bank_name` pays or is paid by the ledger's `ledger_name`, both as `aliasNameKey` gives them
-- (docs/RECON.md "Aliases"). Every run reads them; removing one is a person's decision.
CREATE TABLE recon_counterparty_aliases (
  tenant        text        NOT NULL CHECK (tenant ~ '^[a-z0-9_-]{1,63}$'),
  id            bigint      GENERATED ALWAYS AS IDENTITY,
  bank_name     text        NOT NULL CHECK (bank_name <> '' AND length(bank_name) <= 400),
  ledger_name   text        NOT NULL CHECK (ledger_name <> '' AND length(ledger_name) <= 400),
  -- The confirmation it was learned from (the suggestion may since have been recomputed).
  suggestion_id bigint,
  source        text,
  external_id   text,
  entry_id      text,
  created_by    text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, id),
  UNIQUE (tenant, bank_name, ledger_name)
);

-- Tenant isolation as migration 012 sets it on every tenant table. No `owner_during_upgrade`
-- policy: no release before this one reads the table without the tenant setting.
ALTER TABLE recon_counterparty_aliases ENABLE ROW LEVEL SECURITY;
ALTER TABLE recon_counterparty_aliases FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON recon_counterparty_aliases
  USING (tenant = current_setting('accounting.tenant', true))
  WITH CHECK (tenant = current_setting('accounting.tenant', true));
CREATE POLICY all_tenants ON recon_counterparty_aliases
  USING (current_setting('accounting.all_tenants', true) = 'on')
  WITH CHECK (current_setting('accounting.all_tenants', true) = 'on');
