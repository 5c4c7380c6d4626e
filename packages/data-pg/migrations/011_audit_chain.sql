-- Tamper-evident audit trail: each tenant's events form one chain. A row stores its place in
-- the chain (chain_seq, 1, 2, 3 ... per tenant), the id of the key its MAC was made with, the
-- MAC of the row before it and its own MAC: HMAC-SHA256 over the row's canonical content
-- (docs/POLICY.md "Audit trail integrity"), keyed with AUDIT_CHAIN_KEY, which the database
-- never holds. The application computes the MACs, so this migration only adds the columns;
-- rows written before it stay NULL here until the BFF (or the migration Job) chains them, in
-- id order, with the key (chainUnchainedAuditEvents).
ALTER TABLE audit_events
  ADD COLUMN chain_seq      bigint,
  ADD COLUMN chain_key_id   text,
  ADD COLUMN chain_prev_mac text,
  ADD COLUMN chain_mac      text,
  -- All or nothing: a row is chained or not yet chained. The first row of a chain has no previous MAC.
  ADD CONSTRAINT audit_events_chain_complete CHECK (
    (chain_seq IS NULL AND chain_key_id IS NULL AND chain_prev_mac IS NULL AND chain_mac IS NULL)
    OR (chain_seq >= 1 AND chain_key_id IS NOT NULL AND chain_mac IS NOT NULL AND (chain_prev_mac IS NULL) = (chain_seq = 1)));

-- The verifier walks a chain in order; one place per row.
CREATE UNIQUE INDEX audit_events_chain_seq_idx ON audit_events (tenant, chain_seq);
-- Rows not chained yet (legacy rows until chained; anything else is a row written past the app).
CREATE INDEX audit_events_unchained_idx ON audit_events (tenant, id) WHERE chain_seq IS NULL;

-- The head of each tenant's chain: the last row's place and MAC. Appending locks this row
-- (SELECT ... FOR UPDATE through INSERT ... ON CONFLICT DO UPDATE), so one tenant's appends are
-- serial, and updates it in the same transaction; audit_events itself is never updated by the
-- append path. published_at: when the head was last logged and sent to the feedback webhook.
CREATE TABLE audit_chain_heads (
  tenant       text        PRIMARY KEY CHECK (tenant ~ '^[a-z0-9_-]{1,63}$'),
  seq          bigint      NOT NULL DEFAULT 0 CHECK (seq >= 0),
  mac          text,
  key_id       text,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);

-- Append-only stays, with one exception: an UPDATE that fills the chain columns of a row not yet
-- chained and changes nothing else (the legacy chaining step). Everything else is refused.
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
       AND to_jsonb(OLD) - ARRAY['chain_seq', 'chain_key_id', 'chain_prev_mac', 'chain_mac']
         = to_jsonb(NEW) - ARRAY['chain_seq', 'chain_key_id', 'chain_prev_mac', 'chain_mac'] THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
END;
$$;
