-- Sign-in with the administration's OpenID Connect provider.

-- Who a user is at a provider: the (issuer, sub) pair the ID token names.
CREATE TABLE user_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    provider TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

-- A sign-in under way: created when the browser is sent to the provider,
-- spent (deleted) when it comes back. Keyed by the SHA-256 of `state`;
-- bound to the browser by the hash of a cookie.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    provider TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Memberships the operator's group mapping granted carry the group; the
-- mapping changes and removes only those.
ALTER TABLE members ADD COLUMN granted_by TEXT;

-- A session that owns its token (made at an OIDC sign-in) revokes it
-- when it ends.
ALTER TABLE web_sessions ADD COLUMN own_token BOOLEAN NOT NULL DEFAULT FALSE;

-- A removed user stays (versions and the audit log name it) but can no
-- longer sign in, and the login is not given again.
ALTER TABLE users ADD COLUMN removed_at TIMESTAMP;
