-- Failure cases for the feedback loop (chat/issue webhook), written in the same transaction as
-- their audit event and delivered at least once by the BFF's dispatcher.
CREATE TABLE feedback_outbox (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant          text        NOT NULL CHECK (tenant ~ '^[a-z0-9_-]{1,63}$'),
  audit_event_id  bigint      NOT NULL,
  action          text        NOT NULL,
  subject_id      text,
  summary         text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  last_error      text,
  FOREIGN KEY (tenant, audit_event_id) REFERENCES audit_events (tenant, id)
);

CREATE INDEX feedback_outbox_due_idx ON feedback_outbox (next_attempt_at) WHERE delivered_at IS NULL;
