-- Who builds on a package, kept as publishes add it, so that the package
-- page reads a bounded slice: a package that a hundred thousand others
-- depend on must not cost a hundred thousand rows a page view. A
-- dependency once published stays (versions are never removed), so rows
-- are only ever added.
CREATE TABLE dependents (
    dependency TEXT NOT NULL,
    dependent TEXT NOT NULL,
    PRIMARY KEY (dependency, dependent)
);
-- The namespaces among them, for "genutzt von N Kommunen": at most one
-- row per namespace, however many of its packages depend.
CREATE TABLE dependent_namespaces (
    dependency TEXT NOT NULL,
    namespace TEXT NOT NULL,
    PRIMARY KEY (dependency, namespace)
);
INSERT INTO dependents (dependency, dependent)
SELECT DISTINCT d.dep_name, n.slug || '/' || p.name
FROM dependencies d
JOIN versions v ON v.id = d.version_id
JOIN packages p ON p.id = v.package_id
JOIN namespaces n ON n.id = p.namespace_id;
INSERT INTO dependent_namespaces (dependency, namespace)
SELECT DISTINCT d.dep_name, n.slug
FROM dependencies d
JOIN versions v ON v.id = d.version_id
JOIN packages p ON p.id = v.package_id
JOIN namespaces n ON n.id = p.namespace_id;
