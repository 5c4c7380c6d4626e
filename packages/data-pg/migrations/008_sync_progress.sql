-- A sync pass is the page loop from a loop-base cursor (the last has_more:false cursor, or none
-- for a full sync) to the next has_more:false page. A pass may span several runs: each page's
-- rows and the cursor after it commit in one transaction, here, so a run stopped by its
-- deadline, a kill or a crash resumes where it stopped. One row per source while a pass is
-- unfinished; the pass's last page deletes it in the transaction that stores the new loop base
-- in external_ledger_offset.
CREATE TABLE external_sync_progress (
  tenant      text        NOT NULL,
  source      text        NOT NULL,
  -- Where the pass started, and where MUTATION_DURING_PAGINATION restarts it; NULL: a full sync.
  base_cursor text,
  -- The next_cursor of the pass's last stored page: where the next run resumes.
  page_cursor text        NOT NULL,
  -- The pass's start_date and seen marker (external_ledger.seen_run_id), kept across runs: a
  -- full pass tombstones, at its end, the live rows booked since start_date it did not see.
  start_date  date        NOT NULL,
  seen_marker bigint      NOT NULL,
  -- Pages stored by this pass so far, over all its runs.
  pages       integer     NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, source),
  FOREIGN KEY (tenant, source) REFERENCES external_sources (tenant, source)
);
