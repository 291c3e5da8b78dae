//! A published version in the standard formats: the JSON Schema of a
//! form's submission data (FIT-Connect `submissionSchema`).

use std::collections::BTreeMap;

use super::content::{load_version, newest_matching};
use super::error::{RegistryError, Result};
use super::{index, Registry};
use crate::store::models::Version;
use gemeinwerk_package::content::DependencyContent;
use gemeinwerk_package::interop::json_schema::{self, ExportError};

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
    if !matches!(
        manifest.kind,
        gemeinwerk_package::PackageKind::Form | gemeinwerk_package::PackageKind::Fieldgroup
    ) {
        return Err(RegistryError::conflict(
            "not_a_form",
            ExportError::NotAForm {
                name: full_name,
                kind: manifest.kind.as_str().into(),
            }
            .to_string(),
        ));
    }
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
    let deps = DependencyContent::resolved(packages);
    json_schema::json_schema(&manifest, &content, &deps, &reg.config.base_url)
        .map_err(|e| RegistryError::conflict("not_a_form", e.to_string()))
}
