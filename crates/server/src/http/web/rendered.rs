//! What the package page shows of one version (manifest, content, README
//! as HTML), computed once per version and kept: a page view then costs
//! neither an unpack of the archive nor a Markdown rendering, and thirty
//! views of a new version at once compute it once while the others wait.
//!
//! Keyed by the archive's checksum, which names its bytes, so an entry
//! can never go stale; bounded in entries, and each README is shown only
//! up to `README_SHOWN_BYTES`, so the cache is bounded in bytes too.

use std::sync::{Arc, OnceLock};

use super::markdown;
use crate::registry::version_cache::VersionCache;
use crate::registry::{content, Registry, RegistryError};
use crate::store::models::Version;
use gemeinwerk_package::content::Content;
use gemeinwerk_package::manifest::Manifest;

/// How much of a README the page renders; the rest is in the archive.
pub const README_SHOWN_BYTES: usize = 256 * 1024;

/// Versions kept; at most about 64 × 400 KiB of HTML.
const ENTRIES: usize = 64;

pub struct Rendered {
    /// `None` when today's rules cannot read the archive as a package.
    pub package: Option<(Manifest, Content)>,
    pub readme_html: Arc<str>,
}

/// The rendered parts of `version`, from the cache or computed now.
pub fn version(
    reg: &Registry,
    full_name: &str,
    version: &Version,
) -> Result<Arc<Rendered>, RegistryError> {
    static CACHE: OnceLock<VersionCache<Rendered>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| VersionCache::new(ENTRIES));
    cache.get_or_compute(&version.cksum, || {
        let files = content::load_version_files(reg, full_name, version)?;
        Ok(match gemeinwerk_package::content::read_content(&files) {
            Ok((m, c)) => {
                let readme_path = m.readme.clone().unwrap_or_else(|| "README.md".into());
                let html = files
                    .get(&readme_path)
                    .map(|text| render_readme(&String::from_utf8_lossy(text)))
                    .unwrap_or_default();
                Rendered {
                    package: Some((m, c)),
                    readme_html: html.into(),
                }
            }
            Err(_) => Rendered {
                package: None,
                readme_html: "".into(),
            },
        })
    })
}

/// The README as HTML, cut (at a line end where possible) past
/// `README_SHOWN_BYTES` with a note where the rest is.
pub fn render_readme(text: &str) -> String {
    if text.len() <= README_SHOWN_BYTES {
        return markdown::render(text);
    }
    let mut cut = README_SHOWN_BYTES;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    if let Some(line_end) = text[..cut].rfind('\n') {
        cut = line_end;
    }
    let mut html = markdown::render(&text[..cut]);
    html.push_str(&format!(
        "<p class=\"readme-truncated\"><strong>Die Beschreibung ist gekürzt.</strong> \
         Sie ist {} KiB lang; hier stehen die ersten {} KiB. \
         Den vollständigen Text enthält das Paketarchiv.</p>",
        text.len() / 1024,
        cut / 1024
    ));
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_readme_is_cut_with_a_note() {
        let text = "Zeile mit Text\n".repeat(README_SHOWN_BYTES / 10);
        let html = render_readme(&text);
        assert!(
            html.contains("Die Beschreibung ist gekürzt"),
            "note missing"
        );
        assert!(html.len() < README_SHOWN_BYTES * 2, "{}", html.len());
        assert!(!render_readme("# kurz\n").contains("gekürzt"));
    }
}
