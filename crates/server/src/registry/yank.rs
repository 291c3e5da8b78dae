//! Yank, unyank and deprecate: marks for users, never deletions. A yanked
//! version stays downloadable, so that pinned builds keep working.

use diesel::prelude::*;

use super::audit::{self, AuditAction, Origin};
use super::auth::{self, find_namespace, Credential, Scope};
use super::error::{RegistryError, Result};
use super::events::{self, Event};
use super::jobs::Job;
use super::{index, jobs, Registry};
use crate::store::db::now;
use crate::store::models::{Package, Version};
use crate::store::schema::{packages, versions};
use crate::store::{write_tx, DbConn};

const MAX_REASON_CHARS: usize = 500;

fn check_text(what: &str, text: Option<&str>) -> Result<Option<String>> {
    if let Some(t) = text {
        super::text::check(what, t, MAX_REASON_CHARS, true)?;
    }
    match text.map(str::trim) {
        Some(t) if t.chars().count() > MAX_REASON_CHARS => Err(RegistryError::bad_request(
            "text_too_long",
            format!("the {what} has more than {MAX_REASON_CHARS} characters"),
        )),
        Some("") | None => Ok(None),
        Some(t) => Ok(Some(t.to_string())),
    }
}

/// Authenticates, authorizes for `scope` in the package's namespace and
/// returns the package.
fn authorized_package(
    conn: &mut DbConn,
    cred: Credential<'_>,
    scope: Scope,
    namespace: &str,
    name: &str,
) -> Result<(auth::Actor, Package)> {
    let actor = auth::authenticate(conn, cred)?;
    let ns = find_namespace(conn, namespace)?;
    actor.authorize(conn, scope, &ns, false)?;
    let package = index::find_package(conn, namespace, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(format!("{namespace}/{name}")))?;
    Ok((actor, package))
}

fn find_version(
    conn: &mut DbConn,
    package: &Package,
    full_name: &str,
    version: &str,
) -> Result<Version> {
    versions::table
        .filter(versions::package_id.eq(package.id))
        .filter(versions::num.eq(version))
        .select(Version::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| RegistryError::UnknownVersion {
            package: full_name.to_string(),
            version: version.to_string(),
        })
}

/// Yanks (`yank = true`) or unyanks a version. Doing it twice is harmless.
#[allow(clippy::too_many_arguments)]
pub fn set_yanked(
    reg: &Registry,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    name: &str,
    version: &str,
    yank: bool,
    reason: Option<&str>,
) -> Result<()> {
    let reason = check_text("yank reason", reason)?;
    let mut conn = reg.db.conn()?;
    let (actor, package) = authorized_package(&mut conn, cred, Scope::Yank, namespace, name)?;
    let full_name = format!("{namespace}/{name}");
    let origin = Origin {
        actor: Some(actor.login),
        ..origin.clone()
    };
    write_tx(&mut conn, |conn| {
        let v = find_version(conn, &package, &full_name, version)?;
        let (yanked_at, reason) = if yank {
            (Some(now()), reason.clone())
        } else {
            (None, None)
        };
        diesel::update(versions::table.find(v.id))
            .set((
                versions::yanked_at.eq(yanked_at),
                versions::yank_reason.eq(&reason),
            ))
            .execute(conn)?;
        diesel::update(packages::table.find(package.id))
            .set(packages::updated_at.eq(now()))
            .execute(conn)?;
        audit::record(
            conn,
            &origin,
            if yank {
                AuditAction::Yank
            } else {
                AuditAction::Unyank
            },
            Some(namespace),
            &format!("{full_name}@{version}"),
            serde_json::json!({ "reason": reason }),
        )?;
        events::record(
            conn,
            Event::Yanked,
            &full_name,
            origin.actor.as_deref(),
            serde_json::json!({ "version": v.num, "yanked": yank, "reason": reason }),
        )?;
        jobs::enqueue(conn, Job::SyncIndex, &full_name)
    })?;
    reg.package_changed(&full_name);
    Ok(())
}

/// Marks a package deprecated with a message for its users (`Some`), or
/// lifts the mark (`None`). Resolution is not affected.
pub fn set_deprecated(
    reg: &Registry,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    name: &str,
    message: Option<&str>,
) -> Result<()> {
    let message = check_text("deprecation message", message)?;
    let mut conn = reg.db.conn()?;
    let (actor, package) = authorized_package(&mut conn, cred, Scope::Yank, namespace, name)?;
    let origin = Origin {
        actor: Some(actor.login),
        ..origin.clone()
    };
    write_tx(&mut conn, |conn| {
        diesel::update(packages::table.find(package.id))
            .set((
                packages::deprecated.eq(&message),
                packages::updated_at.eq(now()),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &origin,
            if message.is_some() {
                AuditAction::Deprecate
            } else {
                AuditAction::Undeprecate
            },
            Some(namespace),
            &format!("{namespace}/{name}"),
            serde_json::json!({ "message": message }),
        )?;
        events::record(
            conn,
            Event::Deprecated,
            &format!("{namespace}/{name}"),
            origin.actor.as_deref(),
            serde_json::json!({ "deprecated": message.is_some(), "message": message }),
        )
    })?;
    reg.package_changed(&format!("{namespace}/{name}"));
    Ok(())
}
