//! Limits on every text a package carries, and no control characters in
//! any of it.
//!
//! A package's texts end up in database rows (PostgreSQL refuses NUL), in
//! the search index, in web pages and in terminals (an escape sequence in a
//! title would reach every `gemeinwerk info`). Each limit is generous for
//! real forms and small enough that one package cannot make the server
//! render megabytes per page view. The numbers are documented in
//! `docs/package-format.md`; change both together.

use super::diagnostics::Diagnostic;
use super::spanned::{self, Node};
use super::PackageFiles;
use toml::Spanned;

/// `title`, `title-en` (manifest, form, process).
pub const MAX_TITLE_CHARS: usize = 200;
/// `description` in the manifest.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// Entries of `keywords`, and the characters of each.
pub const MAX_KEYWORDS: usize = 20;
pub const MAX_KEYWORD_CHARS: usize = 50;
/// `label`, `label-en` of fields, groups, states, transitions, …
pub const MAX_LABEL_CHARS: usize = 500;
/// `help`, `help-en`.
pub const MAX_HELP_CHARS: usize = 5_000;
/// Any other string in a package's TOML files.
pub const MAX_OTHER_TEXT_CHARS: usize = 10_000;
/// The README, in bytes. The package page shows at most
/// `README_SHOWN_BYTES` of it.
pub const MAX_README_BYTES: usize = 1024 * 1024;
/// A path inside the archive, `{name}-{version}/…`, must fit a plain ustar
/// header: a file name of at most 100 bytes after a folder part of at most
/// 155. Longer paths would need the GNU or PAX records that the archive
/// reader refuses.
pub const USTAR_NAME_BYTES: usize = 100;
pub const USTAR_PREFIX_BYTES: usize = 155;

/// Every problem with the package's texts, for `check_package`. `parsed`
/// is a file the caller has parsed already, by path.
pub fn check(
    files: &PackageFiles,
    readme: Option<&str>,
    archive_prefix: &str,
    parsed: Option<(&str, &Spanned<Node>)>,
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (path, bytes) in files {
        let full = format!("{archive_prefix}/{path}");
        if !fits_ustar(&full) {
            found.push(Diagnostic::error(
                "path.too_long",
                path,
                format!(
                    "the archive path \"{full}\" does not fit a tar header: the file name may have at most {USTAR_NAME_BYTES} bytes, the folders before it at most {USTAR_PREFIX_BYTES}"
                ),
            ).arg("path", &full).arg("name_limit", USTAR_NAME_BYTES).arg("prefix_limit", USTAR_PREFIX_BYTES));
        }
        if !path.ends_with(".toml") {
            continue;
        }
        let Ok(source) = std::str::from_utf8(bytes) else {
            continue;
        };
        // A file that does not parse is reported by its own reader.
        match parsed.filter(|(p, _)| p == path) {
            Some((_, root)) => walk(path, source, "", root, &mut found),
            None => {
                if let Ok(root) = spanned::parse(path, source) {
                    walk(path, source, "", &root, &mut found);
                }
            }
        }
    }
    let readme = readme.unwrap_or("README.md");
    if let Some(text) = files.get(readme) {
        if text.len() > MAX_README_BYTES {
            found.push(
                Diagnostic::error(
                    "readme.too_large",
                    readme,
                    format!(
                        "the README has {} bytes; at most {MAX_README_BYTES} are allowed",
                        text.len()
                    ),
                )
                .arg("size", text.len())
                .arg("limit", MAX_README_BYTES),
            );
        }
    }
    found
}

/// Whether a path fits the name and prefix fields of a ustar header.
pub fn fits_ustar(path: &str) -> bool {
    if path.len() <= USTAR_NAME_BYTES {
        return true;
    }
    path.match_indices('/')
        .any(|(i, _)| i <= USTAR_PREFIX_BYTES && path.len() - i - 1 <= USTAR_NAME_BYTES && i > 0)
}

/// The limit for the text under `key`, and what kind of text it is: a
/// keyword (the arg `text_kind`) that clients word in their language.
fn limit_for(key: &str) -> (usize, &'static str) {
    match key {
        "title" | "title-en" => (MAX_TITLE_CHARS, "title"),
        "description" | "description-en" => (MAX_DESCRIPTION_CHARS, "description"),
        "label" | "label-en" => (MAX_LABEL_CHARS, "label"),
        "help" | "help-en" => (MAX_HELP_CHARS, "help"),
        "keywords" => (MAX_KEYWORD_CHARS, "keyword"),
        _ => (MAX_OTHER_TEXT_CHARS, "text"),
    }
}

/// The English phrase for a text: "the label \"label-en\"", "the key".
fn text_phrase(text_kind: &str, key: &str) -> String {
    let word = match text_kind {
        "help" => "help text",
        other => other,
    };
    match key {
        "" => format!("the {word}"),
        key => format!("the {word} \"{key}\""),
    }
}

fn walk(file: &str, source: &str, key: &str, node: &Spanned<Node>, found: &mut Vec<Diagnostic>) {
    match node.get_ref() {
        Node::Table(entries) => {
            for (k, v) in entries {
                if let Some(d) =
                    text_problem(file, source, ("key", ""), k.get_ref(), 200, k.span().start)
                {
                    found.push(d);
                }
                walk(file, source, k.get_ref(), v, found);
            }
        }
        Node::Array(items) => {
            if key == "keywords" && items.len() > MAX_KEYWORDS {
                found.push(
                    Diagnostic::error(
                        "text.too_many_keywords",
                        file,
                        format!(
                            "there are {} keywords; at most {MAX_KEYWORDS} are allowed",
                            items.len()
                        ),
                    )
                    .arg("count", items.len())
                    .arg("limit", MAX_KEYWORDS)
                    .at(source, node.span().start),
                );
            }
            for item in items {
                walk(file, source, key, item, found);
            }
        }
        Node::String(s) => {
            let (max, text_kind) = limit_for(key);
            if let Some(d) = text_problem(file, source, (text_kind, key), s, max, node.span().start)
            {
                found.push(d);
            }
        }
        _ => {}
    }
}

fn text_problem(
    file: &str,
    source: &str,
    (text_kind, key): (&str, &str),
    s: &str,
    max: usize,
    at: usize,
) -> Option<Diagnostic> {
    let what = text_phrase(text_kind, key);
    let subject = |d: Diagnostic| match key {
        "" => d.arg("variant", "bare").arg("text_kind", text_kind),
        key => d
            .arg("variant", "keyed")
            .arg("text_kind", text_kind)
            .arg("key", key),
    };
    // Newlines and tabs belong in longer texts; every other control
    // character (NUL, escape sequences, …) is refused, wherever it is.
    let bad = s
        .char_indices()
        .find(|&(i, c)| {
            c.is_control()
                && !(c == '\n' || c == '\t' || (c == '\r' && s[i + 1..].starts_with('\n')))
        })
        .map(|(_, c)| c);
    if let Some(c) = bad {
        return Some(
            subject(Diagnostic::error(
                "text.control_character",
                file,
                format!(
                    "{what} contains the control character U+{:04X}; only newlines and tabs are allowed",
                    c as u32
                ),
            ).arg("code_point", format!("{:04X}", c as u32)))
            .at(source, at),
        );
    }
    let chars = s.chars().count();
    if chars > max {
        return Some(
            subject(Diagnostic::error(
                "text.too_long",
                file,
                format!("{what} has {chars} characters; at most {max} are allowed"),
            ))
            .arg("length", chars)
            .arg("limit", max)
            .at(source, at),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(toml: &str) -> PackageFiles {
        let mut f = PackageFiles::new();
        f.insert("form.toml".into(), toml.as_bytes().to_vec());
        f
    }

    fn codes(toml: &str) -> Vec<String> {
        check(&files(toml), None, "p-1.0.0", None)
            .into_iter()
            .map(|d| d.code)
            .collect()
    }

    #[test]
    fn control_characters_are_refused_in_every_string() {
        assert_eq!(codes("title = \"a\\u0000b\""), ["text.control_character"]);
        assert_eq!(
            codes("[x]\nlabel = \"\\u001b[31mrot\""),
            ["text.control_character"]
        );
        assert_eq!(
            codes("help = \"\"\"zwei\nZeilen\tmit Tab\"\"\""),
            Vec::<String>::new()
        );
        assert_eq!(codes("\"a\\u0007\" = 1"), ["text.control_character"]);
    }

    #[test]
    fn each_text_has_its_limit() {
        let long = |n| "x".repeat(n);
        assert!(codes(&format!("title = \"{}\"", long(MAX_TITLE_CHARS))).is_empty());
        assert_eq!(
            codes(&format!("title = \"{}\"", long(MAX_TITLE_CHARS + 1))),
            ["text.too_long"]
        );
        assert_eq!(
            codes(&format!("[[field]]\nlabel = \"{}\"", long(501))),
            ["text.too_long"]
        );
        assert_eq!(
            codes(&format!("help = \"{}\"", long(5001))),
            ["text.too_long"]
        );
        let many: Vec<String> = (0..21).map(|i| format!("\"k{i}\"")).collect();
        assert_eq!(
            codes(&format!("keywords = [{}]", many.join(","))),
            ["text.too_many_keywords"]
        );
        let d = check(
            &files(&format!("title = \"{}\"", long(201))),
            None,
            "p-1.0.0",
            None,
        );
        assert!(d[0].message.contains("200"), "{}", d[0].message);
    }

    #[test]
    fn readme_and_paths_are_bounded() {
        let mut f = files("");
        f.insert("README.md".into(), vec![b'x'; MAX_README_BYTES + 1]);
        f.insert(format!("{}.md", "n".repeat(101)), Vec::new());
        let got: Vec<String> = check(&f, None, "p-1.0.0", None)
            .into_iter()
            .map(|d| d.code)
            .collect();
        assert_eq!(got, ["path.too_long", "readme.too_large"]);
        assert!(fits_ustar(&format!(
            "{}/{}",
            "d".repeat(150),
            "n".repeat(100)
        )));
        assert!(!fits_ustar(&format!(
            "{}/{}",
            "d".repeat(156),
            "n".repeat(10)
        )));
    }
}
