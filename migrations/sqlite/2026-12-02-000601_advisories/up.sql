-- Advisories: a publisher tells forks and dependents that versions of a
-- package are affected by a change in the law, a fee, a security problem
-- or a defect, and which version fixes it.
CREATE TABLE advisories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    package_id BIGINT NOT NULL REFERENCES packages (id),
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    text TEXT NOT NULL,
    affected TEXT NOT NULL,
    fixed TEXT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX advisories_package ON advisories (package_id);
