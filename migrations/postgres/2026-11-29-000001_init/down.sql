DROP TABLE jobs; DROP TABLE audit_log; DROP TABLE dependencies; DROP TABLE versions; DROP TABLE packages; DROP TABLE api_tokens; DROP TABLE members; DROP TABLE users; DROP TABLE namespaces;
