DROP TABLE fim_sources;
