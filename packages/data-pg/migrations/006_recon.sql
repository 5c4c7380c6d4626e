-- Reconciliation: the tenant's internal ledger entries, the current suggestion for each bank
-- transaction, and the pairs a person declined (never suggested again).

CREATE TABLE ledger_entries (
  tenant       text        NOT NULL CHECK (tenant ~ '^[a-z0-9_-]{1,63}$'),
  entry_id     text        NOT NULL CHECK (entry_id ~ '^[A-Za-z0-9_.:/-]{1,128}$'),
  amount       numeric     NOT NULL,
  currency     text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  entry_date   date        NOT NULL,
  memo         text        NOT NULL DEFAULT '',
  reference    text,
  counterparty text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, entry_id)
);

CREATE INDEX ledger_entries_tenant_date_idx ON ledger_entries (tenant, entry_date, entry_id);

CREATE TABLE recon_suggestions (
  tenant        text        NOT NULL,
  id            bigint      GENERATED ALWAYS AS IDENTITY,
  source        text        NOT NULL,
  external_id   text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('matched', 'suggested', 'unmatched', 'blocked')),
  entry_id      text,
  confidence    numeric(4, 2),
  rule          text        NOT NULL,
  rationale     text        NOT NULL CHECK (rationale <> ''),
  criteria      jsonb       NOT NULL DEFAULT '[]'::jsonb,
  candidates    jsonb       NOT NULL DEFAULT '[]'::jsonb,
  rules_version text        NOT NULL,
  -- 'confirm' freezes the pair; a declined suggestion is recomputed by the next run.
  decision      text        CHECK (decision IN ('confirm', 'decline')),
  decided_at    timestamptz,
  decided_by    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, id),
  UNIQUE (tenant, source, external_id),
  FOREIGN KEY (tenant, source, external_id) REFERENCES external_ledger (tenant, source, external_id)
);

CREATE INDEX recon_suggestions_tenant_status_idx ON recon_suggestions (tenant, status, id DESC);
CREATE UNIQUE INDEX recon_suggestions_confirmed_entry_idx ON recon_suggestions (tenant, entry_id) WHERE decision = 'confirm';

CREATE TABLE recon_declined_pairs (
  tenant      text        NOT NULL,
  source      text        NOT NULL,
  external_id text        NOT NULL,
  entry_id    text        NOT NULL,
  declined_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, source, external_id, entry_id)
);
