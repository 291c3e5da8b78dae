ALTER TABLE packages ADD COLUMN forked_from TEXT;
