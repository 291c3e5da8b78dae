-- A lane claims the due jobs of its own kinds in id order. Without this
-- index the history lane read every waiting git index job to find none of
-- its own: a backlog of 560,000 made each of its polls read them all.
CREATE INDEX jobs_lane ON jobs (kind, id);
