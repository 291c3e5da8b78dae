//! `gemeinwerk.lock`: the exact versions a project was resolved to, with
//! the SHA-256 of each archive and the registry it came from. TOML, sorted,
//! written only by `gemeinwerk lock` (and `fetch` without `--locked`).
//!
//! ```toml
//! # gemeinwerk.lock: written by `gemeinwerk lock`. Commit it; do not edit it.
//! version = 1
//!
//! # The [dependencies] of gemeinwerk.toml this lock was made for.
//! [requires]
//! "kassel/antrag" = "^1.0.0"
//!
//! [[package]]
//! name = "fim/anschrift"
//! version = "1.1.0"
//! cksum = "…64 hex digits…"
//! registry = "https://registry.example"
//! dependencies = []
//! ```
//!
//! `[requires]` is what lets `fetch --locked` see that the manifest changed
//! since the lock was made.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use toml::Spanned;

use gemeinwerk_package::diagnostics::toml_error;
use gemeinwerk_package::diagnostics::Hint;
use gemeinwerk_package::manifest::Dependency;
use gemeinwerk_package::names::split_full_name;
use gemeinwerk_package::Diagnostic;

use super::project::LOCK_FILE;

/// The format version of the lockfile this client writes and reads.
pub const LOCK_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockfile {
    /// Full name → requirement, as in the manifest when the lock was made.
    pub requires: BTreeMap<String, String>,
    /// Sorted by name; one version per package.
    pub packages: Vec<LockedPackage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    /// `namespace/name`
    pub name: String,
    /// Exactly as in the index (`vers`).
    pub version: String,
    /// SHA-256 of the archive, lowercase hex.
    pub cksum: String,
    /// Base URL of the registry.
    pub registry: String,
    /// Full names of the locked packages this one depends on.
    pub dependencies: Vec<String>,
}

impl LockedPackage {
    pub fn namespace_and_name(&self) -> (&str, &str) {
        self.name
            .split_once('/')
            .expect("checked when the lockfile was read or made")
    }

    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// The requirements of a manifest, as recorded in `[requires]`.
pub fn requires_of(deps: &[Dependency]) -> BTreeMap<String, String> {
    deps.iter()
        .map(|d| (d.full_name(), d.req.to_string()))
        .collect()
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl Lockfile {
    pub fn package(&self, name: &str) -> Option<&LockedPackage> {
        self.packages
            .binary_search_by(|p| p.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.packages[i])
    }

    /// The file's text: deterministic, sorted, ending in a newline.
    pub fn to_toml(&self) -> String {
        let mut out = String::from(
            "# gemeinwerk.lock: written by `gemeinwerk lock`. Commit it; do not edit it.\n",
        );
        out.push_str(&format!("version = {LOCK_FORMAT_VERSION}\n\n"));
        out.push_str("# The [dependencies] of gemeinwerk.toml this lock was made for.\n");
        out.push_str("[requires]\n");
        for (name, req) in &self.requires {
            out.push_str(&format!("{} = {}\n", quoted(name), quoted(req)));
        }
        for p in &self.packages {
            out.push_str("\n[[package]]\n");
            out.push_str(&format!("name = {}\n", quoted(&p.name)));
            out.push_str(&format!("version = {}\n", quoted(&p.version)));
            out.push_str(&format!("cksum = {}\n", quoted(&p.cksum)));
            out.push_str(&format!("registry = {}\n", quoted(&p.registry)));
            let deps: Vec<String> = p.dependencies.iter().map(|d| quoted(d)).collect();
            out.push_str(&format!("dependencies = [{}]\n", deps.join(", ")));
        }
        out
    }

    /// Why this lock does not fit the manifest's dependencies any more, in
    /// plain words; `None` when it fits.
    pub fn mismatch(&self, deps: &[Dependency]) -> Option<String> {
        let now = requires_of(deps);
        let mut changes = Vec::new();
        for (name, req) in &now {
            match self.requires.get(name) {
                None => changes.push(format!("{name} {req} was added")),
                Some(old) if old != req => {
                    changes.push(format!("{name} changed from {old} to {req}"))
                }
                Some(_) => {}
            }
        }
        for (name, req) in &self.requires {
            if !now.contains_key(name) {
                changes.push(format!("{name} {req} was removed"));
            }
        }
        if changes.is_empty() {
            None
        } else {
            Some(changes.join("; "))
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLock {
    version: Spanned<u32>,
    #[serde(default)]
    requires: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    package: Vec<RawPackage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackage {
    name: Spanned<String>,
    version: Spanned<String>,
    cksum: Spanned<String>,
    registry: Spanned<String>,
    dependencies: Spanned<Vec<String>>,
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Reads a lockfile, checking everything a fetch will rely on. Every
/// problem is reported at once, with its line and column.
pub fn parse_lockfile(source: &str) -> Result<Lockfile, Vec<Diagnostic>> {
    const F: &str = LOCK_FILE;
    let raw: RawLock = toml::from_str(source).map_err(|e| vec![toml_error(F, source, &e)])?;
    let err = |code: &str, msg: String, at: usize| {
        Diagnostic::error(code, F, msg)
            .at(source, at)
            .with_suggestion(Hint::new(
                "relock",
                "run `gemeinwerk lock` to write it anew",
            ))
    };
    let mut errs = Vec::new();
    if *raw.version.get_ref() != LOCK_FORMAT_VERSION {
        errs.push(err(
            "lock.unknown_version",
            format!(
                "lockfile format version {} is not known to this gemeinwerk (it reads version {LOCK_FORMAT_VERSION})",
                raw.version.get_ref()
            ),
            raw.version.span().start,
        )
        .arg("version", raw.version.get_ref())
        .arg("known", LOCK_FORMAT_VERSION));
    }
    let mut requires = BTreeMap::new();
    for (name, req) in &raw.requires {
        if let Err(e) = split_full_name(name.get_ref()) {
            errs.push(
                err(
                    "lock.invalid_name",
                    format!("requirement {e}"),
                    name.span().start,
                )
                .arg("variant", "requirement")
                .with_cause(e),
            );
        }
        match semver::VersionReq::parse(req.get_ref()) {
            Ok(r) => {
                requires.insert(name.get_ref().clone(), r.to_string());
            }
            Err(e) => errs.push(
                err(
                    "lock.invalid_requirement",
                    format!("\"{}\" is not a version requirement: {e}", req.get_ref()),
                    req.span().start,
                )
                .arg("requirement", req.get_ref())
                .arg("detail", e),
            ),
        }
    }
    let mut packages: Vec<LockedPackage> = Vec::new();
    let mut seen = BTreeSet::new();
    for p in &raw.package {
        let name = p.name.get_ref();
        if let Err(e) = split_full_name(name) {
            errs.push(
                err(
                    "lock.invalid_name",
                    format!("package {e}"),
                    p.name.span().start,
                )
                .arg("variant", "package")
                .with_cause(e),
            );
        } else if !seen.insert(name.clone()) {
            errs.push(
                err(
                    "lock.duplicate_package",
                    format!("{name} is locked twice"),
                    p.name.span().start,
                )
                .arg("package", name),
            );
        }
        if let Err(e) = semver::Version::parse(p.version.get_ref()) {
            errs.push(
                err(
                    "lock.invalid_version",
                    format!(
                        "version \"{}\" of {name} is not a semantic version: {e}",
                        p.version.get_ref()
                    ),
                    p.version.span().start,
                )
                .arg("version", p.version.get_ref())
                .arg("package", name)
                .arg("detail", e),
            );
        }
        if !is_sha256(p.cksum.get_ref()) {
            errs.push(
                err(
                    "lock.invalid_cksum",
                    format!(
                        "cksum of {name} must be a SHA-256 in 64 lowercase hex digits, not \"{}\"",
                        p.cksum.get_ref()
                    ),
                    p.cksum.span().start,
                )
                .arg("package", name)
                .arg("value", p.cksum.get_ref()),
            );
        }
        let registry = p.registry.get_ref();
        if !(registry.starts_with("http://") || registry.starts_with("https://")) {
            errs.push(
                err(
                    "lock.invalid_registry",
                    format!(
                        "registry of {name} must be an http:// or https:// URL, not \"{registry}\""
                    ),
                    p.registry.span().start,
                )
                .arg("package", name)
                .arg("value", registry),
            );
        }
        packages.push(LockedPackage {
            name: name.clone(),
            version: p.version.get_ref().clone(),
            cksum: p.cksum.get_ref().clone(),
            registry: registry.trim_end_matches('/').to_string(),
            dependencies: p.dependencies.get_ref().clone(),
        });
    }
    for (name, req) in &raw.requires {
        if !seen.contains(name.get_ref()) {
            errs.push(
                err(
                    "lock.incomplete",
                    format!("{name} is required but not locked", name = name.get_ref()),
                    req.span().start,
                )
                .arg("variant", "required")
                .arg("package", name.get_ref()),
            );
        }
    }
    for (p, rp) in packages.iter().zip(&raw.package) {
        for d in &p.dependencies {
            if !seen.contains(d) {
                errs.push(
                    err(
                        "lock.incomplete",
                        format!("{} depends on {d}, which is not locked", p.name),
                        rp.dependencies.span().start,
                    )
                    .arg("variant", "dependency")
                    .arg("package", &p.name)
                    .arg("dependency", d),
                );
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Lockfile { requires, packages })
}

/// Reads the lockfile at `path`: `None` when there is none; a broken one
/// is an error that names each problem's line in that file.
pub fn read_lockfile(path: &std::path::Path) -> super::ClientResult<Option<Lockfile>> {
    let source = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(super::ClientError::read(path)(e)),
    };
    parse_lockfile(&source)
        .map(Some)
        .map_err(|diagnostics| super::ClientError::Lockfile {
            file: path.to_path_buf(),
            diagnostics,
        })
}

/// Resolves the project's graph into a new lockfile. Versions of
/// `previous` are kept where they still fit (`None`: resolve afresh, as
/// `lock --update` does).
pub fn make_lock(
    deps: &[Dependency],
    previous: Option<&Lockfile>,
    source: &super::cache::IndexFetcher,
) -> super::ClientResult<Lockfile> {
    let preferred: BTreeMap<String, String> = previous
        .map(|l| {
            l.packages
                .iter()
                .filter(|p| p.registry == source.registry())
                .map(|p| (p.name.clone(), p.version.clone()))
                .collect()
        })
        .unwrap_or_default();
    let resolved = super::resolver::resolve(deps, &preferred, source)?;
    let packages = resolved
        .into_values()
        .map(|line| LockedPackage {
            dependencies: line.deps.iter().map(|d| d.name.clone()).collect(),
            name: line.name,
            version: line.vers,
            cksum: line.cksum,
            registry: source.registry().to_string(),
        })
        .collect();
    Ok(Lockfile {
        requires: requires_of(deps),
        packages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Lockfile {
        Lockfile {
            requires: [("kassel/antrag".to_string(), "^1.0.0".to_string())].into(),
            packages: vec![
                LockedPackage {
                    name: "fim/anschrift".into(),
                    version: "1.1.0".into(),
                    cksum: "ab".repeat(32),
                    registry: "http://127.0.0.1:8080".into(),
                    dependencies: vec![],
                },
                LockedPackage {
                    name: "kassel/antrag".into(),
                    version: "1.0.0".into(),
                    cksum: "cd".repeat(32),
                    registry: "http://127.0.0.1:8080".into(),
                    dependencies: vec!["fim/anschrift".into()],
                },
            ],
        }
    }

    #[test]
    fn round_trip() {
        let lock = sample();
        let text = lock.to_toml();
        assert_eq!(parse_lockfile(&text).unwrap(), lock);
        assert!(text.ends_with("dependencies = [\"fim/anschrift\"]\n"));
    }

    #[test]
    fn broken_lockfiles_are_refused_with_places() {
        let text = sample().to_toml().replace(&"ab".repeat(32), "xyz");
        let errs = parse_lockfile(&text).unwrap_err();
        assert_eq!(errs[0].code, "lock.invalid_cksum");
        assert!(errs[0].line > 0);
        let errs = parse_lockfile("version = 1\n[[package]]\nname = \"a/b\"\n").unwrap_err();
        assert_eq!(errs[0].code, "toml.syntax");
        let text = sample()
            .to_toml()
            .replace("name = \"fim/anschrift\"", "name = \"fim/x\"");
        let errs = parse_lockfile(&text).unwrap_err();
        assert_eq!(errs[0].code, "lock.incomplete");
    }

    #[test]
    fn mismatch_in_plain_words() {
        let lock = sample();
        let dep = |n: &str, r: &str| {
            let (ns, name) = n.split_once('/').unwrap();
            Dependency {
                namespace: ns.into(),
                name: name.into(),
                req: semver::VersionReq::parse(r).unwrap(),
            }
        };
        assert_eq!(lock.mismatch(&[dep("kassel/antrag", "^1.0.0")]), None);
        let why = lock
            .mismatch(&[dep("kassel/antrag", "^2"), dep("fim/x", "^1")])
            .unwrap();
        assert_eq!(
            why,
            "fim/x ^1 was added; kassel/antrag changed from ^1.0.0 to ^2"
        );
    }
}
