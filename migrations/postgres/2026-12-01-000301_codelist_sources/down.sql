DROP TABLE codelist_sources;
