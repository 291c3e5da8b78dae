//! Advisories: a publisher marks versions of a package as affected by a
//! change in the law (`rechtsaenderung`), in fees (`gebuehren`), a security
//! problem (`sicherheit`) or a defect (`fehler`), with a German text, the
//! affected version range and the version that fixes it. Forks and
//! dependents, and portals checking their pins, ask which advisories
//! affect a version (`GET /api/v1/advisories?affects=ns/name@version`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, AuditAction, Origin};
use super::auth::{self, find_namespace, Credential, Scope};
use super::error::{RegistryError, Result};
use super::events::{self, Event};
use super::{index, Registry};
use crate::store::db::now;
use crate::store::schema::{advisories, namespaces, packages, users};
use crate::store::{write_tx, DbConn};
use gemeinwerk_package::names::split_full_name;

/// The kinds, as stored and with their German names.
pub const KINDS: [(&str, &str); 4] = [
    ("rechtsaenderung", "Rechtsänderung"),
    ("gebuehren", "Gebühren"),
    ("sicherheit", "Sicherheit"),
    ("fehler", "Fehler"),
];

pub const SEVERITIES: [(&str, &str); 4] = [
    ("niedrig", "niedrig"),
    ("mittel", "mittel"),
    ("hoch", "hoch"),
    ("kritisch", "kritisch"),
];

const MAX_TEXT_CHARS: usize = 2000;

/// What a publisher asks for.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvisoryRequest {
    pub kind: String,
    pub severity: String,
    /// German, for the people who maintain forks and portals.
    pub text: String,
    /// A semver range, e.g. `>=1.0.0, <1.2.0`.
    pub affected: String,
    /// The version that fixes it, if there is one.
    #[serde(default)]
    pub fixed: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdvisoryView {
    pub id: i64,
    pub package: String,
    pub kind: String,
    pub severity: String,
    pub text: String,
    pub affected: String,
    pub fixed: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

impl AdvisoryView {
    pub fn kind_de(&self) -> &'static str {
        KINDS
            .iter()
            .find(|(k, _)| *k == self.kind)
            .map_or("Hinweis", |(_, de)| de)
    }

    /// Whether it affects `version` (a version that does not parse is not
    /// affected: no published version fails to parse).
    pub fn affects(&self, version: &str) -> bool {
        match (
            semver::VersionReq::parse(&self.affected),
            semver::Version::parse(version),
        ) {
            (Ok(req), Ok(v)) => req.matches(&v),
            _ => false,
        }
    }
}

fn invalid(detail: impl Into<String>) -> RegistryError {
    RegistryError::bad_request("invalid_advisory", detail)
}

fn one_of(what: &str, value: &str, allowed: &[(&str, &str)]) -> Result<String> {
    allowed
        .iter()
        .find(|(k, _)| *k == value)
        .map(|(k, _)| k.to_string())
        .ok_or_else(|| {
            invalid(format!(
                "{what} \"{}\" is not known; use one of {}",
                value.escape_default(),
                allowed
                    .iter()
                    .map(|(k, _)| *k)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// Publishes an advisory for a package: for its namespace's members with
/// the `yank` scope (the same right as yanking). The range must affect a
/// published version; the fixed version must be published and outside it.
pub fn publish(
    reg: &Registry,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    name: &str,
    req: &AdvisoryRequest,
) -> Result<AdvisoryView> {
    let mut conn = reg.db.conn()?;
    let actor = auth::authenticate(&mut conn, cred)?;
    let ns = find_namespace(&mut conn, namespace)?;
    actor.authorize(&mut conn, Scope::Yank, &ns, false)?;
    let full_name = format!("{namespace}/{name}");
    let package = index::find_package(&mut conn, namespace, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(full_name.clone()))?;
    let kind = one_of("kind", &req.kind, &KINDS)?;
    let severity = one_of("severity", &req.severity, &SEVERITIES)?;
    let text = req.text.trim();
    super::text::check("advisory text", text, MAX_TEXT_CHARS, true)?;
    if text.is_empty() {
        return Err(invalid("the advisory needs a text"));
    }
    let range = semver::VersionReq::parse(req.affected.trim()).map_err(|e| {
        invalid(format!(
            "affected \"{}\" is not a version range ({e}); write e.g. \">=1.0.0, <1.2.0\"",
            req.affected.escape_default()
        ))
    })?;
    let published: Vec<semver::Version> = index::package_versions(&mut conn, package.id)?
        .iter()
        .filter_map(|v| semver::Version::parse(&v.num).ok())
        .collect();
    // What the versions published so far allow is a conflict with the
    // registry's state, not a malformed request.
    if !published.iter().any(|v| range.matches(v)) {
        return Err(RegistryError::conflict(
            "advisory_range_unpublished",
            format!("the range \"{range}\" affects no published version of {full_name}"),
        ));
    }
    let fixed = match req
        .fixed
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        None => None,
        Some(f) => {
            let v = semver::Version::parse(f).map_err(|e| {
                invalid(format!(
                    "fixed \"{}\" is not a version: {e}",
                    f.escape_default()
                ))
            })?;
            if !published.contains(&v) {
                return Err(RegistryError::conflict(
                    "advisory_fixed_unpublished",
                    format!("the fixed version {v} of {full_name} is not published"),
                ));
            }
            if range.matches(&v) {
                return Err(RegistryError::conflict(
                    "advisory_fixed_in_range",
                    format!("the fixed version {v} is inside the affected range \"{range}\""),
                ));
            }
            Some(v.to_string())
        }
    };
    let origin = Origin {
        actor: Some(actor.login.clone()),
        ..origin.clone()
    };
    let affected = range.to_string();
    let at = now();
    let id = write_tx(&mut conn, |conn| {
        let id: i64 = diesel::insert_into(advisories::table)
            .values((
                advisories::package_id.eq(package.id),
                advisories::kind.eq(&kind),
                advisories::severity.eq(&severity),
                advisories::text.eq(text),
                advisories::affected.eq(&affected),
                advisories::fixed.eq(&fixed),
                advisories::created_by.eq(actor.user_id),
                advisories::created_at.eq(at),
            ))
            .returning(advisories::id)
            .get_result(conn)?;
        audit::record(
            conn,
            &origin,
            AuditAction::Advisory,
            Some(namespace),
            &full_name,
            serde_json::json!({
                "advisory": id, "kind": kind, "severity": severity,
                "affected": affected, "fixed": fixed,
            }),
        )?;
        events::record(
            conn,
            Event::Advisory,
            &full_name,
            origin.actor.as_deref(),
            serde_json::json!({ "advisory": {
                "id": id, "kind": kind, "severity": severity, "text": text,
                "affected": affected, "fixed": fixed,
            }}),
        )?;
        Ok::<_, RegistryError>(id)
    })?;
    reg.views_may_change();
    Ok(AdvisoryView {
        id,
        package: full_name,
        kind,
        severity,
        text: text.to_string(),
        affected,
        fixed,
        created_by: actor.login,
        created_at: at,
    })
}

fn list(conn: &mut DbConn, package_id: Option<i64>) -> Result<Vec<AdvisoryView>> {
    let mut query = advisories::table
        .inner_join(packages::table.inner_join(namespaces::table))
        .inner_join(users::table)
        .order(advisories::id.desc())
        .select((
            advisories::id,
            namespaces::slug,
            packages::name,
            advisories::kind,
            advisories::severity,
            advisories::text,
            advisories::affected,
            advisories::fixed,
            users::login,
            advisories::created_at,
        ))
        .into_boxed();
    if let Some(id) = package_id {
        query = query.filter(advisories::package_id.eq(id));
    }
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        NaiveDateTime,
    );
    let rows: Vec<Row> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, ns, name, kind, severity, text, affected, fixed, created_by, created_at)| {
                AdvisoryView {
                    id,
                    package: format!("{ns}/{name}"),
                    kind,
                    severity,
                    text,
                    affected,
                    fixed,
                    created_by,
                    created_at,
                }
            },
        )
        .collect())
}

/// The advisories of a package, newest first.
pub fn of_package(reg: &Registry, namespace: &str, name: &str) -> Result<Vec<AdvisoryView>> {
    let mut conn = reg.db.conn()?;
    let package = index::find_package(&mut conn, namespace, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(format!("{namespace}/{name}")))?;
    list(&mut conn, Some(package.id))
}

/// The advisories that affect `ns/name@version`: what a portal asks about
/// each of its pins.
pub fn affecting(reg: &Registry, spec: &str) -> Result<Vec<AdvisoryView>> {
    let bad = |detail: String| RegistryError::bad_request("invalid_affects", detail);
    let (package, version) = spec.split_once('@').ok_or_else(|| {
        bad(format!(
            "affects \"{}\" must be ns/name@version",
            spec.escape_default()
        ))
    })?;
    let (ns, name) = split_full_name(package).map_err(|e| bad(format!("affects: {e}")))?;
    semver::Version::parse(version).map_err(|e| {
        bad(format!(
            "affects: \"{}\" is not a version: {e}",
            version.escape_default()
        ))
    })?;
    Ok(of_package(reg, &ns, &name)?
        .into_iter()
        .filter(|a| a.affects(version))
        .collect())
}
