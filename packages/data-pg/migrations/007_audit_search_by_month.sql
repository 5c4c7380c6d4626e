-- Audit search (q) by month: a GIN index whose keys are the lowercased 3-character substrings
-- of subject and summary, each prefixed with the row's tenant and UTC month
-- ('default/202611/rdw'), plus one key for the row's action ('default/202611/action:recon_decision').
-- A row contains q (ILIKE '%q%') only if it contains every 3-character substring of lower(q),
-- so the keys of one month find that month's candidates from posting lists 1/(months x tenants)
-- the size of a whole-table trigram index, and the repository reads the months newest first
-- until a page is full (docs/BENCHMARKS.md, "Audit list"). The action key lets a search under
-- one action (the Backoffice's pinned filter) leave out other actions' rows inside the index
-- instead of fetching them. It replaces migration 004's whole-table trigram index, which had
-- to read every match of all time before it could return the newest 50.
--
-- Keys are characters, not pg_trgm's words: no word splitting and no hashing of multibyte
-- trigrams, so a Korean name inside a word (한빛상사 in 한빛상사의) is found like any other
-- substring. lower() is what ILIKE folds case with. The month comes from ts at UTC, so the
-- functions are immutable. The repository asks, month by month, with
-- audit_search_query_keys(tenant, <a time in the month>, q, action), which derives its keys as
-- the index does, so the two cannot drift apart.

-- The index keys of a row. An action key cannot be mistaken for a substring key: after the
-- prefix, those are exactly 3 characters. Only pg_catalog is used: PostgreSQL 17 builds indexes
-- with a search_path of pg_catalog alone, so an index expression may not call our other
-- functions. COST: about 70 us per row on the benchmark machine, some 50 times a plain
-- comparison; so priced, the planner asks the index rather than computing the keys of every
-- row it reads.
CREATE FUNCTION audit_search_keys(tenant text, ts timestamptz, action text, body text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
  SELECT coalesce(array_agg(DISTINCT prefix || substr(folded, i, 3)) FILTER (WHERE i IS NOT NULL), '{}')
         || (prefix || 'action:' || action)
  FROM (SELECT lower(body) AS folded,
               tenant || '/' || (extract(year FROM ts AT TIME ZONE 'UTC') * 100
                                 + extract(month FROM ts AT TIME ZONE 'UTC'))::int::text || '/' AS prefix) AS row_text
       LEFT JOIN generate_series(1, length(folded) - 2) AS i ON true
  GROUP BY prefix
$$;

-- The keys a search for q asks the index for in one month: at most four of q's substrings,
-- spread over it (the first, the last and two between), and the action's key when the search
-- is under one action (NULL: any action). Each must be in a matching row, and four spread over
-- the term already narrow a month to about its matches, while every key more costs a read of
-- its posting list (the common ones are long); ILIKE decides. PL/pgSQL, not SQL: a search
-- calls it once per month, and a PL/pgSQL function keeps its plans for the session where an
-- SQL function would be parsed and planned on every call.
CREATE FUNCTION audit_search_query_keys(tenant text, ts timestamptz, q text, action text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  folded text := lower(q);
  grams int := length(folded) - 2;
  -- The prefix exactly as audit_search_keys builds it.
  prefix text := tenant || '/' || (extract(year FROM ts AT TIME ZONE 'UTC') * 100 + extract(month FROM ts AT TIME ZONE 'UTC'))::int::text || '/';
  keys text[] := '{}';
  key text;
BEGIN
  FOR k IN 0..3 LOOP
    EXIT WHEN grams < 1;
    key := prefix || substr(folded, 1 + round(k * (grams - 1) / 3.0)::int, 3);
    IF NOT key = ANY(keys) THEN
      keys := keys || key;
    END IF;
  END LOOP;
  IF action IS NOT NULL THEN
    keys := keys || (prefix || 'action:' || action);
  END IF;
  RETURN keys;
END;
$$;

CREATE INDEX audit_events_search_month_idx ON audit_events
  USING gin (audit_search_keys(tenant, ts, action, coalesce(subject_id, '') || ' ' || summary));

DROP INDEX audit_events_search_trgm_idx;
