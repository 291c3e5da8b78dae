-- `ns/name` of `forked_from`, indexed: the fork network and the search
-- index ask "which packages build on X" for every page and every package.
ALTER TABLE packages ADD COLUMN upstream TEXT;
UPDATE packages SET upstream = substr(forked_from, 1, instr(forked_from, '@') - 1)
    WHERE forked_from IS NOT NULL;
CREATE INDEX packages_upstream ON packages (upstream);
