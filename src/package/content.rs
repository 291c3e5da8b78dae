//! Checks of a package's content files. This is the seam where the form,
//! process and field-group models plug in; today it checks that the kind's
//! content file is there and is well-formed TOML.

use super::diagnostics::Diagnostic;
use super::manifest::{toml_error, Manifest};
use super::PackageFiles;

pub fn check(manifest: &Manifest, files: &PackageFiles) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let content_file = manifest.kind.content_file();
    match files.get(content_file) {
        None => found.push(Diagnostic::error(
            "content.missing",
            content_file,
            format!(
                "a {} package needs a {content_file} beside gemeinwerk.toml",
                manifest.kind
            ),
        )),
        Some(bytes) => match std::str::from_utf8(bytes) {
            Err(e) => found.push(Diagnostic::error(
                "file.not_utf8",
                content_file,
                format!("the file is not UTF-8 text: {e}"),
            )),
            Ok(text) => {
                if let Err(e) = text.parse::<toml::Table>() {
                    found.push(toml_error(content_file, text, &e));
                }
            }
        },
    }
    for (path, bytes) in files {
        let is_text = path.ends_with(".toml") || path.ends_with(".md");
        if is_text && path != content_file && std::str::from_utf8(bytes).is_err() {
            found.push(Diagnostic::error(
                "file.not_utf8",
                path,
                "the file is not UTF-8 text",
            ));
        }
    }
    if let Some(readme) = &manifest.readme {
        if !files.contains_key(readme) {
            found.push(Diagnostic::error(
                "manifest.missing_readme",
                "gemeinwerk.toml",
                format!("readme = \"{readme}\" names a file that is not in the package"),
            ));
        }
    } else if !files.contains_key("README.md") {
        found.push(Diagnostic::warning(
            "manifest.no_readme",
            "gemeinwerk.toml",
            "the package has no README.md; other municipalities read it before they adopt a package",
        ));
    }
    found
}
