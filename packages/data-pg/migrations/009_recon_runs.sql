-- Reconciliation runs off the request path, and incremental: the runs the API queues, and what
-- changed since the runs that saw it (docs/RECON.md "Runs").

-- One row per requested run. Any replica may run a queued run; `owner` is the replica running it,
-- which refreshes `heartbeat_at` while it works. A run whose heartbeat is older than the lease
-- (60 s) belongs to a replica that died: it is failed with error_code ABANDONED.
CREATE TABLE recon_runs (
  tenant        text        NOT NULL CHECK (tenant ~ '^[a-z0-9_-]{1,63}$'),
  id            uuid        NOT NULL DEFAULT gen_random_uuid(),
  status        text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  range_from    date,
  range_to      date,
  -- full: every undecided line; incremental: what changed since the last runs; range: range_from..range_to.
  mode          text        CHECK (mode IN ('full', 'incremental', 'range')),
  requested_by  text        NOT NULL,
  request_id    text,
  owner         text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  heartbeat_at  timestamptz,
  finished_at   timestamptz,
  summary       jsonb,
  error_code    text,
  error_message text,
  PRIMARY KEY (tenant, id)
);

-- One running run per tenant, whatever the replica.
CREATE UNIQUE INDEX recon_runs_one_running_idx ON recon_runs (tenant) WHERE status = 'running';
CREATE INDEX recon_runs_queued_idx ON recon_runs (created_at) WHERE status = 'queued';
CREATE INDEX recon_runs_finished_idx ON recon_runs (finished_at) WHERE finished_at IS NOT NULL;

-- The rules version of the tenant's last complete (full) run; NULL or no row: the next run is full.
CREATE TABLE recon_state (
  tenant        text        PRIMARY KEY CHECK (tenant ~ '^[a-z0-9_-]{1,63}$'),
  rules_version text,
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The entries a suggestion's transaction was scored against, and those of them it could claim
-- (confidence at the auto-match threshold or above). A line affects another only through an
-- entry the first could claim and the second was scored against (docs/RECON.md "Runs").
ALTER TABLE recon_suggestions
  ADD COLUMN scored_entry_ids    text[] NOT NULL DEFAULT '{}',
  ADD COLUMN claimable_entry_ids text[] NOT NULL DEFAULT '{}';

-- The same, one row per entry and line, for the runs' lookups by entry (thousands of ids at once).
CREATE TABLE recon_scored_entries (
  tenant      text    NOT NULL,
  entry_id    text    NOT NULL,
  source      text    NOT NULL,
  external_id text    NOT NULL,
  claimable   boolean NOT NULL,
  PRIMARY KEY (tenant, entry_id, source, external_id)
);

-- Marks of what changed since the runs that saw it, written by the triggers below whatever the
-- writer (sync, import, decision). A run reads the marks first, then the data, and at its end
-- deletes exactly the marks it read (by seq): a mark written meanwhile has a new seq and stays.
CREATE SEQUENCE recon_mark_seq;

-- The triggers below and the runs (`deletePendingMarks`) lock marks in key order, so two
-- writers covering the same lines or days in another order wait for each other, never deadlock.

-- Bank lines whose own data changed (new, modified, removed, revived) or that a person decided.
CREATE TABLE recon_pending_lines (
  tenant      text   NOT NULL,
  source      text   NOT NULL,
  external_id text   NOT NULL,
  seq         bigint NOT NULL DEFAULT nextval('recon_mark_seq'),
  PRIMARY KEY (tenant, source, external_id)
);
CREATE INDEX recon_pending_lines_seq_idx ON recon_pending_lines (tenant, seq);

-- Dates of ledger entries created, changed or deleted (the old and the new date): every line
-- booked within reconEntryWindowDays of such a date is recomputed.
CREATE TABLE recon_pending_days (
  tenant text   NOT NULL,
  day    date   NOT NULL,
  seq    bigint NOT NULL DEFAULT nextval('recon_mark_seq'),
  PRIMARY KEY (tenant, day)
);
CREATE INDEX recon_pending_days_seq_idx ON recon_pending_days (tenant, seq);

CREATE FUNCTION recon_mark_bank_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO recon_pending_lines (tenant, source, external_id)
    SELECT n.tenant, n.source, n.external_id FROM new_rows n
    ORDER BY n.tenant, n.source, n.external_id
    ON CONFLICT (tenant, source, external_id) DO UPDATE SET seq = excluded.seq;
  ELSE
    -- Only what reconciliation reads: a sync seeing a row again changes nothing here.
    INSERT INTO recon_pending_lines (tenant, source, external_id)
    SELECT n.tenant, n.source, n.external_id
    FROM new_rows n JOIN old_rows o ON o.tenant = n.tenant AND o.source = n.source AND o.external_id = n.external_id
    WHERE (n.amount, n.currency, n.booked_date, n.status, n.description, n.counterparty, n.reference, n.removed_at IS NULL)
          IS DISTINCT FROM
          (o.amount, o.currency, o.booked_date, o.status, o.description, o.counterparty, o.reference, o.removed_at IS NULL)
    ORDER BY n.tenant, n.source, n.external_id
    ON CONFLICT (tenant, source, external_id) DO UPDATE SET seq = excluded.seq;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER external_ledger_recon_insert AFTER INSERT ON external_ledger
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_mark_bank_lines();
CREATE TRIGGER external_ledger_recon_update AFTER UPDATE ON external_ledger
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_mark_bank_lines();

CREATE FUNCTION recon_mark_entry_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO recon_pending_days (tenant, day)
    SELECT DISTINCT n.tenant, n.entry_date FROM new_rows n
    ORDER BY n.tenant, n.entry_date
    ON CONFLICT (tenant, day) DO UPDATE SET seq = excluded.seq;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO recon_pending_days (tenant, day)
    SELECT DISTINCT changed.tenant, changed.day
    FROM new_rows n JOIN old_rows o ON o.tenant = n.tenant AND o.entry_id = n.entry_id
    CROSS JOIN LATERAL (VALUES (n.tenant, n.entry_date), (o.tenant, o.entry_date)) AS changed (tenant, day)
    WHERE (n.amount, n.currency, n.entry_date, n.memo, n.reference, n.counterparty)
          IS DISTINCT FROM (o.amount, o.currency, o.entry_date, o.memo, o.reference, o.counterparty)
    ORDER BY changed.tenant, changed.day
    ON CONFLICT (tenant, day) DO UPDATE SET seq = excluded.seq;
  ELSE
    INSERT INTO recon_pending_days (tenant, day)
    SELECT DISTINCT o.tenant, o.entry_date FROM old_rows o
    ORDER BY o.tenant, o.entry_date
    ON CONFLICT (tenant, day) DO UPDATE SET seq = excluded.seq;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER ledger_entries_recon_insert AFTER INSERT ON ledger_entries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_mark_entry_days();
CREATE TRIGGER ledger_entries_recon_update AFTER UPDATE ON ledger_entries
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_mark_entry_days();
CREATE TRIGGER ledger_entries_recon_delete AFTER DELETE ON ledger_entries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION recon_mark_entry_days();

-- A confirmed line leaves the runs and its entry becomes taken; a declined one is recomputed.
CREATE FUNCTION recon_mark_decided_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO recon_pending_lines (tenant, source, external_id) VALUES (NEW.tenant, NEW.source, NEW.external_id)
  ON CONFLICT (tenant, source, external_id) DO UPDATE SET seq = excluded.seq;
  RETURN NULL;
END
$$;

CREATE TRIGGER recon_suggestions_decided AFTER UPDATE OF decision ON recon_suggestions
  FOR EACH ROW WHEN (NEW.decision IS NOT NULL AND NEW.decision IS DISTINCT FROM OLD.decision)
  EXECUTE FUNCTION recon_mark_decided_line();
