//! The comparison page: the semantic diff between any two published
//! versions, of one package or of a fork and its upstream.

use actix_web::{get, web, HttpRequest};
use askama::Template;
use serde::Deserialize;

use super::{block, ok, Chrome, WebResult};
use crate::http::Reg;
use crate::registry::{content, index, Registry, RegistryError};
use gemeinwerk_package::diff::{self, german, Level};
use gemeinwerk_package::names::split_full_name;

pub struct ChangeRow {
    pub level: &'static str,
    pub level_class: &'static str,
    pub area: String,
    pub path: String,
    pub what: String,
    pub old: String,
    pub new: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "diff.html")]
struct DiffPage {
    chrome: Chrome,
    from: String,
    to: String,
    level: String,
    changes: Vec<ChangeRow>,
    from_versions: Vec<String>,
    to_versions: Vec<String>,
    from_package: String,
    to_package: String,
    from_version: String,
    to_version: String,
    /// How the two packages relate, for the heading: a fork and its
    /// upstream, two versions of one package, or two packages.
    relation: &'static str,
}

/// The CSS class of a level's badge.
fn level_class(level: Level) -> &'static str {
    match level {
        Level::Major => "stufe-major",
        Level::Minor => "stufe-minor",
        Level::Patch => "stufe-patch",
    }
}

/// `ns/name@version` → the package and the version.
fn side(spec: &str) -> Result<(String, String, String), RegistryError> {
    let (package, version) = spec.split_once('@').ok_or_else(|| {
        RegistryError::bad_request(
            "bad_version_ref",
            format!("\"{spec}\" is not of the form ns/name@version"),
        )
    })?;
    let (ns, name) = split_full_name(package)
        .map_err(|e| RegistryError::bad_request("bad_version_ref", e.to_string()))?;
    Ok((ns, name, version.to_string()))
}

fn versions_of(reg: &Registry, ns: &str, name: &str) -> Result<Vec<String>, RegistryError> {
    let mut conn = reg.db.conn()?;
    let package = index::find_package(&mut conn, ns, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(format!("{ns}/{name}")))?;
    let mut v: Vec<String> = index::package_versions(&mut conn, package.id)?
        .into_iter()
        .map(|v| v.num)
        .collect();
    v.reverse();
    Ok(v)
}

fn load_side(
    reg: &Registry,
    spec: &str,
) -> Result<
    (
        gemeinwerk_package::Manifest,
        gemeinwerk_package::content::Content,
    ),
    RegistryError,
> {
    let (ns, name, num) = side(spec)?;
    let full_name = format!("{ns}/{name}");
    let mut conn = reg.db.conn()?;
    let package = index::find_package(&mut conn, &ns, &name)?
        .ok_or_else(|| RegistryError::UnknownPackage(full_name.clone()))?;
    let versions = index::package_versions(&mut conn, package.id)?;
    drop(conn);
    let version =
        versions
            .iter()
            .find(|v| v.num == num)
            .ok_or_else(|| RegistryError::UnknownVersion {
                package: full_name.clone(),
                version: num.clone(),
            })?;
    content::load_version(reg, &full_name, version)?.map_err(|_| {
        RegistryError::conflict(
            "content_unreadable",
            format!("{full_name}@{num} cannot be read as a package"),
        )
    })
}

#[derive(Deserialize)]
pub(super) struct DiffQuery {
    von: Option<String>,
    zu: Option<String>,
    /// The select boxes send package and version apart.
    von_paket: Option<String>,
    von_version: Option<String>,
    zu_paket: Option<String>,
    zu_version: Option<String>,
}

#[get("/vergleich")]
pub(super) async fn page(reg: Reg, req: HttpRequest, query: web::Query<DiffQuery>) -> WebResult {
    let q = query.into_inner();
    let join = |p: Option<String>, v: Option<String>| p.zip(v).map(|(p, v)| format!("{p}@{v}"));
    let from = q
        .von
        .or_else(|| join(q.von_paket, q.von_version))
        .unwrap_or_default();
    let to =
        q.zu.or_else(|| join(q.zu_paket, q.zu_version))
            .unwrap_or_default();
    let chrome = Chrome::of(&req);
    let (f, t) = (from.clone(), to.clone());
    let page = block(&req, move || {
        let (from_ns, from_name, from_version) = side(&f)?;
        let (to_ns, to_name, to_version) = side(&t)?;
        let (old_m, old) = load_side(&reg, &f)?;
        let (new_m, new) = load_side(&reg, &t)?;
        let mut d = diff::diff(&old_m, &old, &new_m, &new);
        let from_package = format!("{from_ns}/{from_name}");
        let to_package = format!("{to_ns}/{to_name}");
        let forked = |m: &gemeinwerk_package::Manifest, other: &str| {
            m.forked_from
                .as_ref()
                .is_some_and(|f| format!("{}/{}", f.namespace, f.name) == other)
        };
        let relation = if from_package == to_package {
            "versions"
        } else if forked(&new_m, &from_package) {
            "fork"
        } else if forked(&old_m, &to_package) {
            "upstream"
        } else {
            "packages"
        };
        if from_package != to_package {
            // Two packages differ in name by definition, and a fork names
            // its upstream: neither is a change the fork made, and the
            // name alone must not make the comparison "breaking".
            d.changes.retain(|c| {
                !(c.area == diff::Area::Manifest
                    && matches!(c.property.as_deref(), Some("name" | "forked-from")))
            });
        }
        let level = d
            .level()
            .map(|l| german::level(l).to_string())
            .unwrap_or_else(|| "keine Änderungen".into());
        let changes = d
            .changes
            .iter()
            .map(|c| ChangeRow {
                level: german::level(c.level),
                level_class: level_class(c.level),
                area: german::area(c.area).to_string(),
                path: german::path(c),
                what: german::what(c),
                old: c.old.clone().unwrap_or_default(),
                new: c.new.clone().unwrap_or_default(),
                reason: german::reason_of(c),
            })
            .collect();
        Ok(DiffPage {
            chrome: Chrome::default(),
            from_versions: versions_of(&reg, &from_ns, &from_name)?,
            to_versions: versions_of(&reg, &to_ns, &to_name)?,
            from_package,
            to_package,
            relation,
            from_version,
            to_version,
            from: f,
            to: t,
            level,
            changes,
        })
    })
    .await?;
    Ok(ok(&DiffPage { chrome, ..page }))
}
