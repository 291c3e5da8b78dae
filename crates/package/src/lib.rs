//! The package format: manifest, archive, content checks, semantic diff,
//! semver check and three-way merge, and the standards it speaks (`interop`:
//! FIM XDatenfelder, JSON Schema, BPMN). Pure: no network, no database, no
//! files, so the server, the client and the importer all run the same checks.
//! It depends on no other crate of gemeinwerk.
//!
//! A module imports only modules named before it, on an earlier line or to
//! its left, so there are no import cycles (unit tests may reach anything):
//!
//! ```text
//! diagnostics, names                 messages with places; name rules
//! manifest, spanned, limits, archive the manifest; TOML with positions; sizes; .tar.gz
//! expr, model, eval, codelist,       conditions; fields and groups; code lists in
//!   codelist_package                 a form; code list packages
//! body, deps                         a form's body; what checks may ask of dependencies
//! form, fieldgroup, process          the other three kinds, read and checked
//! content                            `Content` over the four kinds, the check entry points
//! diff, semver_check, adaptation     semantic changes, bumps, what a fork may change
//! write, merge, interop              writing TOML back, three-way merge, standards
//! ```

pub mod adaptation;
pub mod archive;
pub mod body;
pub mod codelist;
pub mod codelist_package;
pub mod content;
pub mod deps;
pub mod diagnostics;
pub mod diff;
pub mod eval;
pub mod expr;
pub mod fieldgroup;
pub mod form;
pub mod interop;
pub mod limits;
pub mod manifest;
pub mod merge;
pub mod model;
pub mod names;
pub mod process;
pub mod semver_check;
pub mod spanned;
pub mod write;

pub use archive::PackageFiles;
pub use diagnostics::{Diagnostic, Severity};
pub use manifest::{Manifest, PackageKind};

/// The validation entry point: every check that a package's own files
/// allow, run by `gemeinwerk validate` and by the client before it packs.
/// Returns the manifest and the warnings, or every error at once.
pub fn check_package(files: &PackageFiles) -> Result<(Manifest, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (manifest, mut warnings) = read_manifest(files)?;
    let (_, found) = check_files(&manifest, files, &content::DependencyContent::unresolved());
    if found.iter().any(Diagnostic::is_error) {
        return Err(found.into_iter().filter(Diagnostic::is_error).collect());
    }
    warnings.extend(found);
    Ok((manifest, warnings))
}

/// Reads and checks the manifest of a package: the manifest and its
/// warnings, or every error in it.
pub fn read_manifest(files: &PackageFiles) -> Result<(Manifest, Vec<Diagnostic>), Vec<Diagnostic>> {
    let Some(raw) = files.get(manifest::MANIFEST_FILE) else {
        return Err(vec![Diagnostic::error(
            "manifest.missing",
            manifest::MANIFEST_FILE,
            "the package has no gemeinwerk.toml",
        )]);
    };
    let source = std::str::from_utf8(raw).map_err(|e| {
        vec![Diagnostic::error(
            "file.not_utf8",
            manifest::MANIFEST_FILE,
            format!("the file is not UTF-8 text: {e}"),
        )
        .arg("variant", "detail")
        .arg("detail", e)]
    })?;
    manifest::parse_manifest(source)
}

/// Every check of a package's files beside the manifest, in one pass: the
/// content with the dependencies' content as the caller resolved them
/// (the registry on publish resolves them before it checks, so the content
/// is read and checked once), the text limits, and open merge conflicts.
/// Returns the parsed content (when the content file could be read) and
/// every problem found, errors and warnings.
pub fn check_files(
    manifest: &Manifest,
    files: &PackageFiles,
    deps: &content::DependencyContent,
) -> (Option<content::Content>, Vec<Diagnostic>) {
    // The content file is parsed once for the text limits and the checks
    // of its kind (a code list of 20,000 codes is over a megabyte).
    let content_file = manifest.kind.content_file();
    let parsed = files
        .get(content_file)
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|text| spanned::parse(content_file, text).ok());
    let limits = limits::check(
        files,
        manifest.readme.as_deref(),
        &format!("{}-{}", manifest.name, manifest.version),
        parsed.as_ref().map(|root| (content_file, root)),
    );
    let (content, mut found) = content::check_with_parsed(manifest, files, deps, parsed);
    found.extend(limits);
    // A merge with open conflicts is not a package yet.
    found.extend(merge::check_no_open_conflicts(files));
    (content, found)
}
