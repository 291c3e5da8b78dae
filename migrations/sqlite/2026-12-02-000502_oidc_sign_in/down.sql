ALTER TABLE users DROP COLUMN removed_at;
ALTER TABLE web_sessions DROP COLUMN own_token;
ALTER TABLE members DROP COLUMN granted_by;
DROP TABLE oidc_logins;
DROP TABLE user_identities;
