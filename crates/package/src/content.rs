//! Checks of a package's content files: the entry point that `gemeinwerk
//! validate` and the registry on publish call, and the parsed content that
//! the diff, the semver check and the merge work on.

use std::collections::BTreeMap;

use super::codelist_package::{self, CodelistPackage};
use super::deps::Dependencies;
use super::diagnostics::Diagnostic;
use super::fieldgroup::{self, Fieldgroup};
use super::form::{self, Body, Form};
use super::manifest::{parse_manifest, Manifest, PackageKind, MANIFEST_FILE};
use super::model::{walk, FimRef, Item};
use super::process::{self, Process};
use super::spanned::{Node, Sink};
use super::PackageFiles;
use toml::Spanned;

/// The parsed content file of a package.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Form(Form),
    Process(Process),
    Fieldgroup(Fieldgroup),
    Codelist(CodelistPackage),
}

impl Content {
    pub fn kind(&self) -> PackageKind {
        match self {
            Content::Form(_) => PackageKind::Form,
            Content::Process(_) => PackageKind::Process,
            Content::Fieldgroup(_) => PackageKind::Fieldgroup,
            Content::Codelist(_) => PackageKind::Codelist,
        }
    }

    /// The FIM elements of the package that FIM has not released for use
    /// (a Freigabestatus other than 5 or 6), by path; the package itself
    /// has the empty path.
    pub fn unreleased(&self) -> Vec<(String, &FimRef)> {
        let top = match self {
            Content::Form(f) => f.fim.as_ref(),
            Content::Fieldgroup(f) => f.fim.as_ref(),
            Content::Process(_) | Content::Codelist(_) => None,
        };
        let mut out: Vec<(String, &FimRef)> = top
            .filter(|f| f.is_unreleased())
            .map(|f| (String::new(), f))
            .into_iter()
            .collect();
        if let Some(body) = self.body() {
            walk(&body.items, "", &mut |path, item| {
                let fim = match item {
                    Item::Field(f) => f.fim.as_ref(),
                    Item::Group(g) => g.fim.as_ref(),
                };
                if let Some(f) = fim.filter(|f| f.is_unreleased()) {
                    out.push((path.to_string(), f));
                }
            });
        }
        out
    }

    /// The fields and code lists, for forms and field groups.
    pub fn body(&self) -> Option<&Body> {
        match self {
            Content::Form(f) => Some(&f.body),
            Content::Fieldgroup(f) => Some(&f.body),
            Content::Process(_) | Content::Codelist(_) => None,
        }
    }
}

/// The content of the package's dependencies, by `ns/name`, as the caller
/// resolved them (the registry on publish: the newest matching version;
/// the client: the locked versions). Field-group includes, code lists of
/// dependencies and forms named by a process are checked against it.
#[derive(Debug, Clone, Default)]
pub struct DependencyContent {
    /// What the check says about a dependency missing from `packages`.
    pub missing: Missing,
    pub packages: BTreeMap<String, Content>,
}

/// Who speaks for a declared dependency that is not in
/// [`DependencyContent::packages`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Missing {
    /// Nothing was resolved: check only what is given, stay silent about
    /// the rest.
    #[default]
    Unchecked,
    /// Every dependency was resolved: a missing one matches no published
    /// version, and the check reports it.
    Report,
    /// Every dependency was resolved, and the caller has reported each one
    /// that did not resolve with the precise reason (not found, no
    /// matching version, unreadable); the check stays silent about them.
    ReportedByCaller,
}

impl DependencyContent {
    /// Nothing resolved: the checks a package's own files allow.
    pub fn unresolved() -> Self {
        Self::default()
    }

    pub fn resolved(packages: BTreeMap<String, Content>) -> Self {
        DependencyContent {
            missing: Missing::Report,
            packages,
        }
    }

    /// Every dependency resolved by a caller that reports the ones that
    /// did not resolve itself (see [`Missing::ReportedByCaller`]).
    pub fn resolved_and_reported(packages: BTreeMap<String, Content>) -> Self {
        DependencyContent {
            missing: Missing::ReportedByCaller,
            packages,
        }
    }

    pub fn body(&self, name: &str) -> Option<&Body> {
        self.packages.get(name).and_then(Content::body)
    }

    pub fn codelist_package(&self, name: &str) -> Option<&CodelistPackage> {
        match self.packages.get(name) {
            Some(Content::Codelist(l)) => Some(l),
            _ => None,
        }
    }

    /// For tests and the demo: parses `(name, kind, content file text)`
    /// triples without checking them.
    pub fn resolved_from<'a>(items: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Self {
        let mut packages = BTreeMap::new();
        for (name, kind, text) in items {
            let kind: PackageKind = kind.parse().expect("a package kind");
            if let Ok(c) = parse_content(kind, text) {
                packages.insert(name.to_string(), c);
            }
        }
        DependencyContent::resolved(packages)
    }
}

impl Dependencies for DependencyContent {
    fn kind(&self, name: &str) -> Option<PackageKind> {
        self.packages.get(name).map(Content::kind)
    }

    fn body(&self, name: &str) -> Option<&Body> {
        DependencyContent::body(self, name)
    }

    fn codelist_package(&self, name: &str) -> Option<&CodelistPackage> {
        DependencyContent::codelist_package(self, name)
    }
}

/// Reads a content file without the checks that need the manifest.
/// Returns the content (possibly partial) if the file could be read at all;
/// an `Err` only for errors that keep it from being read.
pub fn parse_content(kind: PackageKind, source: &str) -> Result<Content, Vec<Diagnostic>> {
    let mut sink = Sink::new(kind.content_file(), source);
    let content = match kind {
        PackageKind::Form => form::read(&mut sink).map(Content::Form),
        PackageKind::Process => process::read(&mut sink).map(Content::Process),
        PackageKind::Fieldgroup => fieldgroup::read(&mut sink).map(Content::Fieldgroup),
        PackageKind::Codelist => codelist_package::read(&mut sink).map(Content::Codelist),
    };
    match content {
        Some(c) if !sink.has_errors() => Ok(c),
        _ => Err(sink.found),
    }
}

/// Reads the manifest and the content file of a package without checking
/// them further: what the diff and the dependency checks need. Every
/// problem that keeps them from being read is returned.
pub fn read_content(files: &PackageFiles) -> Result<(Manifest, Content), Vec<Diagnostic>> {
    let text = |path: &str| -> Result<&str, Vec<Diagnostic>> {
        let bytes = files.get(path).ok_or_else(|| {
            vec![Diagnostic::error(
                "content.missing",
                path,
                format!("the package has no {path}"),
            )
            .arg("variant", "file")
            .arg("path", path)]
        })?;
        std::str::from_utf8(bytes).map_err(|e| {
            vec![Diagnostic::error(
                "file.not_utf8",
                path,
                format!("the file is not UTF-8 text: {e}"),
            )
            .arg("variant", "detail")
            .arg("detail", e)]
        })
    };
    let (manifest, _) = parse_manifest(text(MANIFEST_FILE)?)?;
    let content = parse_content(manifest.kind, text(manifest.kind.content_file())?)?;
    Ok((manifest, content))
}

/// The check entry point with no dependency content: the checks that the
/// package's own files allow.
pub fn check(manifest: &Manifest, files: &PackageFiles) -> Vec<Diagnostic> {
    check_with(manifest, files, &DependencyContent::unresolved()).1
}

/// Checks the content of a package against its manifest and the content of
/// its dependencies; returns the parsed content (when the content file
/// could be read) and every problem found, errors and warnings.
pub fn check_with(
    manifest: &Manifest,
    files: &PackageFiles,
    deps: &DependencyContent,
) -> (Option<Content>, Vec<Diagnostic>) {
    check_with_parsed(manifest, files, deps, None)
}

/// [`check_with`], with the content file parsed already by the caller.
pub fn check_with_parsed(
    manifest: &Manifest,
    files: &PackageFiles,
    deps: &DependencyContent,
    parsed: Option<Spanned<Node>>,
) -> (Option<Content>, Vec<Diagnostic>) {
    let mut found = Vec::new();
    let content_file = manifest.kind.content_file();
    let mut content = None;
    match files.get(content_file) {
        None => found.push(
            Diagnostic::error(
                "content.missing",
                content_file,
                format!(
                    "a {} package needs a {content_file} beside gemeinwerk.toml",
                    manifest.kind
                ),
            )
            .arg("variant", "content")
            .arg("package_kind", manifest.kind)
            .arg("file", content_file),
        ),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Err(e) => found.push(
                Diagnostic::error(
                    "file.not_utf8",
                    content_file,
                    format!("the file is not UTF-8 text: {e}"),
                )
                .arg("variant", "detail")
                .arg("detail", e),
            ),
            Ok(text) => {
                let mut sink = Sink::new(content_file, text);
                if let Some(root) = parsed {
                    sink = sink.with_parsed(root);
                }
                content = match manifest.kind {
                    PackageKind::Form => form::read(&mut sink).map(|f| {
                        form::check(&f, manifest, deps, &mut sink);
                        Content::Form(f)
                    }),
                    PackageKind::Process => process::read(&mut sink).map(|p| {
                        process::check(&p, manifest, deps, &mut sink);
                        Content::Process(p)
                    }),
                    PackageKind::Fieldgroup => fieldgroup::read(&mut sink).map(|f| {
                        fieldgroup::check(&f, manifest, deps, &mut sink);
                        Content::Fieldgroup(f)
                    }),
                    // A code list depends on nothing: what it holds is
                    // checked as it is read.
                    PackageKind::Codelist => {
                        codelist_package::read(&mut sink).map(Content::Codelist)
                    }
                };
                found.extend(sink.found);
            }
        },
    }
    for (kind, other) in PackageKind::ALL.map(|k| (k, k.content_file())) {
        if kind != manifest.kind && files.contains_key(other) {
            found.push(
                Diagnostic::warning(
                    "content.other_kind_file",
                    other,
                    format!(
                        "the package is a {} but also has {other}, which is ignored",
                        manifest.kind
                    ),
                )
                .arg("package_kind", manifest.kind)
                .arg("file", other),
            );
        }
    }
    if deps.missing == Missing::Report {
        for dep in &manifest.dependencies {
            if !deps.packages.contains_key(&dep.full_name()) {
                found.push(
                    Diagnostic::error(
                        "content.unresolved_dependency",
                        "gemeinwerk.toml",
                        format!(
                            "dependency \"{}\" = \"{}\" matches no published version",
                            dep.full_name(),
                            dep.req
                        ),
                    )
                    .arg("package", dep.full_name())
                    .arg("requirement", &dep.req),
                );
            }
        }
    }
    for (path, bytes) in files {
        let is_text = path.ends_with(".toml") || path.ends_with(".md");
        if is_text && path != content_file && std::str::from_utf8(bytes).is_err() {
            found.push(
                Diagnostic::error("file.not_utf8", path, "the file is not UTF-8 text")
                    .arg("variant", "bare"),
            );
        }
    }
    if let Some(readme) = &manifest.readme {
        if !files.contains_key(readme) {
            found.push(
                Diagnostic::error(
                    "manifest.missing_readme",
                    "gemeinwerk.toml",
                    format!("readme = \"{readme}\" names a file that is not in the package"),
                )
                .arg("path", readme),
            );
        }
    } else if !files.contains_key("README.md") {
        found.push(Diagnostic::warning(
            "manifest.no_readme",
            "gemeinwerk.toml",
            "the package has no README.md; other municipalities read it before they adopt a package",
        ));
    }
    (content, found)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::manifest::parse_manifest;

    pub fn manifest_with_deps(kind: &str, deps: &[&str]) -> Manifest {
        let mut src = format!(
            "[package]\nname = \"test/paket\"\nversion = \"1.0.0\"\nkind = \"{kind}\"\ndescription = \"x\"\nlicense = \"EUPL-1.2\"\nthemenfeld = \"querschnitt\"\n[dependencies]\n"
        );
        for d in deps {
            src.push_str(&format!("\"{d}\" = \"^1\"\n"));
        }
        parse_manifest(&src).expect("test manifest").0
    }

    /// Checks one content file; the diagnostics about the README are left out.
    pub fn check_src(
        kind: &str,
        src: &str,
        deps: &[&str],
        content: &DependencyContent,
    ) -> Vec<Diagnostic> {
        let m = manifest_with_deps(kind, deps);
        let mut files = PackageFiles::new();
        files.insert(m.kind.content_file().to_string(), src.as_bytes().to_vec());
        files.insert("README.md".into(), b"# Test".to_vec());
        check_with(&m, &files, content).1
    }

    pub fn codes(d: &[Diagnostic]) -> Vec<String> {
        d.iter().map(|d| d.code.clone()).collect()
    }

    #[test]
    fn missing_and_broken_content_files() {
        let m = manifest_with_deps("form", &[]);
        let mut files = PackageFiles::new();
        assert_eq!(
            codes(&check(&m, &files)),
            ["content.missing", "manifest.no_readme"]
        );
        files.insert("form.toml".into(), vec![0xff, 0xfe]);
        files.insert("process.toml".into(), b"".to_vec());
        assert_eq!(
            codes(&check(&m, &files)),
            [
                "file.not_utf8",
                "content.other_kind_file",
                "manifest.no_readme"
            ]
        );
        files.insert("form.toml".into(), b"[form\n".to_vec());
        let d = check(&m, &files);
        assert_eq!(d[0].code, "toml.syntax");
        assert_eq!(d[0].line, 1);
    }

    #[test]
    fn unknown_keys_are_all_reported_with_suggestions() {
        let src = "[form]\ntitel = \"T\"\nvertrauensniveau = \"niedrig\"\n[[field]]\nid = \"a\"\ntype = \"txt\"\nlable = \"A\"\nrequired = \"ja\"\n";
        let d = check_src("form", src, &[], &DependencyContent::default());
        assert_eq!(
            codes(&d),
            [
                "form.missing_title",
                "toml.unknown_key",
                "model.unknown_type",
                "toml.wrong_type",
                "toml.unknown_key"
            ]
        );
        assert_eq!(d[1].suggestion.as_deref(), Some("did you mean \"title\"?"));
        assert_eq!(d[2].suggestion.as_deref(), Some("did you mean \"text\"?"));
        assert_eq!(d[4].suggestion.as_deref(), Some("did you mean \"label\"?"));
        assert_eq!((d[4].line, d[4].column), (7, 1));
        assert_eq!(
            d[3].message,
            "\"required\" of field \"a\" must be true or false, not a string"
        );
    }
}
