//! The index view of a package, computed from the database: what the sparse
//! index serves and what the git index job writes.

use std::collections::BTreeMap;

use diesel::prelude::*;
use registry_index::{IndexDependency, IndexLine, INDEX_FORMAT_VERSION};

use super::error::Result;
use crate::store::models::{Package, Version};
use crate::store::schema::{dependencies, namespaces, packages, versions};
use crate::store::DbConn;

/// The package row of `namespace/name`, if it exists.
pub fn find_package(conn: &mut DbConn, namespace: &str, name: &str) -> Result<Option<Package>> {
    Ok(packages::table
        .inner_join(namespaces::table)
        .filter(namespaces::slug.eq(namespace))
        .filter(packages::name.eq(name))
        .select(Package::as_select())
        .first(conn)
        .optional()?)
}

/// The versions of a package in publish order.
pub fn package_versions(conn: &mut DbConn, package_id: i64) -> Result<Vec<Version>> {
    Ok(versions::table
        .filter(versions::package_id.eq(package_id))
        .order(versions::id)
        .select(Version::as_select())
        .load(conn)?)
}

/// The index lines of a package, or `None` if there is no such package.
pub fn index_lines(
    conn: &mut DbConn,
    namespace: &str,
    name: &str,
) -> Result<Option<Vec<IndexLine>>> {
    let Some(package) = find_package(conn, namespace, name)? else {
        return Ok(None);
    };
    let versions = package_versions(conn, package.id)?;
    let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    let deps: Vec<(i64, String, String)> = dependencies::table
        .filter(dependencies::version_id.eq_any(&ids))
        .order((dependencies::version_id, dependencies::dep_name))
        .select((
            dependencies::version_id,
            dependencies::dep_name,
            dependencies::req,
        ))
        .load(conn)?;
    let mut by_version: BTreeMap<i64, Vec<IndexDependency>> = BTreeMap::new();
    for (version_id, dep_name, req) in deps {
        by_version
            .entry(version_id)
            .or_default()
            .push(IndexDependency {
                name: dep_name,
                req,
            });
    }
    let full_name = format!("{namespace}/{name}");
    Ok(Some(
        versions
            .into_iter()
            .map(|v| IndexLine {
                name: full_name.clone(),
                vers: v.num,
                kind: package.kind.clone(),
                deps: by_version.remove(&v.id).unwrap_or_default(),
                cksum: v.cksum,
                yanked: v.yanked_at.is_some(),
                forked_from: v.forked_from,
                v: INDEX_FORMAT_VERSION,
            })
            .collect(),
    ))
}

/// Every package as `(namespace, name)`, sorted.
pub fn all_packages(conn: &mut DbConn) -> Result<Vec<(String, String)>> {
    Ok(packages::table
        .inner_join(namespaces::table)
        .order((namespaces::slug, packages::name))
        .select((namespaces::slug, packages::name))
        .load(conn)?)
}
