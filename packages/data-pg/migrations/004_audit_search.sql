-- Audit list filters: free-text search over subject and summary (q), and the actor filter.
-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. It is
-- created in public and its operator class named with the schema, so a search_path without
-- public still finds it.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE INDEX audit_events_search_trgm_idx ON audit_events
  USING gin ((coalesce(subject_id, '') || ' ' || summary) public.gin_trgm_ops);

CREATE INDEX audit_events_tenant_actor_ts_idx ON audit_events (tenant, actor_id, ts DESC, id DESC);
