-- Packages by the FIM element they were made from (issue 14, point 7):
-- an import of a Stammdatenschema finds the field group package of a
-- harmonised Datenfeldgruppe by its FIM id and version and depends on it
-- instead of copying the group. One row per published version whose
-- manifest names both under [fim].
CREATE TABLE fim_sources (
    version_id BIGINT PRIMARY KEY REFERENCES versions (id),
    fim_id TEXT NOT NULL,
    fim_version TEXT NOT NULL
);
CREATE INDEX fim_sources_by_element ON fim_sources (fim_id, fim_version);
