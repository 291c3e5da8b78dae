//! Forks: registering one (the name is reserved in the target namespace
//! from then on) and the fork network of a package — where it came from and
//! who builds on it, each with how far it is behind its upstream.

use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, AuditAction, Origin};
use super::auth::{self, find_namespace, Credential};
use super::error::{RegistryError, Result};
use super::events::{self, Event};
use super::{index, Registry};
use crate::store::db::now;
use crate::store::models::{Package, Version};
use crate::store::schema::{namespaces, packages};
use crate::store::{write_tx, DbConn};
use gemeinwerk_package::names::split_full_name;

#[derive(Debug, Serialize)]
pub struct ForkRegistered {
    pub upstream: String,
    pub version: String,
    pub cksum: String,
    pub target: String,
    pub warnings: Vec<String>,
}

/// Records that `target` is a fork of `namespace/name@version` (the newest
/// non-yanked version when none is named).
pub fn register(
    reg: &Registry,
    cred: Credential<'_>,
    origin: &Origin,
    namespace: &str,
    name: &str,
    version: Option<&str>,
    target: &str,
) -> Result<ForkRegistered> {
    let mut conn = reg.db.conn()?;
    let actor = auth::authenticate(&mut conn, cred)?;
    let (target_ns, target_name) = split_full_name(target)
        .map_err(|e| RegistryError::bad_request("invalid_target", format!("fork target {e}")))?;
    let target_namespace = find_namespace(&mut conn, &target_ns)?;
    actor.authorize_publish(&mut conn, &target_namespace, &target_name)?;

    let upstream_name = format!("{namespace}/{name}");
    let upstream = index::find_package(&mut conn, namespace, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(upstream_name.clone()))?;
    let versions = index::package_versions(&mut conn, upstream.id)?;
    let base =
        match version {
            Some(v) => versions.iter().find(|x| x.num == v).ok_or_else(|| {
                RegistryError::UnknownVersion {
                    package: upstream_name.clone(),
                    version: v.to_string(),
                }
            })?,
            None => newest(&versions, false)
                .or_else(|| newest(&versions, true))
                .ok_or_else(|| {
                    RegistryError::conflict(
                        "no_versions",
                        format!("{upstream_name} has no published version to fork"),
                    )
                })?,
        };
    let mut warnings = Vec::new();
    if base.yanked_at.is_some() {
        warnings.push(format!(
            "{upstream_name}@{} is yanked{}; the fork starts from it all the same",
            base.num,
            base.yank_reason
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ));
    }
    let base_ref = format!("{upstream_name}@{}", base.num);
    let origin = Origin {
        actor: Some(actor.login.clone()),
        ..origin.clone()
    };
    write_tx(&mut conn, |conn| {
        if index::find_package(conn, &target_ns, &target_name)?.is_some() {
            return Err(RegistryError::conflict(
                "package_exists",
                format!("{target} already exists; choose another name for the fork"),
            ));
        }
        let at = now();
        diesel::insert_into(packages::table)
            .values((
                packages::namespace_id.eq(target_namespace.id),
                packages::name.eq(&target_name),
                packages::kind.eq(&upstream.kind),
                packages::title.eq(&upstream.title),
                packages::description.eq(&upstream.description),
                packages::downloads.eq(0i64),
                packages::created_at.eq(at),
                packages::updated_at.eq(at),
                packages::forked_from.eq(Some(&base_ref)),
                packages::upstream.eq(Some(upstream_of(&base_ref))),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            &origin,
            AuditAction::Fork,
            Some(&target_ns),
            target,
            serde_json::json!({ "upstream": base_ref }),
        )?;
        events::record(
            conn,
            Event::Forked,
            &upstream_name,
            origin.actor.as_deref(),
            serde_json::json!({ "fork": target, "base": base_ref }),
        )
    })?;
    // The fork is findable, and the upstream's fork count moved.
    reg.package_changed(target);
    Ok(ForkRegistered {
        upstream: upstream_name,
        version: base.num.clone(),
        cksum: base.cksum.clone(),
        target: target.to_string(),
        warnings,
    })
}

fn newest(versions: &[Version], include_yanked: bool) -> Option<&Version> {
    versions
        .iter()
        .filter(|v| include_yanked || v.yanked_at.is_none())
        .filter_map(|v| semver::Version::parse(&v.num).ok().map(|s| (s, v)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v)
}

#[derive(Debug, Serialize)]
pub struct NetworkEntry {
    pub package: String,
    /// The upstream version this one builds on.
    pub base: Option<String>,
    /// Non-yanked upstream releases newer than the base.
    pub behind: usize,
    /// How many steps from the package asked about (upstream: 1 is the
    /// direct upstream; forks: 1 is a direct fork).
    pub depth: usize,
}

#[derive(Debug, Serialize)]
pub struct ForkNetwork {
    pub package: String,
    pub base: Option<String>,
    pub behind: usize,
    /// Nearest first.
    pub upstream: Vec<NetworkEntry>,
    /// Depth first: each fork followed by its own forks.
    pub forks: Vec<NetworkEntry>,
}

/// How many non-yanked releases of the base's package are newer than it.
fn behind(conn: &mut DbConn, base: &str) -> Result<usize> {
    let Some((package, version)) = base.split_once('@') else {
        return Ok(0);
    };
    let Some((ns, name)) = package.split_once('/') else {
        return Ok(0);
    };
    let Ok(base_version) = semver::Version::parse(version) else {
        return Ok(0);
    };
    let Some(p) = index::find_package(conn, ns, name)? else {
        return Ok(0);
    };
    Ok(index::package_versions(conn, p.id)?
        .iter()
        .filter(|v| v.yanked_at.is_none())
        .filter_map(|v| semver::Version::parse(&v.num).ok())
        .filter(|v| v.pre.is_empty() && *v > base_version)
        .count())
}

/// `ns/name` of a `forked_from` reference `ns/name@version`.
pub(crate) fn upstream_of(forked_from: &str) -> &str {
    forked_from.split_once('@').map_or(forked_from, |(p, _)| p)
}

fn forks_of(conn: &mut DbConn, full_name: &str) -> Result<Vec<(String, Package)>> {
    Ok(packages::table
        .inner_join(namespaces::table)
        .filter(packages::upstream.eq(full_name))
        .order((namespaces::slug, packages::name))
        .select((namespaces::slug, Package::as_select()))
        .load(conn)?)
}

fn collect_forks(
    conn: &mut DbConn,
    of: &str,
    depth: usize,
    out: &mut Vec<NetworkEntry>,
) -> Result<()> {
    if depth > 32 {
        return Ok(());
    }
    for (ns, child) in forks_of(conn, of)? {
        let child_name = format!("{ns}/{}", child.name);
        let child_behind = child
            .forked_from
            .as_deref()
            .map(|b| behind(conn, b))
            .transpose()?
            .unwrap_or(0);
        out.push(NetworkEntry {
            package: child_name.clone(),
            base: child.forked_from,
            behind: child_behind,
            depth,
        });
        collect_forks(conn, &child_name, depth + 1, out)?;
    }
    Ok(())
}

pub fn network(reg: &Registry, namespace: &str, name: &str) -> Result<ForkNetwork> {
    let mut conn = reg.db.conn()?;
    let full_name = format!("{namespace}/{name}");
    let package = index::find_package(&mut conn, namespace, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(full_name.clone()))?;

    let mut upstream = Vec::new();
    let mut next = package.forked_from.clone();
    while let Some(base) = next.take() {
        let Some((up_name, _)) = base.split_once('@') else {
            break;
        };
        let Some((ns, n)) = up_name.split_once('/') else {
            break;
        };
        let up = index::find_package(&mut conn, ns, n)?;
        let (up_base, up_behind) = match &up {
            Some(p) => (
                p.forked_from.clone(),
                p.forked_from
                    .as_deref()
                    .map(|b| behind(&mut conn, b))
                    .transpose()?
                    .unwrap_or(0),
            ),
            None => (None, 0),
        };
        upstream.push(NetworkEntry {
            package: up_name.to_string(),
            base: up_base.clone(),
            behind: up_behind,
            depth: upstream.len() + 1,
        });
        if upstream.len() > 32 || up.is_none() {
            break;
        }
        next = up_base;
    }

    let mut forks = Vec::new();
    collect_forks(&mut conn, &full_name, 1, &mut forks)?;
    let this_behind = package
        .forked_from
        .as_deref()
        .map(|b| behind(&mut conn, b))
        .transpose()?
        .unwrap_or(0);
    Ok(ForkNetwork {
        package: full_name,
        base: package.forked_from,
        behind: this_behind,
        upstream,
        forks,
    })
}
