CREATE TABLE namespaces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    ars TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE members (
    namespace_id BIGINT NOT NULL REFERENCES namespaces (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (namespace_id, user_id)
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    namespace_id BIGINT REFERENCES namespaces (id),
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    last_used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE packages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id BIGINT NOT NULL REFERENCES namespaces (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT,
    description TEXT NOT NULL,
    deprecated TEXT,
    downloads BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (namespace_id, name)
);

CREATE TABLE versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    package_id BIGINT NOT NULL REFERENCES packages (id),
    num TEXT NOT NULL,
    canonical_num TEXT NOT NULL,
    cksum TEXT NOT NULL,
    size BIGINT NOT NULL,
    manifest TEXT NOT NULL,
    forked_from TEXT,
    yanked_at TIMESTAMP,
    yank_reason TEXT,
    published_by BIGINT REFERENCES users (id),
    downloads BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (package_id, canonical_num)
);

CREATE TABLE dependencies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    dep_name TEXT NOT NULL,
    req TEXT NOT NULL
);
CREATE INDEX dependencies_version ON dependencies (version_id);
CREATE INDEX dependencies_dep_name ON dependencies (dep_name);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TIMESTAMP NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    namespace TEXT,
    target TEXT NOT NULL,
    details TEXT NOT NULL,
    client_addr TEXT
);
CREATE INDEX audit_log_namespace ON audit_log (namespace, id);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    run_after TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_ready ON jobs (run_after, id);
