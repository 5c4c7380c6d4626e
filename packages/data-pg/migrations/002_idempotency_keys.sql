-- Idempotency keys for writes the HUD may replay (offline queue): the first request's outcome
-- is stored under (tenant, key) and replayed to retries with the same body.
CREATE TABLE idempotency_keys (
  tenant          text        NOT NULL CHECK (tenant ~ '^[a-z0-9_-]{1,63}$'),
  key             text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  scope           text        NOT NULL,
  request_hash    text        NOT NULL,
  state           text        NOT NULL CHECK (state IN ('in_progress', 'completed')),
  response_status integer,
  response_body   jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  completed_at    timestamptz,
  expires_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant, key)
);

CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
