//! Published packages seen from the client: index lines from the sparse
//! index, archives downloaded through the API and verified against the
//! index's checksum, and a manifest's dependencies resolved to the content
//! of their newest matching versions (for `validate` and `diff`).

use std::collections::BTreeMap;

use registry_index::IndexLine;

use super::http::RegistryClient;
use super::{ClientError, ClientResult};
use gemeinwerk_package::archive::{self, ArchiveLimits, PackageFiles};
use gemeinwerk_package::content::read_content;
use gemeinwerk_package::content::DependencyContent;
use gemeinwerk_package::manifest::MANIFEST_FILE;
use gemeinwerk_package::{Diagnostic, Manifest};

/// The index lines of `ns/name`, in publish order.
pub fn index_lines(client: &RegistryClient, ns: &str, name: &str) -> ClientResult<Vec<IndexLine>> {
    let path = format!("/index/{}", registry_index::package_path(ns, name));
    let bytes = client.get_bytes(&path)?;
    let bad = |e: Box<dyn std::error::Error + Send + Sync>| ClientError::BadIndex {
        registry: client.base().to_string(),
        file: registry_index::package_path(ns, name),
        source: e,
    };
    let text = String::from_utf8(bytes).map_err(|e| bad(e.into()))?;
    registry_index::parse_lines(&text).map_err(|e| bad(e.into()))
}

/// Downloads the archive of an index line and unpacks it; the archive must
/// have the checksum the index names. Every caller only looks at the
/// version (validate, diff, fork, upstream), so the download says
/// `purpose=inspect` and the registry does not count it; `fetch` and
/// `vendor` download for use through the index's download URL.
pub fn download_verified(client: &RegistryClient, line: &IndexLine) -> ClientResult<PackageFiles> {
    let (ns, name) = line
        .name
        .split_once('/')
        .ok_or_else(|| ClientError::BadIndex {
            registry: client.base().to_string(),
            file: line.name.clone(),
            source: format!("the index names a package \"{}\"", line.name).into(),
        })?;
    let path = format!(
        "/api/v1/packages/{ns}/{name}/{}/download?purpose=inspect",
        line.vers
    );
    let bytes = client.get_bytes(&path)?;
    let label = format!("{}@{}", line.name, line.vers);
    let got = archive::sha256_hex(&bytes);
    if got != line.cksum {
        return Err(ClientError::ChecksumMismatch {
            label,
            expected_by: "the index",
            expected: line.cksum.clone(),
            got,
            url: format!("{}{path}", client.base()),
        });
    }
    let (_, files) = archive::unpack(&bytes, &ArchiveLimits::default())
        .map_err(|e| ClientError::UnusableArchive { label, source: e })?;
    Ok(files)
}

/// The files of `ns/name@version`, verified.
pub fn fetch_version(
    client: &RegistryClient,
    ns: &str,
    name: &str,
    version: &str,
) -> ClientResult<PackageFiles> {
    let lines = index_lines(client, ns, name)?;
    let line =
        lines
            .iter()
            .find(|l| l.vers == version)
            .ok_or_else(|| ClientError::NoSuchVersion {
                package: format!("{ns}/{name}"),
                version: version.to_string(),
            })?;
    download_verified(client, line)
}

/// The outcome of resolving a manifest's dependencies.
pub enum Resolution {
    /// The registry answered: the content of every dependency that resolved,
    /// and a diagnostic for every one that did not.
    Resolved {
        deps: DependencyContent,
        problems: Vec<Diagnostic>,
    },
    /// The registry could not be reached; nothing was resolved.
    Offline(String),
}

/// Resolves every dependency to its newest non-yanked matching version,
/// as the registry does on publish.
pub fn resolve(client: &RegistryClient, manifest: &Manifest) -> Resolution {
    let mut packages = BTreeMap::new();
    let mut problems = Vec::new();
    for dep in &manifest.dependencies {
        let full_name = dep.full_name();
        let lines = match index_lines(client, &dep.namespace, &dep.name) {
            Ok(lines) => lines,
            Err(e) if !e.is_refusal() => return Resolution::Offline(crate::error::chain(&e)),
            Err(_) => {
                problems.push(Diagnostic::error(
                    "dependency.not_found",
                    MANIFEST_FILE,
                    format!("dependency \"{full_name}\" does not exist in the registry"),
                ));
                continue;
            }
        };
        let newest = lines
            .iter()
            .filter(|l| !l.yanked)
            .filter_map(|l| semver::Version::parse(&l.vers).ok().map(|v| (v, l)))
            .filter(|(v, _)| dep.req.matches(v))
            .max_by(|(a, _), (b, _)| a.cmp_precedence(b))
            .map(|(_, l)| l);
        let Some(line) = newest else {
            problems.push(Diagnostic::error(
                "dependency.no_matching_version",
                MANIFEST_FILE,
                format!(
                    "dependency \"{full_name}\" has no published, non-yanked version matching \"{}\"",
                    dep.req
                ),
            ));
            continue;
        };
        let unreadable = |why: String| {
            Diagnostic::error(
                "dependency.unreadable",
                MANIFEST_FILE,
                format!(
                    "dependency \"{full_name}\" resolves to {}, which cannot be used: {why}",
                    line.vers
                ),
            )
        };
        match download_verified(client, line) {
            Err(e) if !e.is_refusal() => return Resolution::Offline(crate::error::chain(&e)),
            Err(e) => problems.push(unreadable(crate::error::chain(&e))),
            Ok(files) => match read_content(&files) {
                Ok((_, content)) => {
                    packages.insert(full_name, content);
                }
                Err(found) => problems.push(unreadable(
                    found.first().map(ToString::to_string).unwrap_or_default(),
                )),
            },
        }
    }
    Resolution::Resolved {
        deps: DependencyContent::resolved_and_reported(packages),
        problems,
    }
}
