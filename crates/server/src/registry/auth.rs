//! API tokens: `gw_` plus 32 random bytes in hex; only the SHA-256 of a
//! token is stored. A token has scopes, may be restricted to one namespace,
//! may expire, and is revoked at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::audit::{self, AuditAction, Origin};
use super::error::{RegistryError, Result};
use super::secrets;
use super::sessions;
use crate::store::db::now;
use crate::store::models::{ApiToken, Namespace, User};
use crate::store::schema::{api_tokens, members, namespaces, trusted_exchanges, users};
use crate::store::{write_tx, DbConn};

use gemeinwerk_package::names::TOKEN_PREFIX;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Publish,
    Yank,
    Owners,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Publish, Scope::Yank, Scope::Owners];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Publish => "publish",
            Scope::Yank => "yank",
            Scope::Owners => "owners",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Role of a user in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// May publish, yank and manage members.
    Owner,
    /// May publish and yank.
    Publisher,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Publisher => "publisher",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "publisher" => Some(Role::Publisher),
            _ => None,
        }
    }
}

fn well_formed(token: &str) -> bool {
    token
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Who acts, through which token.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub login: String,
    pub token_id: i64,
    scopes: Vec<Scope>,
    namespace_id: Option<i64>,
    /// Set for a token from trusted publishing: the pipeline, and what its
    /// registration lets it publish.
    pub trusted: Option<TrustedGrant>,
}

/// A short-lived token's registration and the pipeline it was made for.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrustedGrant {
    #[serde(rename = "trusted_publisher")]
    pub publisher_id: i64,
    /// The one package it may publish; `None`: any of the namespace.
    #[serde(skip)]
    pub package: Option<String>,
    pub issuer: String,
    pub project: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub pipeline_id: Option<String>,
}

/// A new token: the plaintext exists only here, to be shown once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CreatedToken {
    pub id: i64,
    pub token: String,
    pub login: String,
    pub scopes: Vec<Scope>,
    pub namespace: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
}

pub fn create_token(
    conn: &mut DbConn,
    origin: &Origin,
    login: &str,
    name: &str,
    scopes: &[Scope],
    namespace: Option<&str>,
    expires_at: Option<NaiveDateTime>,
) -> Result<CreatedToken> {
    let user = find_user(conn, login)?;
    let ns = namespace
        .map(|slug| find_namespace(conn, slug))
        .transpose()?;
    if scopes.is_empty() {
        return Err(RegistryError::bad_request(
            "invalid_scope",
            "a token needs at least one scope (publish, yank, owners)",
        ));
    }
    let scope_text = scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let (id, token) = write_tx(conn, |conn| -> Result<(i64, String)> {
        let (id, token) = insert_token(
            conn,
            user.id,
            name,
            &scope_text,
            ns.as_ref().map(|n| n.id),
            expires_at,
        )?;
        audit::record(
            conn,
            origin,
            AuditAction::TokenCreate,
            namespace,
            login,
            serde_json::json!({ "token_id": id, "name": name, "scopes": scope_text, "expires_at": expires_at }),
        )?;
        Ok((id, token))
    })?;
    Ok(CreatedToken {
        id,
        token,
        login: user.login,
        scopes: scopes.to_vec(),
        namespace: ns.map(|n| n.slug),
        expires_at,
    })
}

/// Writes a new token row; answers its id and the token, whose plaintext
/// exists only in this answer.
pub(crate) fn insert_token(
    conn: &mut DbConn,
    user_id: i64,
    name: &str,
    scopes: &str,
    namespace_id: Option<i64>,
    expires_at: Option<NaiveDateTime>,
) -> Result<(i64, String)> {
    let token = secrets::new_token();
    let id = diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(user_id),
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(secrets::digest(&token)),
            api_tokens::scopes.eq(scopes),
            api_tokens::namespace_id.eq(namespace_id),
            api_tokens::expires_at.eq(expires_at),
            api_tokens::created_at.eq(now()),
        ))
        .returning(api_tokens::id)
        .get_result(conn)?;
    Ok((id, token))
}

/// Revokes a token, named by its id or by the token itself. Takes effect
/// at once: every request looks the token up, and the web sessions signed
/// in with it end. The audit entry is the namespace's that the token is
/// restricted to, or `namespace` (an owner revoking a member's token).
pub fn revoke_token(
    conn: &mut DbConn,
    origin: &Origin,
    id_or_token: &str,
    namespace: Option<&str>,
) -> Result<ApiToken> {
    let token: Option<ApiToken> = if let Ok(id) = id_or_token.parse::<i64>() {
        api_tokens::table
            .find(id)
            .select(ApiToken::as_select())
            .first(conn)
            .optional()?
    } else {
        api_tokens::table
            .filter(api_tokens::token_hash.eq(secrets::digest(id_or_token)))
            .select(ApiToken::as_select())
            .first(conn)
            .optional()?
    };
    let token = token.ok_or(RegistryError::UnknownToken)?;
    write_tx(conn, |conn| -> Result<()> {
        diesel::update(api_tokens::table.find(token.id))
            .set(api_tokens::revoked_at.eq(Some(now())))
            .execute(conn)?;
        sessions::end_all_of_token(conn, token.id)?;
        let (login, own) = user_and_namespace(conn, &token)?;
        audit::record(
            conn,
            origin,
            AuditAction::TokenRevoke,
            namespace.or(own.as_deref()),
            &login,
            serde_json::json!({ "token_id": token.id }),
        )?;
        Ok(())
    })?;
    Ok(token)
}

/// The login of a token's user and the slug of the namespace it is
/// restricted to.
pub(crate) fn user_and_namespace(
    conn: &mut DbConn,
    token: &ApiToken,
) -> Result<(String, Option<String>)> {
    let login: String = users::table
        .find(token.user_id)
        .select(users::login)
        .first(conn)?;
    let namespace = match token.namespace_id {
        Some(id) => Some(
            namespaces::table
                .find(id)
                .select(namespaces::slug)
                .first(conn)?,
        ),
        None => None,
    };
    Ok((login, namespace))
}

/// Signs in to the web UI with an API token: the token gets the checks of
/// every request, then a session starts that acts through it. Returns the
/// session's raw id (for the cookie only) and its CSRF token.
///
/// Both outcomes are in the audit log (no namespace: a sign-in is the
/// user's), a refusal with its reason and the client's address.
pub fn sign_in(conn: &mut DbConn, origin: &Origin, token: &str) -> Result<(String, String)> {
    let actor = match authenticate(conn, Credential::Header(Some(token))) {
        Ok(actor) => actor,
        Err(e) if e.kind() == super::ErrorKind::Unauthenticated => {
            let origin = Origin {
                actor: Some("(unknown)".into()),
                ..origin.clone()
            };
            let reason = serde_json::json!({ "reason": e.code() });
            audit::record(conn, &origin, AuditAction::SignInFailed, None, "", reason)?;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    actor.refuse_if_trusted()?;
    let session = sessions::create(conn, actor.token_id)?;
    let origin = Origin {
        actor: Some(actor.login.clone()),
        ..origin.clone()
    };
    let details = serde_json::json!({ "token_id": actor.token_id });
    audit::record(
        conn,
        &origin,
        AuditAction::SignIn,
        None,
        &actor.login,
        details,
    )?;
    Ok(session)
}

/// Revokes one of the credential's user's own tokens (the web account
/// page). `None` when that user has no token with this id: to them it does
/// not exist.
pub fn revoke_own_token(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    id: i64,
) -> Result<Option<ApiToken>> {
    let actor = authenticate(conn, cred)?;
    let own = list_tokens(conn, &actor.login)?.iter().any(|t| t.id == id);
    if !own {
        return Ok(None);
    }
    let origin = Origin {
        actor: Some(actor.login),
        ..origin.clone()
    };
    revoke_token(conn, &origin, &id.to_string(), None).map(Some)
}

pub fn list_tokens(conn: &mut DbConn, login: &str) -> Result<Vec<ApiToken>> {
    let user = find_user(conn, login)?;
    Ok(api_tokens::table
        .filter(api_tokens::user_id.eq(user.id))
        .order(api_tokens::id)
        .select(ApiToken::as_select())
        .load(conn)?)
}

/// What a request authenticates with: the `Authorization` header of an
/// API client, or the id of a web session (from its cookie), which acts
/// through the token it was signed in with.
#[derive(Clone, Copy)]
pub enum Credential<'a> {
    Header(Option<&'a str>),
    Session(&'a str),
}

impl<'a> From<Option<&'a str>> for Credential<'a> {
    fn from(header: Option<&'a str>) -> Self {
        Credential::Header(header)
    }
}

/// Checks a credential: the token from an `Authorization` header
/// (`Bearer gw_…` or the bare token), or the token behind a web session;
/// both get the same checks, and the token's use is recorded.
pub fn authenticate(conn: &mut DbConn, cred: Credential<'_>) -> Result<Actor> {
    // The token, its user, and whether trusted publishing made it, in one
    // query: ordinary tokens need no second look.
    let found: Option<(ApiToken, User, Option<i64>)> = match cred {
        Credential::Header(header) => {
            let raw = header
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .ok_or(RegistryError::MissingToken)?;
            let token = match raw.split_once(' ') {
                Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
                _ => raw,
            };
            if !well_formed(token) {
                return Err(RegistryError::MalformedToken);
            }
            api_tokens::table
                .inner_join(users::table)
                .left_join(trusted_exchanges::table)
                .filter(api_tokens::token_hash.eq(secrets::digest(token)))
                .select((
                    ApiToken::as_select(),
                    User::as_select(),
                    trusted_exchanges::publisher_id.nullable(),
                ))
                .first(conn)
                .optional()?
        }
        Credential::Session(id) => {
            // A session that ended (signed out, idle, its token revoked)
            // is no credential at all.
            let token_id = sessions::token_of(conn, id)?.ok_or(RegistryError::MissingToken)?;
            api_tokens::table
                .inner_join(users::table)
                .left_join(trusted_exchanges::table)
                .filter(api_tokens::id.eq(token_id))
                .select((
                    ApiToken::as_select(),
                    User::as_select(),
                    trusted_exchanges::publisher_id.nullable(),
                ))
                .first(conn)
                .optional()?
        }
    };
    let (row, user, exchanged) = found.ok_or(RegistryError::UnknownToken)?;
    if row.revoked_at.is_some() || user.removed_at.is_some() {
        return Err(RegistryError::RevokedToken);
    }
    let at = now();
    if let Some(expiry) = row.expires_at {
        if expiry <= at {
            return Err(RegistryError::ExpiredToken(expiry));
        }
    }
    let trusted = match exchanged {
        Some(_) => super::trusted_publishing::grant_of(conn, row.id)?,
        None => None,
    };
    diesel::update(api_tokens::table.find(row.id))
        .set(api_tokens::last_used_at.eq(Some(at)))
        .execute(conn)?;
    Ok(Actor {
        user_id: user.id,
        login: user.login,
        token_id: row.id,
        scopes: row.scopes.split(',').filter_map(Scope::parse).collect(),
        namespace_id: row.namespace_id,
        trusted,
    })
}

impl Actor {
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// As [`Actor::authorize`] for `Scope::Publish` of one package: a
    /// trusted-publishing token registered for one package publishes that
    /// one only.
    pub fn authorize_publish(
        &self,
        conn: &mut DbConn,
        namespace: &Namespace,
        name: &str,
    ) -> Result<Role> {
        let role = self.authorize(conn, Scope::Publish, namespace, false)?;
        if let Some(grant) = &self.trusted {
            if grant.package.as_deref().is_some_and(|p| p != name) {
                return Err(RegistryError::TrustedPublisher {
                    code: super::trusted_publishing::codes::OUTSIDE_REGISTRATION,
                    detail: format!(
                        "this token from trusted publishing may publish {}/{} only, not {}/{name}",
                        namespace.slug,
                        grant.package.as_deref().unwrap_or_default(),
                        namespace.slug
                    ),
                });
            }
        }
        Ok(role)
    }

    /// A token from trusted publishing publishes, and does nothing else
    /// that needs no scope (sign in to the web, make tokens).
    pub fn refuse_if_trusted(&self) -> Result<()> {
        match self.trusted {
            Some(_) => Err(RegistryError::TrustedPublisher {
                code: super::trusted_publishing::codes::TOKEN_LIMITED,
                detail: "a token from trusted publishing can only publish; it cannot sign in or make tokens".into(),
            }),
            None => Ok(()),
        }
    }

    /// The namespace the actor's token is restricted to, if any.
    pub fn namespace_id(&self) -> Option<i64> {
        self.namespace_id
    }

    /// Checks that this actor may use `scope` in `namespace`, and returns
    /// its role there. `need_owner` asks for the owner role.
    pub fn authorize(
        &self,
        conn: &mut DbConn,
        scope: Scope,
        namespace: &Namespace,
        need_owner: bool,
    ) -> Result<Role> {
        if !self.scopes.contains(&scope) {
            return Err(RegistryError::MissingScope(scope.as_str()));
        }
        self.role_in(conn, namespace, need_owner)
    }

    /// The actor's role in `namespace`, whatever scopes its token carries:
    /// for what a member does for themself (mails about packages). The
    /// token must not be restricted to another namespace.
    pub fn role_in(
        &self,
        conn: &mut DbConn,
        namespace: &Namespace,
        need_owner: bool,
    ) -> Result<Role> {
        if let Some(allowed) = self.namespace_id {
            if allowed != namespace.id {
                let allowed = namespaces::table
                    .find(allowed)
                    .select(namespaces::slug)
                    .first(conn)?;
                return Err(RegistryError::TokenNamespace {
                    allowed,
                    target: namespace.slug.clone(),
                });
            }
        }
        // A pipeline's token publishes by its registration, which an owner
        // made; it is no member and never an owner.
        if self.trusted.is_some() {
            if need_owner {
                return Err(RegistryError::NotAnOwner(namespace.slug.clone()));
            }
            return Ok(Role::Publisher);
        }
        let role: Option<String> = members::table
            .filter(members::namespace_id.eq(namespace.id))
            .filter(members::user_id.eq(self.user_id))
            .select(members::role)
            .first(conn)
            .optional()?;
        let role = role
            .and_then(|r| Role::parse(&r))
            .ok_or_else(|| RegistryError::NotAMember {
                login: self.login.clone(),
                namespace: namespace.slug.clone(),
            })?;
        if need_owner && role != Role::Owner {
            return Err(RegistryError::NotAnOwner(namespace.slug.clone()));
        }
        Ok(role)
    }
}

pub fn find_user(conn: &mut DbConn, login: &str) -> Result<User> {
    if super::text::unmatchable(login) {
        return Err(RegistryError::UnknownUser(
            login.escape_default().to_string(),
        ));
    }
    users::table
        .filter(users::login.eq(login))
        .select(User::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| RegistryError::UnknownUser(login.to_string()))
}

pub fn find_namespace(conn: &mut DbConn, slug: &str) -> Result<Namespace> {
    if super::text::unmatchable(slug) {
        return Err(RegistryError::UnknownNamespace(
            slug.escape_default().to_string(),
        ));
    }
    namespaces::table
        .filter(namespaces::slug.eq(slug))
        .select(Namespace::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| RegistryError::UnknownNamespace(slug.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_well_formed() {
        let a = secrets::new_token();
        let b = secrets::new_token();
        assert_ne!(a, b);
        assert!(well_formed(&a), "{a}");
        assert!(!well_formed("gw_short"));
        assert!(!well_formed(&a.replace("gw_", "xx_")));
        assert_eq!(secrets::digest(&a).len(), 64);
    }
}
