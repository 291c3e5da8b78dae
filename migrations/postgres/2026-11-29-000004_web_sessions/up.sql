-- Signed-in sessions of the web UI, shared by every server node. Neither
-- the session id nor an API token is stored: id_hash is the SHA-256 of the
-- random id in the browser's cookie, and the session acts through the
-- token row it was signed in with.
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    token_id BIGINT NOT NULL REFERENCES api_tokens (id),
    csrf TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_token ON web_sessions (token_id);
CREATE INDEX web_sessions_last_seen ON web_sessions (last_seen_at);
