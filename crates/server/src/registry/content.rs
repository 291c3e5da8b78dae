//! Package content as the registry knows it: the manifest and content of a
//! published version (read from its archive in the blob store), the
//! dependencies of a new version resolved to the content of their newest
//! matching versions, the version a new one is semver-checked against, and
//! the semantic diff between two published versions.

use std::collections::BTreeMap;

use serde::Serialize;

use super::error::{RegistryError, Result};
use super::{index, Registry};
use crate::store::models::Version;
use crate::store::DbConn;
use gemeinwerk_package::content::{read_content, Content, DependencyContent};
use gemeinwerk_package::diff::{self, Change, Level};
use gemeinwerk_package::manifest::MANIFEST_FILE;
use gemeinwerk_package::{archive, Diagnostic, Manifest, PackageFiles};

/// The manifest and content of a published version, from its archive.
/// The outer error is the registry's (a missing or broken blob); the inner
/// one says that the archive's files cannot be read as a package.
pub fn load_version(
    reg: &Registry,
    full_name: &str,
    version: &Version,
) -> Result<Result<(Manifest, Content), Vec<Diagnostic>>> {
    type Parsed = std::result::Result<(Manifest, Content), Vec<Diagnostic>>;
    static PARSED: std::sync::OnceLock<super::version_cache::VersionCache<Parsed>> =
        std::sync::OnceLock::new();
    // A few thousand parsed packages are a few MiB; the archives behind
    // them are unpacked once instead of on every request that needs them.
    let cache = PARSED.get_or_init(|| super::version_cache::VersionCache::new(2048));
    let parsed = cache.get_or_compute(&version.cksum, || {
        Ok::<_, RegistryError>(read_content(&load_version_files(reg, full_name, version)?))
    })?;
    Ok((*parsed).clone())
}

/// The files of a published version, from its archive: what the web UI
/// needs beside the content (the README).
pub fn load_version_files(
    reg: &Registry,
    full_name: &str,
    version: &Version,
) -> Result<PackageFiles> {
    let label = format!("{full_name}@{}", version.num);
    let bytes = reg
        .blobs
        .get(&version.cksum)?
        .ok_or_else(|| RegistryError::MissingBlob {
            version: label.clone(),
            cksum: version.cksum.clone(),
        })?;
    let (_, files) = archive::unpack(&bytes, &reg.config.limits).map_err(|e| {
        RegistryError::Io(std::io::Error::other(format!(
            "the stored archive of {label} cannot be unpacked: {e}"
        )))
    })?;
    Ok(files)
}

fn parse_version(num: &str) -> Option<semver::Version> {
    semver::Version::parse(num).ok()
}

/// The version without build metadata, for comparisons by precedence.
fn without_build(v: &semver::Version) -> semver::Version {
    let mut v = v.clone();
    v.build = semver::BuildMetadata::EMPTY;
    v
}

/// The newest non-yanked version that `req` accepts.
pub fn newest_matching<'a>(
    versions: &'a [Version],
    req: &semver::VersionReq,
) -> Option<&'a Version> {
    versions
        .iter()
        .filter(|v| v.yanked_at.is_none())
        .filter_map(|v| parse_version(&v.num).map(|parsed| (parsed, v)))
        .filter(|(parsed, _)| req.matches(parsed))
        .max_by(|(a, _), (b, _)| without_build(a).cmp(&without_build(b)))
        .map(|(_, v)| v)
}

/// The dependencies of a new version, resolved once: the content of each
/// that resolved, and the reason for each that did not.
pub struct ResolvedDependencies {
    /// The content of each dependency's newest non-yanked matching version;
    /// the ones that did not resolve are reported below, not by the check.
    pub content: DependencyContent,
    /// Dependencies that do not exist or have no matching version.
    pub absent: Vec<Diagnostic>,
    /// Dependencies whose newest matching version cannot be read as a
    /// package.
    pub unreadable: Vec<Diagnostic>,
}

/// Resolves every dependency of `manifest` to the content of its newest
/// non-yanked matching version, with one lookup of each package and its
/// versions.
pub fn resolve_dependencies(
    reg: &Registry,
    conn: &mut DbConn,
    manifest: &Manifest,
) -> Result<ResolvedDependencies> {
    let mut packages = BTreeMap::new();
    let mut absent = Vec::new();
    let mut unreadable = Vec::new();
    for dep in &manifest.dependencies {
        let full_name = dep.full_name();
        let Some(package) = index::find_package(conn, &dep.namespace, &dep.name)? else {
            absent.push(
                Diagnostic::error(
                    "dependency.not_found",
                    MANIFEST_FILE,
                    format!("dependency \"{full_name}\" does not exist in this registry"),
                )
                .arg("package", &full_name),
            );
            continue;
        };
        let versions = index::package_versions(conn, package.id)?;
        let Some(version) = newest_matching(&versions, &dep.req) else {
            absent.push(Diagnostic::error(
                "dependency.no_matching_version",
                MANIFEST_FILE,
                format!(
                    "dependency \"{full_name}\" has no published, non-yanked version matching \"{}\"",
                    dep.req
                ),
            ).arg("package", &full_name).arg("requirement", &dep.req));
            continue;
        };
        match load_version(reg, &full_name, version)? {
            Ok((_, content)) => {
                packages.insert(full_name, content);
            }
            Err(found) => unreadable.push(
                Diagnostic::error(
                    "dependency.unreadable",
                    MANIFEST_FILE,
                    format!(
                    "dependency \"{full_name}\" resolves to {}, whose content cannot be read: {}",
                    version.num,
                    found.first().map(ToString::to_string).unwrap_or_default()
                ),
                )
                .arg("package", &full_name)
                .arg("version", &version.num)
                .arg(
                    "detail",
                    found.first().map(ToString::to_string).unwrap_or_default(),
                ),
            ),
        }
    }
    Ok(ResolvedDependencies {
        content: DependencyContent::resolved_and_reported(packages),
        absent,
        unreadable,
    })
}

/// The version a new one is semver-checked against: the highest existing
/// version below it, yanked ones included (a yank does not undo what users
/// may have pinned). Pre-releases are skipped: they promise nothing, so
/// `2.0.0` is checked against `1.x`, not against `2.0.0-rc.1`. `None` when
/// the new version starts the package or is below every release.
pub fn semver_baseline<'a>(versions: &'a [Version], new: &semver::Version) -> Option<&'a Version> {
    let new = without_build(new);
    versions
        .iter()
        .filter_map(|v| parse_version(&v.num).map(|parsed| (without_build(&parsed), v)))
        .filter(|(parsed, _)| parsed.pre.is_empty() && *parsed < new)
        .max_by(|(a, _), (b, _)| a.cmp(b))
        .map(|(_, v)| v)
}

/// The semantic diff between two published versions, as the API serves it.
#[derive(Debug, Serialize)]
pub struct VersionDiff {
    pub name: String,
    pub from: String,
    pub to: String,
    /// The largest change; `null` when nothing changed.
    pub level: Option<Level>,
    /// "1 major, 2 patch"
    pub summary: String,
    pub changes: Vec<Change>,
}

/// Diffs two published versions of `namespace/name` (yanked ones too).
pub fn diff_versions(
    reg: &Registry,
    namespace: &str,
    name: &str,
    from: &str,
    to: &str,
) -> Result<VersionDiff> {
    let full_name = format!("{namespace}/{name}");
    let mut conn = reg.db.conn()?;
    let package = index::find_package(&mut conn, namespace, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(full_name.clone()))?;
    let versions = index::package_versions(&mut conn, package.id)?;
    drop(conn);
    let side = |num: &str| -> Result<(Manifest, Content)> {
        let version = versions.iter().find(|v| v.num == num).ok_or_else(|| {
            RegistryError::UnknownVersion {
                package: full_name.clone(),
                version: num.to_string(),
            }
        })?;
        load_version(reg, &full_name, version)?.map_err(|found| {
            RegistryError::conflict(
                "content_unreadable",
                format!(
                    "{full_name}@{num} cannot be read as a package: {}",
                    found.first().map(ToString::to_string).unwrap_or_default()
                ),
            )
        })
    };
    let (old_manifest, old) = side(from)?;
    let (new_manifest, new) = side(to)?;
    let d = diff::diff(&old_manifest, &old, &new_manifest, &new);
    Ok(VersionDiff {
        name: full_name,
        from: from.to_string(),
        to: to.to_string(),
        level: d.level(),
        summary: d.summary(),
        changes: d.changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(num: &str, yanked: bool) -> Version {
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap().naive_utc();
        Version {
            id: 0,
            package_id: 0,
            num: num.into(),
            canonical_num: num.into(),
            cksum: String::new(),
            size: 0,
            manifest: String::new(),
            forked_from: None,
            yanked_at: yanked.then_some(at),
            yank_reason: None,
            published_by: None,
            downloads: 0,
            created_at: at,
        }
    }

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).unwrap()
    }

    #[test]
    fn baseline_is_the_highest_release_below() {
        let all = [
            row("1.0.0", false),
            row("1.0.4", true),
            row("2.0.0", false),
            row("3.0.0-rc.1", false),
        ];
        let base = |new: &str| semver_baseline(&all, &v(new)).map(|r| r.num.as_str());
        assert_eq!(base("1.0.5"), Some("1.0.4"), "yanked versions count");
        assert_eq!(base("1.1.0"), Some("1.0.4"));
        assert_eq!(base("2.1.0"), Some("2.0.0"));
        assert_eq!(base("3.0.0"), Some("2.0.0"), "pre-releases are skipped");
        assert_eq!(base("0.9.0"), None);
    }

    #[test]
    fn newest_matching_skips_yanked() {
        let all = [row("1.2.0", false), row("1.3.0", true), row("2.0.0", false)];
        let req = semver::VersionReq::parse("^1.2").unwrap();
        assert_eq!(
            newest_matching(&all, &req).map(|r| r.num.as_str()),
            Some("1.2.0")
        );
    }
}
