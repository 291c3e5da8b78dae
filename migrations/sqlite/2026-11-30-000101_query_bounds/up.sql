-- Every query on a request, publish or follower path is bounded by what
-- it returns (issue 19): these indexes serve the lists that were sorted
-- whole for every page view, and the downloads kept per day.

-- Downloads per version and UTC day; the flusher adds to them in one
-- transaction every few seconds.
CREATE TABLE version_downloads (
    version_id BIGINT NOT NULL REFERENCES versions (id),
    day DATE NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (version_id, day)
);

-- Downloads of the last 90 days, kept on the package so that "most used"
-- and the search ranking read one row, not 90 days of rows.
ALTER TABLE packages ADD COLUMN recent_downloads BIGINT NOT NULL DEFAULT 0;
-- The first day on which recent_downloads drops (its oldest counted day
-- plus 90): the daily roll-off reads only the packages whose day came.
ALTER TABLE packages ADD COLUMN recent_downloads_until DATE;
-- When the download counts last moved: the search ranking refresh reads
-- only what moved since its last pass.
ALTER TABLE packages ADD COLUMN downloads_changed_at TIMESTAMP;

CREATE INDEX packages_created ON packages (created_at, id);
CREATE INDEX packages_recent_downloads ON packages (recent_downloads, id);
CREATE INDEX packages_recent_until ON packages (recent_downloads_until);
CREATE INDEX packages_downloads_changed ON packages (downloads_changed_at);
-- A user's tokens and memberships (account pages, `token list`).
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE INDEX members_user ON members (user_id);
