-- External bank sync: which sources each tenant syncs, the transactions they brought in
-- (one row per bank transaction per tenant and source), the cursor, and the run history.

CREATE TABLE external_sources (
  tenant        text        NOT NULL CHECK (tenant ~ '^[a-z0-9_-]{1,63}$'),
  source        text        NOT NULL CHECK (source ~ '^[a-z0-9_-]{1,63}$'),
  kind          text        NOT NULL CHECK (kind IN ('bank_sbx')),
  connection_id text        NOT NULL CHECK (connection_id ~ '^[A-Za-z0-9_.-]{1,128}$'),
  enabled       boolean     NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, source)
);

-- Removed transactions stay as tombstones (removed_at set): nothing is hard-deleted, and a
-- note someone attached to a row survives whatever the bank does to it.
CREATE TABLE external_ledger (
  tenant              text        NOT NULL,
  source              text        NOT NULL,
  external_id         text        NOT NULL,
  account_id          text        NOT NULL,
  amount              numeric     NOT NULL,
  currency            text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  booked_date         date        NOT NULL,
  status              text        NOT NULL CHECK (status IN ('pending', 'posted')),
  pending_external_id text,
  description         text        NOT NULL DEFAULT '',
  counterparty        text,
  reference           text,
  provider_updated_at timestamptz,
  note                text,
  removed_at          timestamptz,
  first_seen_at       timestamptz NOT NULL DEFAULT now(),
  -- When we stored or last changed the row (the seeds' verification query filters on it).
  ts                  timestamptz NOT NULL DEFAULT now(),
  -- The sync run that last saw the row; a full resync tombstones rows it did not see.
  seen_run_id         bigint,
  PRIMARY KEY (tenant, source, external_id),
  FOREIGN KEY (tenant, source) REFERENCES external_sources (tenant, source)
);

CREATE INDEX external_ledger_tenant_ts_idx ON external_ledger (tenant, ts DESC);
CREATE INDEX external_ledger_tenant_booked_idx ON external_ledger (tenant, booked_date);
CREATE INDEX external_ledger_pending_idx ON external_ledger (tenant, source, pending_external_id)
  WHERE pending_external_id IS NOT NULL;

-- The bank's cursor per source, written in the same transaction as the data it covers.
CREATE TABLE external_ledger_offset (
  tenant     text        NOT NULL,
  source     text        NOT NULL,
  cursor     text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, source),
  FOREIGN KEY (tenant, source) REFERENCES external_sources (tenant, source)
);

CREATE TABLE external_sync_runs (
  tenant                text        NOT NULL,
  source                text        NOT NULL,
  id                    bigint      GENERATED ALWAYS AS IDENTITY,
  started_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
  finished_at           timestamptz,
  outcome               text        NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'succeeded', 'failed')),
  full_resync           boolean     NOT NULL DEFAULT false,
  error_code            text,
  error_message         text,
  attempts              integer     NOT NULL DEFAULT 0,
  pages                 integer     NOT NULL DEFAULT 0,
  rows_added            integer     NOT NULL DEFAULT 0,
  rows_modified         integer     NOT NULL DEFAULT 0,
  rows_removed          integer     NOT NULL DEFAULT 0,
  removed_unknown       integer     NOT NULL DEFAULT 0,
  provider_refreshed_at timestamptz,
  PRIMARY KEY (tenant, source, id),
  FOREIGN KEY (tenant, source) REFERENCES external_sources (tenant, source)
);

CREATE INDEX external_sync_runs_recent_idx ON external_sync_runs (tenant, source, started_at DESC);

-- Monotonic totals and the latest state per source: what /metrics and os/sources read.
-- Kept apart from the run history so pruning old runs never resets a counter.
CREATE TABLE external_sync_state (
  tenant                text             NOT NULL,
  source                text             NOT NULL,
  runs_total            bigint           NOT NULL DEFAULT 0,
  errors_total          bigint           NOT NULL DEFAULT 0,
  rows_synced_total     bigint           NOT NULL DEFAULT 0,
  last_success_at       timestamptz,
  last_run_seconds      double precision,
  last_error_code       text,
  last_error_at         timestamptz,
  last_error_attempts   integer,
  provider_refreshed_at timestamptz,
  PRIMARY KEY (tenant, source),
  FOREIGN KEY (tenant, source) REFERENCES external_sources (tenant, source)
);
