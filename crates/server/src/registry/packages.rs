//! Reading packages: metadata for the API and the CLI, and downloads.

use diesel::prelude::*;
use serde::Serialize;

use super::downloads::Purpose;
use super::error::{RegistryError, Result};
use super::{index, Registry};
use crate::store::models::Package;
use crate::store::schema::{
    dependencies, dependent_namespaces, dependents, namespaces, packages, users, versions,
};
use crate::store::DbConn;

/// How much the registry holds, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub namespaces: i64,
    pub packages: i64,
    pub versions: i64,
}

pub fn totals(conn: &mut DbConn) -> Result<Totals> {
    Ok(Totals {
        namespaces: namespaces::table.count().get_result(conn)?,
        packages: packages::table.count().get_result(conn)?,
        versions: versions::table.count().get_result(conn)?,
    })
}

#[derive(Debug, Serialize)]
pub struct PackageView {
    pub name: String,
    pub namespace: String,
    pub kind: String,
    pub title: Option<String>,
    pub description: String,
    pub deprecated: Option<String>,
    /// Downloads for use since the package was published.
    pub downloads: i64,
    /// Downloads for use in the last 90 days (UTC days, today included).
    pub recent_downloads: i64,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
    /// Newest first.
    pub versions: Vec<VersionView>,
}

#[derive(Debug, Serialize)]
pub struct VersionView {
    pub num: String,
    pub cksum: String,
    pub size: i64,
    pub yanked: bool,
    pub yank_reason: Option<String>,
    pub forked_from: Option<String>,
    pub published_by: Option<String>,
    pub downloads: i64,
    pub created_at: chrono::NaiveDateTime,
    pub dependencies: Vec<DependencyView>,
}

#[derive(Debug, Serialize)]
pub struct DependencyView {
    pub name: String,
    pub req: String,
}

pub fn package_view(reg: &Registry, namespace: &str, name: &str) -> Result<PackageView> {
    let mut conn = reg.db.conn()?;
    let package = index::find_package(&mut conn, namespace, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(format!("{namespace}/{name}")))?;
    let rows = index::package_versions(&mut conn, package.id)?;
    let pending = reg.downloads.pending_for(package.id);
    let pending_total: i64 = pending.values().sum();
    let mut versions_out = Vec::with_capacity(rows.len());
    for v in rows.into_iter().rev() {
        let published_by = match v.published_by {
            Some(id) => users::table
                .find(id)
                .select(users::login)
                .first(&mut *conn)
                .optional()?,
            None => None,
        };
        let deps: Vec<(String, String)> = dependencies::table
            .filter(dependencies::version_id.eq(v.id))
            .order(dependencies::dep_name)
            .select((dependencies::dep_name, dependencies::req))
            .load(&mut *conn)?;
        versions_out.push(VersionView {
            num: v.num,
            cksum: v.cksum,
            size: v.size,
            yanked: v.yanked_at.is_some(),
            yank_reason: v.yank_reason,
            forked_from: v.forked_from,
            published_by,
            downloads: v.downloads + pending.get(&v.id).copied().unwrap_or(0),
            created_at: v.created_at,
            dependencies: deps
                .into_iter()
                .map(|(name, req)| DependencyView { name, req })
                .collect(),
        });
    }
    Ok(PackageView {
        name: format!("{namespace}/{name}"),
        namespace: namespace.to_string(),
        kind: package.kind,
        title: package.title,
        description: package.description,
        deprecated: package.deprecated,
        downloads: package.downloads + pending_total,
        recent_downloads: package.recent_downloads + pending_total,
        created_at: package.created_at,
        updated_at: package.updated_at,
        versions: versions_out,
    })
}

pub struct Download {
    pub bytes: Vec<u8>,
    pub cksum: String,
}

/// The archive of a version (yanked ones too) and its checksum. A
/// download for use is counted in memory (see [`super::downloads`]): it
/// takes no database lock.
pub fn download(
    reg: &Registry,
    namespace: &str,
    name: &str,
    version: &str,
    purpose: Purpose,
) -> Result<Download> {
    let mut conn = reg.db.conn()?;
    let full_name = format!("{namespace}/{name}");
    let package = index::find_package(&mut conn, namespace, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(full_name.clone()))?;
    let (version_id, cksum): (i64, String) = versions::table
        .filter(versions::package_id.eq(package.id))
        .filter(versions::num.eq(version))
        .select((versions::id, versions::cksum))
        .first(&mut *conn)
        .optional()?
        .ok_or_else(|| RegistryError::UnknownVersion {
            package: full_name.clone(),
            version: version.to_string(),
        })?;
    drop(conn);
    let bytes = reg
        .blobs
        .get(&cksum)?
        .ok_or_else(|| RegistryError::MissingBlob {
            version: format!("{full_name}@{version}"),
            cksum: cksum.clone(),
        })?;
    if purpose == Purpose::Use {
        reg.downloads.count(package.id, version_id);
    }
    Ok(Download { bytes, cksum })
}

/// One line in a list of packages.
#[derive(Debug, Clone, Serialize)]
pub struct PackageSummary {
    pub name: String,
    pub namespace: String,
    pub kind: String,
    pub title: Option<String>,
    pub description: String,
    pub deprecated: Option<String>,
    pub downloads: i64,
    /// Downloads of the last 90 days.
    pub recent_downloads: i64,
    pub updated_at: chrono::NaiveDateTime,
}

fn summaries(rows: Vec<(String, Package)>) -> Vec<PackageSummary> {
    rows.into_iter()
        .map(|(ns, p)| PackageSummary {
            name: format!("{ns}/{}", p.name),
            namespace: ns,
            kind: p.kind,
            title: p.title,
            description: p.description,
            deprecated: p.deprecated,
            downloads: p.downloads,
            recent_downloads: p.recent_downloads,
            updated_at: p.updated_at,
        })
        .collect()
}

/// Which order a list of packages comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Newest,
    MostDownloaded,
}

/// Packages with at least one version, newest or most downloaded (in the
/// last 90 days) first. Both orders walk an index and stop at `limit`.
pub fn list(reg: &Registry, order: Order, limit: i64) -> Result<Vec<PackageSummary>> {
    let mut conn = reg.db.conn()?;
    let published = versions::table
        .filter(versions::package_id.eq(packages::id))
        .select(versions::id);
    let query = packages::table
        .inner_join(namespaces::table)
        .filter(diesel::dsl::exists(published))
        .select((namespaces::slug, Package::as_select()))
        .limit(limit);
    let rows = match order {
        Order::Newest => query
            .order((packages::created_at.desc(), packages::id.desc()))
            .load(&mut *conn)?,
        Order::MostDownloaded => query
            .order((packages::recent_downloads.desc(), packages::id.desc()))
            .load(&mut *conn)?,
    };
    Ok(summaries(rows))
}

/// The packages of a namespace, by name.
pub fn in_namespace(reg: &Registry, namespace: &str) -> Result<Vec<PackageSummary>> {
    let mut conn = reg.db.conn()?;
    let rows = packages::table
        .inner_join(namespaces::table)
        .filter(namespaces::slug.eq(namespace))
        .order(packages::name)
        .select((namespaces::slug, Package::as_select()))
        .load(&mut *conn)?;
    Ok(summaries(rows))
}

/// How many dependents the package page names; the rest are counted.
pub const DEPENDENTS_SHOWN: i64 = 50;

/// Counted no further: the page says "more than" beyond it, so that a
/// package half the registry depends on costs a bounded read.
pub const DEPENDENTS_COUNTED: i64 = 1_000;

/// Who builds on a package, as its page shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependents {
    /// The first [`DEPENDENTS_SHOWN`] by name.
    pub shown: Vec<String>,
    /// All of them, up to [`DEPENDENTS_COUNTED`].
    pub count: i64,
    /// The namespaces they are in (at most one row per namespace).
    pub namespaces: Vec<String>,
}

impl Dependents {
    /// Whether [`Dependents::count`] stopped at its bound.
    pub fn count_capped(&self) -> bool {
        self.count >= DEPENDENTS_COUNTED
    }
}

/// The packages that depend on `full_name` in any of their versions, read
/// from what the publishes recorded (`record_dependents`): each part is a
/// range of a primary key, bounded whatever the number of dependents.
pub fn dependents(reg: &Registry, full_name: &str) -> Result<Dependents> {
    let mut conn = reg.db.conn()?;
    let shown = dependents::table
        .filter(dependents::dependency.eq(full_name))
        .order(dependents::dependent)
        .select(dependents::dependent)
        .limit(DEPENDENTS_SHOWN)
        .load(&mut *conn)?;
    let count = if (shown.len() as i64) < DEPENDENTS_SHOWN {
        shown.len() as i64
    } else {
        // Ordered like the slice above so that both walk the primary key,
        // whatever the planner's statistics say of this one package.
        dependents::table
            .filter(dependents::dependency.eq(full_name))
            .order(dependents::dependent)
            .select(dependents::dependent)
            .limit(DEPENDENTS_COUNTED)
            .load::<String>(&mut *conn)?
            .len() as i64
    };
    let namespaces = dependent_namespaces::table
        .filter(dependent_namespaces::dependency.eq(full_name))
        .order(dependent_namespaces::namespace)
        .select(dependent_namespaces::namespace)
        .load(&mut *conn)?;
    Ok(Dependents {
        shown,
        count,
        namespaces,
    })
}

/// Records, in the publish's transaction, that `dependent` (in
/// `namespace`) depends on each of `dependencies`; what was recorded
/// before stays as it is.
pub(crate) fn record_dependents(
    conn: &mut DbConn,
    dependent: &str,
    namespace: &str,
    dependencies: &[String],
) -> Result<()> {
    use diesel::sql_types::Text;
    const DEPENDENT: &str = "INSERT INTO dependents (dependency, dependent) VALUES ({1}, {2}) \
         ON CONFLICT DO NOTHING";
    const NAMESPACE: &str = "INSERT INTO dependent_namespaces (dependency, namespace) \
         VALUES ({1}, {2}) ON CONFLICT DO NOTHING";
    for dependency in dependencies {
        for (sql, value) in [(DEPENDENT, dependent), (NAMESPACE, namespace)] {
            let placeholders = |a: &str, b: &str| sql.replace("{1}", a).replace("{2}", b);
            match conn {
                DbConn::Postgres(c) => diesel::sql_query(placeholders("$1", "$2"))
                    .bind::<Text, _>(dependency)
                    .bind::<Text, _>(value)
                    .execute(c)?,
                DbConn::Sqlite(c) => diesel::sql_query(placeholders("?", "?"))
                    .bind::<Text, _>(dependency)
                    .bind::<Text, _>(value)
                    .execute(c)?,
            };
        }
    }
    Ok(())
}
