-- Code list packages by the identity of their list (issue 14): an import
-- of a form finds the package that holds a list by its canonical URI and
-- the list's own version. One row per published version of a code list
-- package that names both.
CREATE TABLE codelist_sources (
    version_id BIGINT PRIMARY KEY REFERENCES versions (id),
    canonical_uri TEXT NOT NULL,
    source_version TEXT NOT NULL
);
CREATE INDEX codelist_sources_by_list ON codelist_sources (canonical_uri, source_version);
