-- Jobs are claimed by one node at a time (issue 12): the claiming node's
-- id, and its lease is the job's run_after (claim time plus the lease), so
-- that a job whose node died becomes due again when the lease runs out.
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
