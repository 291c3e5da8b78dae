-- Trusted publishing: a namespace's owners name the CI pipelines (an
-- issuer's project, optionally a ref pattern and an environment) that may
-- exchange their OIDC ID token for a short-lived publish token, for one
-- package (package set) or the whole namespace (package NULL).
CREATE TABLE trusted_publishers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id BIGINT NOT NULL REFERENCES namespaces (id),
    package TEXT,
    issuer TEXT NOT NULL,
    project TEXT NOT NULL,
    ref_pattern TEXT,
    environment TEXT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX trusted_publishers_project ON trusted_publishers (issuer, project);
CREATE INDEX trusted_publishers_namespace ON trusted_publishers (namespace_id);

-- Each exchange: the token it made and the pipeline that asked. The
-- unique (issuer, jti) refuses an ID token used twice. publisher_id has no
-- foreign key: the record outlives a registration that is removed.
CREATE TABLE trusted_exchanges (
    token_id BIGINT PRIMARY KEY REFERENCES api_tokens (id),
    publisher_id BIGINT NOT NULL,
    issuer TEXT NOT NULL,
    jti TEXT NOT NULL,
    project TEXT NOT NULL,
    git_ref TEXT NOT NULL,
    pipeline_id TEXT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (issuer, jti)
);
CREATE INDEX trusted_exchanges_publisher ON trusted_exchanges (publisher_id);
