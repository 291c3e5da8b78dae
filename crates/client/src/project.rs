//! A consuming project: a folder whose `gemeinwerk.toml` declares
//! `[dependencies]` (a `[package]` table is allowed but not needed), as a
//! portal or Fachverfahren has it. `gemeinwerk add` edits that file with
//! `toml_edit`, so comments and layout stay as the user wrote them.
//!
//! ```toml
//! # Formulare, die unser Portal ausliefert
//! [dependencies]
//! "kassel/bewohnerparkausweis" = "^1.0"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{ClientError, ClientResult};
use gemeinwerk_package::diagnostics::toml_error;
use gemeinwerk_package::diagnostics::Hint;
use gemeinwerk_package::manifest::{Dependency, MANIFEST_FILE};
use gemeinwerk_package::names::split_full_name;
use gemeinwerk_package::Diagnostic;

/// The lockfile beside the manifest.
pub const LOCK_FILE: &str = "gemeinwerk.lock";

/// The folder `fetch` unpacks into unless `--dest` says otherwise.
pub const DEFAULT_DEST: &str = "gemeinwerk_packages";

/// A consuming project, read from its folder.
#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    /// Sorted by full name.
    pub dependencies: Vec<Dependency>,
}

impl Project {
    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join(MANIFEST_FILE)
    }

    pub fn lock_path(&self) -> PathBuf {
        self.dir.join(LOCK_FILE)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    // A package folder is a project too; its [package] table is checked by
    // `validate`, not here.
    #[allow(dead_code)]
    package: Option<toml::Value>,
    #[serde(default)]
    dependencies: BTreeMap<Spanned<String>, Spanned<String>>,
    #[allow(dead_code)]
    #[serde(rename = "forked-from")]
    forked_from: Option<toml::Value>,
}

/// Parses the `[dependencies]` of a project's `gemeinwerk.toml`. Every
/// problem is reported at once, placed at its line and column.
pub fn parse_project(source: &str) -> Result<Vec<Dependency>, Vec<Diagnostic>> {
    const F: &str = MANIFEST_FILE;
    let raw: RawProject = toml::from_str(source).map_err(|e| vec![toml_error(F, source, &e)])?;
    let mut errs = Vec::new();
    let mut deps = Vec::new();
    for (name, req) in &raw.dependencies {
        let (ns, short) = match split_full_name(name.get_ref()) {
            Ok(pair) => pair,
            Err(e) => {
                errs.push(
                    Diagnostic::error("manifest.invalid_dependency", F, format!("dependency {e}"))
                        .at(source, name.span().start)
                        .with_cause(e),
                );
                continue;
            }
        };
        match semver::VersionReq::parse(req.get_ref()) {
            Ok(r) => deps.push(Dependency {
                namespace: ns,
                name: short,
                req: r,
            }),
            Err(e) => errs.push(
                Diagnostic::error(
                    "manifest.invalid_version_req",
                    F,
                    format!("\"{}\" is not a version requirement: {e}", req.get_ref()),
                )
                .at(source, req.span().start)
                .arg("requirement", req.get_ref())
                .arg("detail", e)
                .with_suggestion(Hint::requirement_examples()),
            ),
        }
    }
    if errs.is_empty() {
        deps.sort_by_key(Dependency::full_name);
        Ok(deps)
    } else {
        Err(errs)
    }
}

/// Reads the project in `dir`. A missing manifest is an environment error
/// (exit 2), a broken one a refusal (exit 1) with every problem listed.
pub fn read_project(dir: &Path) -> ClientResult<Project> {
    let path = dir.join(MANIFEST_FILE);
    let source = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ClientError::NoProject {
                dir: dir.to_path_buf(),
            })
        }
        Err(e) => return Err(ClientError::read(path)(e)),
    };
    let dependencies = parse_project(&source).map_err(|diagnostics| ClientError::Manifest {
        file: path.clone(),
        diagnostics,
    })?;
    Ok(Project {
        dir: dir.to_path_buf(),
        dependencies,
    })
}

/// `ns/name` or `ns/name@REQ`, as `add` takes it.
pub fn parse_add_spec(spec: &str) -> ClientResult<(String, String, Option<semver::VersionReq>)> {
    let (pkg, req) = match spec.split_once('@') {
        Some((p, r)) => (p, Some(r)),
        None => (spec, None),
    };
    let (ns, name) = split_full_name(pkg).map_err(|why| ClientError::BadAddSpec {
        spec: spec.to_string(),
        why,
    })?;
    let req = match req {
        None => None,
        Some(r) => Some(
            semver::VersionReq::parse(r).map_err(|e| ClientError::BadRequirement {
                spec: spec.to_string(),
                req: r.to_string(),
                why: e.to_string(),
            })?,
        ),
    };
    Ok((ns, name, req))
}

/// The manifest text with `name = "req"` set in `[dependencies]`, keeping
/// everything else (comments, order, spacing) as it was. An empty source
/// gives a new manifest with only `[dependencies]`.
pub fn with_dependency(source: &str, full_name: &str, req: &str) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = source
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    let entry = doc.entry("dependencies").or_insert_with(toml_edit::table);
    let Some(table) = entry.as_table_like_mut() else {
        return Err("\"dependencies\" is not a table".into());
    };
    match table.get_mut(full_name) {
        Some(item) if item.is_value() => {
            // Keep the comment and spacing around the old value.
            let old = item.as_value().expect("checked").decor().clone();
            let mut v = toml_edit::Value::from(req);
            *v.decor_mut() = old;
            *item = toml_edit::Item::Value(v);
        }
        _ => {
            table.insert(full_name, toml_edit::value(req));
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_keeps_comments_and_layout() {
        let src = "# Unser Portal\n[dependencies]\n# Anschrift\n\"fim/anschrift\" = \"^1\" # stabil\n\n[extra]\n";
        let out = with_dependency(src, "kassel/antrag", "^1.0.0").unwrap();
        assert!(out.starts_with(
            "# Unser Portal\n[dependencies]\n# Anschrift\n\"fim/anschrift\" = \"^1\" # stabil\n"
        ));
        assert!(out.contains("\"kassel/antrag\" = \"^1.0.0\""));
        let out = with_dependency(src, "fim/anschrift", "^2").unwrap();
        assert!(
            out.contains("\"fim/anschrift\" = \"^2\" # stabil\n"),
            "{out}"
        );
        let fresh = with_dependency("", "kassel/antrag", "^1.0.0").unwrap();
        assert_eq!(fresh, "[dependencies]\n\"kassel/antrag\" = \"^1.0.0\"\n");
    }

    #[test]
    fn project_needs_no_package_table() {
        let deps =
            parse_project("[dependencies]\n\"b/y\" = \"^1\"\n\"a/x\" = \"=1.0.0\"\n").unwrap();
        let names: Vec<String> = deps.iter().map(Dependency::full_name).collect();
        assert_eq!(names, ["a/x", "b/y"]);
        let errs = parse_project("[dependencies]\n\"A/x\" = \"^^1\"\n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 2);
        let errs = parse_project("[dependencys]\n").unwrap_err();
        assert!(errs[0].message.contains("dependencys"), "{}", errs[0]);
    }

    #[test]
    fn add_specs() {
        assert!(parse_add_spec("kassel/antrag").unwrap().2.is_none());
        assert!(parse_add_spec("kassel/antrag@^1.0").unwrap().2.is_some());
        assert!(parse_add_spec("kassel").is_err());
        assert!(parse_add_spec("kassel/antrag@banana").is_err());
    }
}
