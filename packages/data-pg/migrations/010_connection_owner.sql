-- A bank connection belongs to one tenant. `external_connection_owners` records, per
-- (kind, connection_id), the tenant whose source first used it; every source must name a
-- connection its own tenant owns (the foreign key), so no tenant can point a source at another
-- tenant's connection and sync its data, not even by SQL. A tenant may have several sources on
-- its connection. An owner row stays when its sources move on: handing a connection to another
-- tenant is a deliberate DELETE here (docs/EXTERNAL_SYNC.md, "Sources").
--
-- Existing rows that already share a connection between tenants stop the migration with an
-- error naming them: an operator decides which tenant keeps it; nothing is dropped silently.

DO $$
DECLARE
  shared text;
BEGIN
  SELECT string_agg(format('%s/%s (%s)', kind, connection_id, users), '; ' ORDER BY kind, connection_id)
    INTO shared
    FROM (
      SELECT kind, connection_id, string_agg(tenant || ':' || source, ', ' ORDER BY tenant, source) AS users
        FROM external_sources
       GROUP BY kind, connection_id
      HAVING count(DISTINCT tenant) > 1
    ) AS dup;
  IF shared IS NOT NULL THEN
    RAISE EXCEPTION 'external_sources: a bank connection is used by more than one tenant: %', shared
      USING HINT = 'keep each connection under one tenant (re-point or delete the other sources), then run the migrations again';
  END IF;
END
$$;

CREATE TABLE external_connection_owners (
  kind          text        NOT NULL CHECK (kind IN ('bank_sbx')),
  connection_id text        NOT NULL,
  tenant        text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, connection_id),
  UNIQUE (tenant, kind, connection_id)
);

INSERT INTO external_connection_owners (kind, connection_id, tenant)
SELECT DISTINCT kind, connection_id, tenant FROM external_sources;

ALTER TABLE external_sources
  ADD CONSTRAINT external_sources_connection_owner_fkey
  FOREIGN KEY (tenant, kind, connection_id) REFERENCES external_connection_owners (tenant, kind, connection_id);
