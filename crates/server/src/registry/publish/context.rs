//! What the registry knows about a new version, read once before it is
//! checked: the package and its versions, the dependencies with their
//! content, the upstream of a fork, and the version the semver check
//! compares against. Every check of a publish works on this, so a publish
//! reads each row and each archive once.

use super::super::content::{self, ResolvedDependencies};
use super::super::error::Result;
use super::super::{index, Registry};
use crate::store::models::{Package, Version};
use crate::store::DbConn;
use gemeinwerk_package::content::Content;
use gemeinwerk_package::Manifest;

/// A published version read as a package: its manifest and content, or
/// `None` when today's rules cannot read it.
pub type Read = Option<(Manifest, Content)>;

pub struct PublishContext {
    /// The package, if a version of it was published before.
    pub package: Option<Package>,
    /// Its versions in publish order; empty for a new package.
    pub versions: Vec<Version>,
    /// Every dependency resolved to its content, or to why it did not.
    pub dependencies: ResolvedDependencies,
    /// The version that `forked-from` names, if it exists.
    pub upstream: Option<Upstream>,
    /// The version the new one is semver-checked against, if any.
    pub baseline: Option<Baseline>,
}

/// The upstream version of a fork.
pub struct Upstream {
    pub cksum: String,
    pub read: Read,
}

/// The highest existing release below the new version.
pub struct Baseline {
    pub num: String,
    pub version: semver::Version,
    pub read: Read,
}

impl PublishContext {
    /// Reads what the checks of `manifest` need: each package row and
    /// version list once, each archive once (through the parsed-version
    /// cache).
    pub fn load(reg: &Registry, conn: &mut DbConn, manifest: &Manifest) -> Result<Self> {
        let package = index::find_package(conn, &manifest.namespace, &manifest.name)?;
        let versions = match &package {
            Some(p) => index::package_versions(conn, p.id)?,
            None => Vec::new(),
        };
        let dependencies = content::resolve_dependencies(reg, conn, manifest)?;
        let upstream = match &manifest.forked_from {
            None => None,
            Some(fork) => match index::find_package(conn, &fork.namespace, &fork.name)? {
                None => None,
                Some(p) => {
                    let full_name = format!("{}/{}", fork.namespace, fork.name);
                    let wanted = fork.version.to_string();
                    match index::package_versions(conn, p.id)?
                        .into_iter()
                        .find(|v| v.num == wanted)
                    {
                        None => None,
                        Some(v) => Some(Upstream {
                            read: content::load_version(reg, &full_name, &v)?.ok(),
                            cksum: v.cksum,
                        }),
                    }
                }
            },
        };
        let baseline = match content::semver_baseline(&versions, &manifest.version) {
            None => None,
            Some(v) => match semver::Version::parse(&v.num) {
                Err(_) => None,
                Ok(version) => Some(Baseline {
                    read: content::load_version(reg, &manifest.full_name(), v)?.ok(),
                    num: v.num.clone(),
                    version,
                }),
            },
        };
        Ok(PublishContext {
            package,
            versions,
            dependencies,
            upstream,
            baseline,
        })
    }

    /// The existing version that the new one would duplicate: the same
    /// number, or one that differs only in build metadata.
    pub fn taken_version(&self, canonical: &str) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.canonical_num == canonical)
            .map(|v| v.num.as_str())
    }
}
