//! The index view of a package, computed from the database: what the sparse
//! index serves and what the git index job writes.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use registry_index::{IndexDependency, IndexLine, INDEX_FORMAT_VERSION};

use super::error::Result;
use crate::store::models::{Package, Version};
use crate::store::schema::{dependencies, namespaces, packages, versions};
use crate::store::DbConn;

/// The package row of `namespace/name`, if it exists.
pub fn find_package(conn: &mut DbConn, namespace: &str, name: &str) -> Result<Option<Package>> {
    if super::text::unmatchable(namespace) || super::text::unmatchable(name) {
        return Ok(None);
    }
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
    Ok(Some(package_lines(conn, namespace, &package)?))
}

/// The index lines of a package already read.
fn package_lines(conn: &mut DbConn, namespace: &str, package: &Package) -> Result<Vec<IndexLine>> {
    let versions = package_versions(conn, package.id)?;
    let mut deps = dependencies_of(conn, &versions)?;
    Ok(lines(
        namespace,
        &package.name,
        package,
        versions,
        &mut deps,
    ))
}

/// How many packages [`index_lines_many`] reads with one query: few enough
/// that PostgreSQL looks them up by index rather than reading the tables
/// whole (with 500 of 20,000 packages it chose the whole table).
const CHUNK: usize = 100;

/// Index lines by `ns/name`; `None` for a name without a package.
pub type LinesByName = BTreeMap<String, Option<Vec<IndexLine>>>;

/// The index lines of many packages, for the git index job's batch: three
/// queries per [`CHUNK`] packages instead of four per package. A name
/// without a package maps to `None`. Also returns the newest `updated_at`
/// of them (seconds), the time of the commit that writes them.
pub fn index_lines_many(conn: &mut DbConn, names: &[(&str, &str)]) -> Result<(LinesByName, i64)> {
    let mut out = BTreeMap::new();
    let mut newest = 0i64;
    for chunk in names.chunks(CHUNK) {
        let wanted: BTreeSet<(&str, &str)> = chunk
            .iter()
            .copied()
            .filter(|(ns, name)| !super::text::unmatchable(ns) && !super::text::unmatchable(name))
            .collect();
        let slugs: BTreeSet<&str> = wanted.iter().map(|(ns, _)| *ns).collect();
        let short: BTreeSet<&str> = wanted.iter().map(|(_, name)| *name).collect();
        // The namespaces first, so that the packages are found through
        // their (namespace_id, name) index; slugs and names apart, the
        // pairs are picked out below.
        let ns_ids: BTreeMap<i64, String> = namespaces::table
            .filter(namespaces::slug.eq_any(&slugs))
            .select((namespaces::id, namespaces::slug))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect();
        let found: Vec<Package> = match conn {
            // One lookup per pair, as for the versions below.
            DbConn::Postgres(pg) => {
                let by_slug: BTreeMap<&str, i64> = ns_ids
                    .iter()
                    .map(|(id, slug)| (slug.as_str(), *id))
                    .collect();
                let (pair_ns, pair_names): (Vec<i64>, Vec<&str>) = wanted
                    .iter()
                    .filter_map(|(ns, name)| Some((*by_slug.get(ns)?, *name)))
                    .unzip();
                diesel::sql_query(
                    "SELECT p.id, p.namespace_id, p.name, p.kind, p.title, p.description, \
                     p.deprecated, p.downloads, p.created_at, p.updated_at, p.forked_from, \
                     p.recent_downloads \
                     FROM unnest($1::bigint[], $2::text[]) AS k(ns, name) \
                     CROSS JOIN LATERAL (SELECT * FROM packages \
                     WHERE namespace_id = k.ns AND name = k.name OFFSET 0) p",
                )
                .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(&pair_ns)
                .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&pair_names)
                .load(pg)?
            }
            DbConn::Sqlite(_) => packages::table
                .filter(packages::namespace_id.eq_any(ns_ids.keys()))
                .filter(packages::name.eq_any(&short))
                .select(Package::as_select())
                .load(conn)?,
        };
        let found: Vec<(String, Package)> = found
            .into_iter()
            .filter_map(|p| Some((ns_ids.get(&p.namespace_id)?.clone(), p)))
            .filter(|(ns, p)| wanted.contains(&(ns.as_str(), p.name.as_str())))
            .collect();
        let ids: Vec<i64> = found.iter().map(|(_, p)| p.id).collect();
        let all_versions: Vec<Version> = match conn {
            // One index lookup per package, whatever the planner guesses:
            // without statistics it takes `package_id = ANY(…)` for half
            // the table and reads all of it. OFFSET 0 keeps the subquery
            // from being folded into a join it could plan as a scan.
            DbConn::Postgres(pg) => diesel::sql_query(
                "SELECT v.* FROM unnest($1::bigint[]) AS k(id) \
                 CROSS JOIN LATERAL (SELECT * FROM versions WHERE package_id = k.id OFFSET 0) v \
                 ORDER BY v.package_id, v.id",
            )
            .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(&ids)
            .load(pg)?,
            DbConn::Sqlite(_) => versions::table
                .filter(versions::package_id.eq_any(&ids))
                .order((versions::package_id, versions::id))
                .select(Version::as_select())
                .load(conn)?,
        };
        let mut deps = dependencies_of(conn, &all_versions)?;
        let mut by_package: BTreeMap<i64, Vec<Version>> = BTreeMap::new();
        for v in all_versions {
            by_package.entry(v.package_id).or_default().push(v);
        }
        for (ns, package) in &found {
            newest = newest.max(package.updated_at.and_utc().timestamp());
            let versions = by_package.remove(&package.id).unwrap_or_default();
            out.insert(
                format!("{ns}/{}", package.name),
                Some(lines(ns, &package.name, package, versions, &mut deps)),
            );
        }
        for (ns, name) in chunk {
            out.entry(format!("{ns}/{name}")).or_insert(None);
        }
    }
    Ok((out, newest))
}

/// The dependencies of `versions`, by version id, sorted by name.
fn dependencies_of(
    conn: &mut DbConn,
    versions: &[Version],
) -> Result<BTreeMap<i64, Vec<IndexDependency>>> {
    let mut by_version: BTreeMap<i64, Vec<IndexDependency>> = BTreeMap::new();
    let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
    // Bound the bind parameters of one statement (SQLite allows 32,766).
    for ids in ids.chunks(10_000) {
        let deps: Vec<(i64, String, String)> = dependencies::table
            .filter(dependencies::version_id.eq_any(ids))
            // In the index's order (names are sorted below): with a second
            // sort key PostgreSQL without statistics reads the whole table.
            .order(dependencies::version_id)
            .select((
                dependencies::version_id,
                dependencies::dep_name,
                dependencies::req,
            ))
            .load(conn)?;
        for (version_id, dep_name, req) in deps {
            by_version
                .entry(version_id)
                .or_default()
                .push(IndexDependency {
                    name: dep_name,
                    req,
                });
        }
    }
    for deps in by_version.values_mut() {
        deps.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(by_version)
}

fn lines(
    namespace: &str,
    name: &str,
    package: &Package,
    versions: Vec<Version>,
    deps: &mut BTreeMap<i64, Vec<IndexDependency>>,
) -> Vec<IndexLine> {
    let full_name = format!("{namespace}/{name}");
    versions
        .into_iter()
        .map(|v| IndexLine {
            name: full_name.clone(),
            vers: v.num,
            kind: package.kind.clone(),
            deps: deps.remove(&v.id).unwrap_or_default(),
            cksum: v.cksum,
            yanked: v.yanked_at.is_some(),
            forked_from: v.forked_from,
            v: INDEX_FORMAT_VERSION,
        })
        .collect()
}

/// Every package as `(namespace, name)`, sorted.
pub fn all_packages(conn: &mut DbConn) -> Result<Vec<(String, String)>> {
    Ok(packages::table
        .inner_join(namespaces::table)
        .order((namespaces::slug, packages::name))
        .select((namespaces::slug, packages::name))
        .load(conn)?)
}

/// A package's index file as served: the text and its strong ETag.
#[derive(Debug)]
pub struct IndexFile {
    pub body: String,
    pub etag: String,
    /// `packages.updated_at` when it was computed; every change of the
    /// package's versions moves it.
    stamp: chrono::NaiveDateTime,
}

/// Index files by `ns/name`, computed from the database once and dropped
/// when the package changes. On SQLite this process is the only writer, so
/// dropping the entry at commit is exact; on PostgreSQL other nodes write
/// too, and their changes arrive as notifications (`changes.rs`): while
/// the listener is connected that is exact as well, otherwise a hit is
/// checked against the package's `updated_at` first.
///
/// Bounded by bytes: a crawler reading every file of a million packages
/// would otherwise keep them all. The least recently read goes first.
pub struct IndexCache {
    files: std::sync::Mutex<CachedFiles>,
    /// Raised on every invalidation; a file computed while it moved may be
    /// stale and is not kept.
    generation: std::sync::atomic::AtomicU64,
    budget: usize,
}

struct CachedFiles {
    lru: lru::LruCache<String, std::sync::Arc<IndexFile>>,
    bytes: usize,
}

/// What an entry costs beyond its text: the key, the ETag, the map's and
/// the allocator's share.
const ENTRY_OVERHEAD: usize = 160;

/// The default budget: some 100,000 typical index files.
pub const INDEX_CACHE_BYTES: usize = 64 << 20;

impl Default for IndexCache {
    fn default() -> Self {
        IndexCache::with_budget(INDEX_CACHE_BYTES)
    }
}

impl IndexCache {
    pub fn with_budget(budget: usize) -> IndexCache {
        IndexCache {
            files: std::sync::Mutex::new(CachedFiles {
                lru: lru::LruCache::unbounded(),
                bytes: 0,
            }),
            generation: std::sync::atomic::AtomicU64::new(0),
            budget,
        }
    }

    fn files(&self) -> std::sync::MutexGuard<'_, CachedFiles> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn invalidate(&self, full_name: &str) {
        use std::sync::atomic::Ordering;
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut files = self.files();
        if let Some(file) = files.lru.pop(full_name) {
            files.bytes -= file.cost(full_name);
        }
    }

    /// Forgets every file: the changes made meanwhile are not known.
    pub fn clear(&self) {
        use std::sync::atomic::Ordering;
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut files = self.files();
        files.lru.clear();
        files.bytes = 0;
    }

    /// Files kept and the bytes they are counted at.
    pub fn size(&self) -> (usize, usize) {
        let files = self.files();
        (files.lru.len(), files.bytes)
    }

    /// A cached file that needs no database check: when `trusted` (see
    /// [`super::Registry::index_cache_trusted`]).
    pub fn fresh_without_db(
        &self,
        trusted: bool,
        full_name: &str,
    ) -> Option<std::sync::Arc<IndexFile>> {
        if !trusted {
            return None;
        }
        self.files().lru.get(full_name).cloned()
    }

    fn keep(&self, files: &mut CachedFiles, key: String, file: std::sync::Arc<IndexFile>) {
        let cost = file.cost(&key);
        if cost > self.budget {
            return;
        }
        if let Some(old) = files.lru.put(key.clone(), file) {
            files.bytes -= old.cost(&key);
        }
        files.bytes += cost;
        while files.bytes > self.budget {
            match files.lru.pop_lru() {
                Some((k, f)) => files.bytes -= f.cost(&k),
                None => break,
            }
        }
    }

    /// The index file of `namespace/name`, or `None` for an unknown
    /// package or one without versions.
    pub fn get(
        &self,
        db: &crate::store::Db,
        trusted: bool,
        namespace: &str,
        name: &str,
    ) -> Result<Option<std::sync::Arc<IndexFile>>> {
        use sha2::{Digest, Sha256};
        use std::sync::atomic::Ordering;
        let key = format!("{namespace}/{name}");
        let cached = self.files().lru.get(&key).cloned();
        if cached.is_some() && trusted {
            return Ok(cached);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let mut conn = db.conn()?;
        let Some(package) = find_package(&mut conn, namespace, name)? else {
            return Ok(None);
        };
        if let Some(file) = cached {
            if file.stamp == package.updated_at {
                return Ok(Some(file));
            }
        }
        let lines = package_lines(&mut conn, namespace, &package)?;
        drop(conn);
        if lines.is_empty() {
            return Ok(None);
        }
        let body = registry_index::serialize_lines(&lines);
        let etag = format!(
            "\"{}\"",
            &hex::encode(Sha256::digest(body.as_bytes()))[..40]
        );
        let file = std::sync::Arc::new(IndexFile {
            body,
            etag,
            stamp: package.updated_at,
        });
        // Checked under the lock that an invalidation takes too.
        let mut files = self.files();
        if self.generation.load(Ordering::SeqCst) == generation {
            self.keep(&mut files, key, file.clone());
        }
        Ok(Some(file))
    }
}

impl IndexFile {
    fn cost(&self, key: &str) -> usize {
        self.body.len() + key.len() + ENTRY_OVERHEAD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(len: usize) -> std::sync::Arc<IndexFile> {
        std::sync::Arc::new(IndexFile {
            body: "x".repeat(len),
            etag: String::new(),
            stamp: chrono::NaiveDateTime::default(),
        })
    }

    fn keep(cache: &IndexCache, key: &str, len: usize) {
        let mut files = cache.files();
        cache.keep(&mut files, key.to_string(), file(len));
    }

    #[test]
    fn the_index_cache_keeps_to_its_budget_and_drops_the_least_recently_read() {
        // Room for three files of 1,000 bytes (with their overhead).
        let cache = IndexCache::with_budget(3 * (1_000 + 3 + ENTRY_OVERHEAD));
        keep(&cache, "a/a", 1_000);
        keep(&cache, "b/b", 1_000);
        keep(&cache, "c/c", 1_000);
        assert_eq!(cache.size().0, 3);
        // Reading a/a makes b/b the least recently read.
        assert!(cache.fresh_without_db(true, "a/a").is_some());
        keep(&cache, "d/d", 1_000);
        assert!(cache.fresh_without_db(true, "b/b").is_none());
        for kept in ["a/a", "c/c", "d/d"] {
            assert!(cache.fresh_without_db(true, kept).is_some(), "{kept}");
        }
        assert_eq!(cache.size(), (3, 3 * (1_000 + 3 + ENTRY_OVERHEAD)));
        // A file replaced or dropped gives its bytes back.
        keep(&cache, "a/a", 10);
        cache.invalidate("c/c");
        assert_eq!(cache.size(), (2, 10 + 1_000 + 2 * (3 + ENTRY_OVERHEAD)));
        // A file larger than the whole budget is served but not kept.
        keep(&cache, "e/e", 10_000);
        assert!(cache.fresh_without_db(true, "e/e").is_none());
        cache.clear();
        assert_eq!(cache.size(), (0, 0));
    }
}
