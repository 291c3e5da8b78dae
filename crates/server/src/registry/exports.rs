//! A published version in the standard formats: the JSON Schema of a
//! form's submission data (FIT-Connect `submissionSchema`) and the form or
//! field group as an XDatenfelder 3.0.0 message.

use std::collections::BTreeMap;

use super::content::{load_version, newest_matching};
use super::error::{RegistryError, Result};
use super::{index, Registry};
use crate::store::models::Version;
use gemeinwerk_package::content::{Content, DependencyContent};
use gemeinwerk_package::interop::json_schema;
use gemeinwerk_package::interop::xdatenfelder::export as xdf;
use gemeinwerk_package::manifest::Manifest;

/// The JSON Schema of `ns/name@version`. Included field groups resolve to
/// the versions that publishing this version resolved to (the newest
/// matching one published before it and not yanked by then), so the
/// schema of a version never changes and may be cached for good.
pub fn schema_json(
    reg: &Registry,
    namespace: &str,
    name: &str,
    version: &str,
) -> Result<serde_json::Value> {
    let (manifest, content, deps, _) = version_with_deps(reg, namespace, name, version)?;
    json_schema::json_schema(&manifest, &content, &deps, &reg.config.base_url)
        .map_err(|e| RegistryError::conflict("not_a_form", e.to_string()))
}

/// `ns/name@version` as an XDatenfelder 3.0.0 message, its dependencies
/// resolved as for [`schema_json`] and created at the version's publish
/// time: the same bytes every time.
pub fn xdatenfelder_xml(
    reg: &Registry,
    namespace: &str,
    name: &str,
    version: &str,
) -> Result<String> {
    let (manifest, content, deps, published) = version_with_deps(reg, namespace, name, version)?;
    let exported = xdf::export(&manifest, &content, &deps, published.and_utc()).map_err(|e| {
        let code = match &e {
            xdf::ExportError::NotAForm { .. } => "not_a_form",
            _ => "dependency_unresolved",
        };
        RegistryError::conflict(code, e.to_string())
    })?;
    Ok(exported.xml)
}

/// A version, the content of its dependencies as publishing it resolved
/// them, and when it was published. (Each export refuses what it cannot
/// describe, in its own words.)
fn version_with_deps(
    reg: &Registry,
    namespace: &str,
    name: &str,
    version: &str,
) -> Result<(Manifest, Content, DependencyContent, chrono::NaiveDateTime)> {
    let full_name = format!("{namespace}/{name}");
    let mut conn = reg.db.conn()?;
    let package = index::find_package(&mut conn, namespace, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(full_name.clone()))?;
    let versions = index::package_versions(&mut conn, package.id)?;
    let this = versions.iter().find(|v| v.num == version).ok_or_else(|| {
        RegistryError::UnknownVersion {
            package: full_name.clone(),
            version: version.to_string(),
        }
    })?;
    let unreadable = |found: Vec<gemeinwerk_package::Diagnostic>| {
        RegistryError::conflict(
            "content_unreadable",
            format!(
                "{full_name}@{version} cannot be read as a package: {}",
                found.first().map(ToString::to_string).unwrap_or_default()
            ),
        )
    };
    let (manifest, content) = load_version(reg, &full_name, this)?.map_err(unreadable)?;
    // Version ids grow in publish order; timestamps may tie within a second.
    let (published_before, cutoff) = (this.id, this.created_at);
    let mut packages = BTreeMap::new();
    for dep in &manifest.dependencies {
        let Some(p) = index::find_package(&mut conn, &dep.namespace, &dep.name)? else {
            continue;
        };
        let then: Vec<Version> = index::package_versions(&mut conn, p.id)?
            .into_iter()
            .filter(|v| v.id < published_before)
            .map(|mut v| {
                if v.yanked_at.is_some_and(|y| y > cutoff) {
                    v.yanked_at = None;
                }
                v
            })
            .collect();
        if let Some(v) = newest_matching(&then, &dep.req) {
            if let Ok((_, c)) = load_version(reg, &dep.full_name(), v)? {
                packages.insert(dep.full_name(), c);
            }
        }
    }
    drop(conn);
    Ok((
        manifest,
        content,
        DependencyContent::resolved(packages),
        cutoff,
    ))
}
