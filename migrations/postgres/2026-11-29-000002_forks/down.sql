ALTER TABLE packages DROP COLUMN forked_from;
