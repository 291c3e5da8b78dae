DROP TABLE dependent_namespaces;
DROP TABLE dependents;
