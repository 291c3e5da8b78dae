//! Namespaces (one per municipality or provider), users and memberships.

use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, AuditAction, Origin};
use super::auth::{find_namespace, find_user, Credential, Role};
use super::error::{RegistryError, Result};
use crate::store::db::now;
use crate::store::models::{Namespace, User};
use crate::store::schema::{api_tokens, members, namespaces, user_identities, users};
use crate::store::{write_tx, DbConn};
use gemeinwerk_package::names::check_slug;

/// Amtlicher Regionalschlüssel: the 12-digit official key of a German
/// municipality or district.
fn check_ars(ars: &str) -> Result<()> {
    if ars.len() == 12 && ars.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(RegistryError::bad_request(
            "invalid_ars",
            format!("ARS \"{ars}\" is not an Amtlicher Regionalschlüssel: it must be 12 digits"),
        ))
    }
}

pub fn add_namespace(
    conn: &mut DbConn,
    origin: &Origin,
    slug: &str,
    display_name: &str,
    ars: Option<&str>,
) -> Result<Namespace> {
    check_slug(slug)
        .map_err(|e| RegistryError::bad_request("invalid_namespace", format!("namespace {e}")))?;
    super::text::check("display name", display_name, 200, false)?;
    if display_name.trim().is_empty() {
        return Err(RegistryError::bad_request(
            "invalid_display_name",
            "the namespace needs a display name",
        ));
    }
    if let Some(ars) = ars {
        check_ars(ars)?;
    }
    write_tx(conn, |conn| {
        if find_namespace(conn, slug).is_ok() {
            return Err(RegistryError::conflict(
                "namespace_exists",
                format!("namespace \"{slug}\" already exists"),
            ));
        }
        let namespace = diesel::insert_into(namespaces::table)
            .values((
                namespaces::slug.eq(slug),
                namespaces::display_name.eq(display_name.trim()),
                namespaces::ars.eq(ars),
                namespaces::created_at.eq(now()),
            ))
            .returning(namespaces::all_columns)
            .get_result::<Namespace>(conn)?;
        audit::record(
            conn,
            origin,
            AuditAction::NamespaceAdd,
            Some(slug),
            slug,
            serde_json::json!({ "name": display_name, "ars": ars }),
        )?;
        Ok(namespace)
    })
}

pub fn add_user(conn: &mut DbConn, origin: &Origin, login: &str) -> Result<User> {
    check_slug(login)
        .map_err(|e| RegistryError::bad_request("invalid_login", format!("login {e}")))?;
    write_tx(conn, |conn| {
        if find_user(conn, login).is_ok() {
            return Err(RegistryError::conflict(
                "user_exists",
                format!("user \"{login}\" already exists"),
            ));
        }
        insert_user(conn, origin, login, None, serde_json::json!({}))
    })
}

/// Writes a new user and its audit entry, in the caller's transaction.
pub(crate) fn insert_user(
    conn: &mut DbConn,
    origin: &Origin,
    login: &str,
    namespace: Option<&str>,
    details: serde_json::Value,
) -> Result<User> {
    let user = diesel::insert_into(users::table)
        .values((users::login.eq(login), users::created_at.eq(now())))
        .returning(users::all_columns)
        .get_result::<User>(conn)?;
    audit::record(
        conn,
        origin,
        AuditAction::UserAdd,
        namespace,
        login,
        details,
    )?;
    Ok(user)
}

/// What removing a user took away.
#[derive(Debug, Serialize)]
pub struct Removed {
    pub tokens: usize,
    pub sessions: usize,
    pub memberships: Vec<String>,
}

/// Removes a user, for the operator: every token revoked, every session
/// ended, every membership and provider identity gone, the user marked
/// removed. The row and its login stay: versions and the audit log name
/// it, and the login is not given to anyone else.
pub fn remove_user(conn: &mut DbConn, origin: &Origin, login: &str) -> Result<Removed> {
    let user = find_user(conn, login)?;
    if user.removed_at.is_some() {
        return Err(RegistryError::conflict(
            "user_removed",
            format!("user \"{login}\" was removed already"),
        ));
    }
    write_tx(conn, |conn| {
        let sessions = super::sessions::end_all_of_user(conn, user.id)?;
        let tokens = diesel::update(
            api_tokens::table
                .filter(api_tokens::user_id.eq(user.id))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(Some(now())))
        .execute(conn)?;
        let memberships: Vec<(String, String)> = members::table
            .inner_join(namespaces::table)
            .filter(members::user_id.eq(user.id))
            .select((namespaces::slug, members::role))
            .load(conn)?;
        diesel::delete(members::table.filter(members::user_id.eq(user.id))).execute(conn)?;
        for (slug, role) in &memberships {
            audit::record(
                conn,
                origin,
                AuditAction::MemberRemove,
                Some(slug),
                login,
                serde_json::json!({ "role": role, "source": "user_remove" }),
            )?;
        }
        diesel::delete(user_identities::table.filter(user_identities::user_id.eq(user.id)))
            .execute(conn)?;
        diesel::update(users::table.find(user.id))
            .set(users::removed_at.eq(Some(now())))
            .execute(conn)?;
        audit::record(
            conn,
            origin,
            AuditAction::UserRemove,
            None,
            login,
            serde_json::json!({ "tokens_revoked": tokens, "sessions_ended": sessions }),
        )?;
        Ok(Removed {
            tokens,
            sessions,
            memberships: memberships.into_iter().map(|(slug, _)| slug).collect(),
        })
    })
}

#[derive(Debug, Serialize)]
pub struct Member {
    pub login: String,
    pub role: String,
    pub since: chrono::NaiveDateTime,
}

/// Adds a member, or changes the role of an existing one: for an owner of
/// the namespace whose credential carries the `owners` scope.
pub fn set_member(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    login: &str,
    role: Role,
) -> Result<()> {
    let origin = require_owner(conn, cred, origin, namespace)?;
    set_member_as_operator(conn, &origin, namespace, login, role)
}

/// Removes a member: for an owner of the namespace whose credential
/// carries the `owners` scope.
pub fn remove_member(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    login: &str,
) -> Result<()> {
    let origin = require_owner(conn, cred, origin, namespace)?;
    remove_member_as_operator(conn, &origin, namespace, login)
}

/// Invites a person by login: as [`set_member`], and a login nobody has
/// yet becomes a user, who gets the membership at the first sign-in with
/// the identity provider (whose login claim gives that login).
pub fn invite_member(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    login: &str,
    role: Role,
) -> Result<()> {
    let origin = require_owner(conn, cred, origin, namespace)?;
    if let Err(RegistryError::UnknownUser(_)) = find_user(conn, login) {
        check_slug(login)
            .map_err(|e| RegistryError::bad_request("invalid_login", format!("login {e}")))?;
        write_tx(conn, |conn| {
            let details = serde_json::json!({ "invited_to": namespace });
            insert_user(conn, &origin, login, Some(namespace), details)
        })?;
    }
    set_member_as_operator(conn, &origin, namespace, login, role)
}

/// Ends every web session of a member at once (a lost laptop, a person
/// who leaves): for the namespace's owners. Answers how many ended.
pub fn end_member_sessions(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    login: &str,
) -> Result<usize> {
    let origin = require_owner(conn, cred, origin, namespace)?;
    let ns = find_namespace(conn, namespace)?;
    let user = find_user(conn, login)?;
    let member = members::table
        .find((ns.id, user.id))
        .count()
        .get_result::<i64>(conn)?;
    if member == 0 {
        return Err(RegistryError::UnknownMember {
            login: login.to_string(),
            namespace: namespace.to_string(),
        });
    }
    write_tx(conn, |conn| {
        let ended = super::sessions::end_all_of_user(conn, user.id)?;
        audit::record(
            conn,
            &origin,
            AuditAction::SessionsEnd,
            Some(namespace),
            login,
            serde_json::json!({ "sessions": ended }),
        )?;
        Ok(ended)
    })
}

/// The newest `limit` entries of a namespace's audit log: for its owners.
pub fn audit_log(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    limit: i64,
) -> Result<Vec<audit::AuditView>> {
    require_owner(conn, cred, origin, namespace)?;
    audit::list(conn, namespace, limit)
}

/// Adds a member, or changes the role of an existing one, with no
/// credential: for the operator (`gemeinwerk admin`) and the demo seed.
pub fn set_member_as_operator(
    conn: &mut DbConn,
    origin: &Origin,
    namespace: &str,
    login: &str,
    role: Role,
) -> Result<()> {
    write_tx(conn, |conn| {
        let ns = find_namespace(conn, namespace)?;
        let user = find_user(conn, login)?;
        if user.removed_at.is_some() {
            return Err(RegistryError::conflict(
                "user_removed",
                format!("user \"{login}\" was removed; a removed user gets no role"),
            ));
        }
        let current: Option<String> = members::table
            .find((ns.id, user.id))
            .select(members::role)
            .first(conn)
            .optional()?;
        match current {
            Some(r) if r == role.as_str() => return Ok(()),
            Some(r) => {
                if r == Role::Owner.as_str() {
                    ensure_another_owner(conn, &ns, user.id)?;
                }
                // Set by hand, it is no longer the group mapping's.
                diesel::update(members::table.find((ns.id, user.id)))
                    .set((
                        members::role.eq(role.as_str()),
                        members::granted_by.eq(None::<String>),
                    ))
                    .execute(conn)?;
            }
            None => {
                diesel::insert_into(members::table)
                    .values((
                        members::namespace_id.eq(ns.id),
                        members::user_id.eq(user.id),
                        members::role.eq(role.as_str()),
                        members::created_at.eq(now()),
                    ))
                    .execute(conn)?;
            }
        }
        audit::record(
            conn,
            origin,
            AuditAction::MemberAdd,
            Some(namespace),
            login,
            serde_json::json!({ "role": role.as_str() }),
        )?;
        Ok(())
    })
}

/// Removes a member with no credential: for the operator.
pub fn remove_member_as_operator(
    conn: &mut DbConn,
    origin: &Origin,
    namespace: &str,
    login: &str,
) -> Result<()> {
    write_tx(conn, |conn| {
        let ns = find_namespace(conn, namespace)?;
        let user = find_user(conn, login)?;
        let role: Option<String> = members::table
            .find((ns.id, user.id))
            .select(members::role)
            .first(conn)
            .optional()?;
        let Some(role) = role else {
            return Err(RegistryError::UnknownMember {
                login: login.to_string(),
                namespace: namespace.to_string(),
            });
        };
        if role == Role::Owner.as_str() {
            ensure_another_owner(conn, &ns, user.id)?;
        }
        diesel::delete(members::table.find((ns.id, user.id))).execute(conn)?;
        audit::record(
            conn,
            origin,
            AuditAction::MemberRemove,
            Some(namespace),
            login,
            serde_json::json!({}),
        )?;
        Ok(())
    })
}

/// A namespace must keep at least one owner, or nobody could manage it.
fn ensure_another_owner(conn: &mut DbConn, ns: &Namespace, leaving: i64) -> Result<()> {
    let others: i64 = members::table
        .filter(members::namespace_id.eq(ns.id))
        .filter(members::role.eq(Role::Owner.as_str()))
        .filter(members::user_id.ne(leaving))
        .count()
        .get_result(conn)?;
    if others == 0 {
        return Err(RegistryError::conflict(
            "last_owner",
            format!("namespace \"{}\" must keep at least one owner", ns.slug),
        ));
    }
    Ok(())
}

pub fn list_members(conn: &mut DbConn, namespace: &str) -> Result<Vec<Member>> {
    let ns = find_namespace(conn, namespace)?;
    let rows: Vec<(String, String, chrono::NaiveDateTime)> = members::table
        .inner_join(users::table)
        .filter(members::namespace_id.eq(ns.id))
        .order(users::login)
        .select((users::login, members::role, members::created_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(login, role, since)| Member { login, role, since })
        .collect())
}

/// The namespaces with these slugs: how pages show who publishes.
pub fn namespaces_by_slug(conn: &mut DbConn, slugs: &[String]) -> Result<Vec<Namespace>> {
    Ok(namespaces::table
        .filter(namespaces::slug.eq_any(slugs))
        .select(Namespace::as_select())
        .load(conn)?)
}

pub fn list_namespaces(conn: &mut DbConn) -> Result<Vec<Namespace>> {
    Ok(namespaces::table
        .order(namespaces::slug)
        .select(Namespace::as_select())
        .load(conn)?)
}

/// Authenticates the token and checks that its user owns `namespace` and
/// the token carries the `owners` scope. Returns the origin to audit with.
pub(crate) fn require_owner(
    conn: &mut DbConn,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
) -> Result<Origin> {
    let actor = super::auth::authenticate(conn, cred)?;
    let ns = find_namespace(conn, namespace)?;
    actor.authorize(conn, super::auth::Scope::Owners, &ns, true)?;
    Ok(Origin {
        actor: Some(actor.login),
        ..origin.clone()
    })
}

/// The namespaces a user is a member of: slug, display name and role.
pub fn memberships(conn: &mut DbConn, login: &str) -> Result<Vec<(String, String, String)>> {
    let user = find_user(conn, login)?;
    Ok(members::table
        .inner_join(namespaces::table)
        .filter(members::user_id.eq(user.id))
        .order(namespaces::slug)
        .select((namespaces::slug, namespaces::display_name, members::role))
        .load(conn)?)
}
