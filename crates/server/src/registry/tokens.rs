//! Tokens a user manages without the operator: made through the API, for
//! at most a year, never with more than the token that makes them may
//! do; listed and revoked by their user, and by the owners of a namespace
//! they act on. (`gemeinwerk admin token` stays for the operator.)

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;

use super::audit::Origin;
use super::auth::{self, authenticate, find_namespace, CreatedToken, Credential, Scope};
use super::error::{RegistryError, Result};
use super::rate_limits::{Limited, RateLimits};
use crate::store::db::now;
use crate::store::models::ApiToken;
use crate::store::schema::{api_tokens, members, namespaces};
use crate::store::DbConn;

/// The longest a self-made token lives; longer-lived ones are for the
/// operator to hand out.
pub const LONGEST_DAYS: i64 = 365;

/// What is asked for a new token.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub name: String,
    pub scopes: Vec<String>,
    pub namespace: Option<String>,
    pub expires_in_days: i64,
}

/// A token as its user and the namespace's owners see it: never the token
/// itself, which exists only in the answer that made it.
#[derive(Debug, Clone, Serialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub login: String,
    pub scopes: Vec<String>,
    pub namespace: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Makes a token for the credential's user. Its scopes must be ones the
/// credential holds, its namespace the credential's own when that is
/// restricted, and one the user is a member of.
pub fn create(
    conn: &mut DbConn,
    limits: &RateLimits,
    cred: Credential<'_>,
    origin: &Origin,
    req: &TokenRequest,
) -> Result<CreatedToken> {
    let actor = authenticate(conn, cred)?;
    actor.refuse_if_trusted()?;
    limits.check(Limited::TokenCreate, &actor.token_id.to_string())?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(RegistryError::bad_request(
            "invalid_token_name",
            "the token's name must be 1 to 64 characters, without control characters",
        ));
    }
    if !(1..=LONGEST_DAYS).contains(&req.expires_in_days) {
        return Err(RegistryError::bad_request(
            "invalid_expiry",
            format!("expires_in_days must be between 1 and {LONGEST_DAYS}"),
        ));
    }
    let mut scopes = Vec::new();
    for s in &req.scopes {
        let scope = Scope::parse(s).ok_or_else(|| {
            RegistryError::bad_request(
                "invalid_scope",
                format!(
                    "scope \"{}\" is not known; use publish, yank or owners",
                    s.escape_default()
                ),
            )
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    if scopes.is_empty() {
        return Err(RegistryError::bad_request(
            "invalid_scope",
            "a token needs at least one scope (publish, yank, owners)",
        ));
    }
    if let Some(missing) = scopes.iter().find(|s| !actor.scopes().contains(s)) {
        return Err(RegistryError::ScopeNotHeld(missing.as_str()));
    }
    let namespace = match (&req.namespace, actor.namespace_id()) {
        (None, None) => None,
        (requested, Some(own)) => {
            let own: String = namespaces::table
                .find(own)
                .select(namespaces::slug)
                .first(conn)?;
            match requested {
                Some(r) if *r == own => Some(own),
                _ => {
                    return Err(RegistryError::TokenNamespace {
                        allowed: own,
                        target: requested.clone().unwrap_or_else(|| "(all)".into()),
                    })
                }
            }
        }
        (Some(requested), None) => {
            let ns = find_namespace(conn, requested)?;
            let member = members::table
                .find((ns.id, actor.user_id))
                .select(members::role)
                .first::<String>(conn)
                .optional()?;
            if member.is_none() {
                return Err(RegistryError::NotAMember {
                    login: actor.login.clone(),
                    namespace: ns.slug,
                });
            }
            Some(ns.slug)
        }
    };
    // Nor may it outlive the token that makes it: a short-lived token
    // must not become a long-lived one.
    let expires_at = now() + Duration::days(req.expires_in_days);
    let own_expiry: Option<NaiveDateTime> = api_tokens::table
        .find(actor.token_id)
        .select(api_tokens::expires_at)
        .first(conn)?;
    if let Some(own) = own_expiry.filter(|own| *own < expires_at) {
        return Err(RegistryError::ExpiryNotHeld(own));
    }
    let origin = Origin {
        actor: Some(actor.login.clone()),
        ..origin.clone()
    };
    auth::create_token(
        conn,
        &origin,
        &actor.login,
        name,
        &scopes,
        namespace.as_deref(),
        Some(expires_at),
    )
}

/// The credential's user's tokens, newest first.
pub fn list_own(conn: &mut DbConn, cred: Credential<'_>) -> Result<Vec<TokenView>> {
    let actor = authenticate(conn, cred)?;
    let rows = api_tokens::table
        .filter(api_tokens::user_id.eq(actor.user_id))
        .select(ApiToken::as_select())
        .order(api_tokens::id.desc())
        .load(conn)?;
    views(conn, rows)
}

/// Revokes one of the credential's user's own tokens (another user's is
/// not found: to them it does not exist).
pub fn revoke_own(conn: &mut DbConn, cred: Credential<'_>, origin: &Origin, id: i64) -> Result<()> {
    auth::revoke_own_token(conn, cred, origin, id)?
        .map(|_| ())
        .ok_or(RegistryError::UnknownTokenId(id))
}

/// The tokens that can act on a namespace now (see [`acting_on`]): for
/// its owners.
pub fn list_for_namespace(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
) -> Result<Vec<TokenView>> {
    super::accounts::require_owner(conn, cred, origin, namespace)?;
    let rows = acting_on(conn, namespace)?;
    views(conn, rows)
}

/// Revokes a token that acts on the namespace: for its owners, to cut a
/// member's access off at once. A token restricted to no namespace is
/// revoked as a whole (a token cannot lose one namespace only).
pub fn revoke_in_namespace(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    id: i64,
) -> Result<()> {
    let origin = super::accounts::require_owner(conn, cred, origin, namespace)?;
    if !acting_on(conn, namespace)?.iter().any(|t| t.id == id) {
        return Err(RegistryError::UnknownTokenId(id));
    }
    auth::revoke_token(conn, &origin, &id.to_string(), Some(namespace)).map(|_| ())
}

/// The tokens of a namespace's members that are restricted to it or to
/// no namespace, neither revoked nor expired, newest first.
fn acting_on(conn: &mut DbConn, namespace: &str) -> Result<Vec<ApiToken>> {
    let ns = find_namespace(conn, namespace)?;
    Ok(api_tokens::table
        .inner_join(
            members::table.on(members::user_id
                .eq(api_tokens::user_id)
                .and(members::namespace_id.eq(ns.id))),
        )
        .filter(
            api_tokens::namespace_id
                .eq(ns.id)
                .or(api_tokens::namespace_id.is_null()),
        )
        .filter(api_tokens::revoked_at.is_null())
        .filter(
            api_tokens::expires_at
                .is_null()
                .or(api_tokens::expires_at.gt(now())),
        )
        .select(ApiToken::as_select())
        .order(api_tokens::id.desc())
        .load(conn)?)
}

fn views(conn: &mut DbConn, rows: Vec<ApiToken>) -> Result<Vec<TokenView>> {
    let mut out = Vec::with_capacity(rows.len());
    for t in rows {
        let (login, namespace) = auth::user_and_namespace(conn, &t)?;
        out.push(TokenView {
            id: t.id,
            name: t.name,
            login,
            scopes: t.scopes.split(',').map(str::to_string).collect(),
            namespace,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        });
    }
    Ok(out)
}
