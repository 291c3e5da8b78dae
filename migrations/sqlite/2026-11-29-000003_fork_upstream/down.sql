DROP INDEX packages_upstream;
ALTER TABLE packages DROP COLUMN upstream;
