-- Matches a person confirmed, as entries and lines: a single (one line, one entry), a batch (one
-- line, several entries) or a split (several lines, one entry) (docs/RECON.md "Decisions").
-- "One entry, one match": an entry has at most one hold, and every line of a match names its
-- entries through their hold's `match_key`, so the lines of a split share an entry and no other
-- match can. Undoing a match deletes its holds, which frees its lines with them. This replaces
-- the unique index on confirmed suggestions' entries, which could hold neither a split (several
-- lines, one entry) nor a batch's other entries.
CREATE TABLE recon_entry_holds (
  tenant     text        NOT NULL CHECK (tenant ~ '^[a-z0-9_-]{1,63}$'),
  entry_id   text        NOT NULL,
  match_key  text        NOT NULL CHECK (match_key <> ''),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, entry_id),
  UNIQUE (tenant, entry_id, match_key)
);
CREATE INDEX recon_entry_holds_match_idx ON recon_entry_holds (tenant, match_key);

-- One row per entry and line of a confirmed match.
CREATE TABLE recon_matched_entries (
  tenant        text        NOT NULL,
  entry_id      text        NOT NULL,
  match_key     text        NOT NULL,
  source        text        NOT NULL,
  external_id   text        NOT NULL,
  suggestion_id bigint      NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, entry_id, source, external_id),
  CONSTRAINT recon_matched_entries_hold_fkey FOREIGN KEY (tenant, entry_id, match_key)
    REFERENCES recon_entry_holds (tenant, entry_id, match_key) ON DELETE CASCADE
);
CREATE INDEX recon_matched_entries_line_idx ON recon_matched_entries (tenant, source, external_id);

-- The pairs confirmed so far, each a single match of its own. Read across tenants whatever
-- role runs the migration (recon_suggestions has row-level security forced since 012).
SELECT set_config('accounting.all_tenants', 'on', true);
INSERT INTO recon_entry_holds (tenant, entry_id, match_key, created_at)
SELECT tenant, entry_id, 'suggestion:' || id, coalesce(decided_at, updated_at)
FROM recon_suggestions WHERE decision = 'confirm' AND entry_id IS NOT NULL;
INSERT INTO recon_matched_entries (tenant, entry_id, match_key, source, external_id, suggestion_id, created_at)
SELECT tenant, entry_id, 'suggestion:' || id, source, external_id, id, coalesce(decided_at, updated_at)
FROM recon_suggestions WHERE decision = 'confirm' AND entry_id IS NOT NULL;

DROP INDEX recon_suggestions_confirmed_entry_idx;

-- Tenant isolation as migration 012 sets it on every tenant table.
ALTER TABLE recon_entry_holds ENABLE ROW LEVEL SECURITY;
ALTER TABLE recon_entry_holds FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON recon_entry_holds
  USING (tenant = current_setting('accounting.tenant', true))
  WITH CHECK (tenant = current_setting('accounting.tenant', true));
CREATE POLICY all_tenants ON recon_entry_holds
  USING (current_setting('accounting.all_tenants', true) = 'on')
  WITH CHECK (current_setting('accounting.all_tenants', true) = 'on');

ALTER TABLE recon_matched_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE recon_matched_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON recon_matched_entries
  USING (tenant = current_setting('accounting.tenant', true))
  WITH CHECK (tenant = current_setting('accounting.tenant', true));
CREATE POLICY all_tenants ON recon_matched_entries
  USING (current_setting('accounting.all_tenants', true) = 'on')
  WITH CHECK (current_setting('accounting.all_tenants', true) = 'on');

-- The alias key of each suggestion's line (`aliasNameKey` of its counterparty, else of its
-- description; NULL when empty), as the run that wrote it read the line: learning or removing an
-- alias marks the lines stored under its bank name for the next run (docs/RECON.md "Aliases").
ALTER TABLE recon_suggestions ADD COLUMN alias_key text;
CREATE INDEX recon_suggestions_alias_key_idx ON recon_suggestions (tenant, alias_key) WHERE alias_key IS NOT NULL;
