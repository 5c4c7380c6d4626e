-- Audit trail: one row per thing that happened in a tenant. Append-only (enforced below).
-- Read newest first with keyset pagination on (ts, id); every index leads with tenant.
CREATE TABLE audit_events (
  tenant       text        NOT NULL CHECK (tenant ~ '^[a-z0-9_-]{1,63}$'),
  id           bigint      GENERATED ALWAYS AS IDENTITY,
  ts           timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor_role   text        NOT NULL,
  actor_id     text,
  action       text        NOT NULL,
  subject_type text,
  subject_id   text,
  summary      text        NOT NULL DEFAULT '',
  details      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  request_id   text,
  PRIMARY KEY (tenant, id)
);

CREATE INDEX audit_events_tenant_ts_idx         ON audit_events (tenant, ts DESC, id DESC);
CREATE INDEX audit_events_tenant_action_ts_idx  ON audit_events (tenant, action, ts DESC, id DESC);
CREATE INDEX audit_events_tenant_subject_ts_idx ON audit_events (tenant, subject_id, ts DESC, id DESC);

CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP;
END;
$$;

CREATE TRIGGER audit_events_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
