//! Problems found in a package, each with where (file:line:column), a stable
//! code, a plain explanation and, where there is one, a suggestion.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable machine code such as `manifest.invalid_name`.
    pub code: String,
    pub file: String,
    /// 1-based; 0 when the problem concerns the file as a whole.
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The values `message` interpolates, by name, so that a client can
    /// word the diagnostic in its own language from `code` and these.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    /// How to fix it, in English as the check words it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The same suggestion as an id and values, for a client's own
    /// language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<Hint>,
    /// What one of our own parsers found wrong (the `detail` arg), as an
    /// id and values, for a client's own language. Details from other
    /// parsers (TOML, semver, SPDX, URLs, regexes) have none: they are
    /// given as those parsers word them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

/// A text for people: the English sentence a check writes, and an id and
/// values from which a client words it in its own language (the CLI's
/// catalogues have `hint-<id>` for a [`Hint`], `cause-<id>` for a
/// [`Cause`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Phrase {
    pub id: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    /// The hint in English, as the check words it.
    #[serde(skip)]
    pub english: String,
}

/// How to fix a problem. A hint that is only TOML to write has the id
/// `snippet` and reads the same in every language.
pub type Hint = Phrase;

/// What a parser of ours found wrong in a value.
pub type Cause = Phrase;

impl std::fmt::Display for Phrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.english)
    }
}

impl From<Phrase> for String {
    fn from(p: Phrase) -> String {
        p.english
    }
}

impl Phrase {
    /// A text worded in English here and by its id in a client.
    pub fn new(id: &str, english: impl Into<String>) -> Self {
        Phrase {
            id: id.to_string(),
            args: BTreeMap::new(),
            english: english.into(),
        }
    }

    /// One value the hint names.
    pub fn arg(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.args.insert(name.to_string(), value.to_string());
        self
    }

    /// TOML (or a command) to write: the same in every language.
    pub fn snippet(text: impl Into<String>) -> Self {
        let text = text.into();
        Hint::new("snippet", text.clone()).arg("snippet", text)
    }

    /// "did you mean \"title\"?"
    pub fn did_you_mean(word: impl std::fmt::Display) -> Self {
        Hint::new("did-you-mean", format!("did you mean \"{word}\"?")).arg("word", word)
    }

    /// A package to add to the manifest's dependencies.
    pub fn add_dependency(package: &str) -> Self {
        Hint::new(
            "add-dependency",
            format!("add \"{package}\" = \"^1\" to [dependencies] in gemeinwerk.toml"),
        )
        .arg("package", package)
    }

    /// How a version requirement is written.
    pub fn requirement_examples() -> Self {
        Hint::new("requirement-examples", "for example \"^1.2\" or \"=1.0.3\"")
    }

    /// The choices there are: "known keys: a, b" (`id` `known-keys`,
    /// English prefix `known keys`).
    pub fn choices(id: &str, english_prefix: &str, items: &[&str]) -> Self {
        let items = items.join(", ");
        Hint::new(id, format!("{english_prefix}: {items}")).arg("items", items)
    }
}

/// What a part of a package is, for messages about it. Its keyword is an
/// arg (`kind`) that a client words in its own language, so that no
/// English phrase such as `field "a"` ends up in a German sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectKind {
    Field,
    Group,
    Codelist,
    /// One entry of a code list's `codes`; the name is the code list's.
    Code,
    State,
    Transition,
    Fee,
    Notice,
    Role,
    /// A top-level table such as `[form]`; the name is without brackets.
    Table,
    /// A whole file, such as `form.toml`.
    File,
}

impl SubjectKind {
    pub fn keyword(self) -> &'static str {
        match self {
            SubjectKind::Field => "field",
            SubjectKind::Group => "group",
            SubjectKind::Codelist => "codelist",
            SubjectKind::Code => "code",
            SubjectKind::State => "state",
            SubjectKind::Transition => "transition",
            SubjectKind::Fee => "fee",
            SubjectKind::Notice => "notice",
            SubjectKind::Role => "role",
            SubjectKind::Table => "table",
            SubjectKind::File => "file",
        }
    }

    /// The English word in messages.
    pub(crate) fn english(self) -> &'static str {
        match self {
            SubjectKind::Codelist => "code list",
            other => other.keyword(),
        }
    }
}

/// A part of a package a message is about: its kind and, once known, its
/// name (an id, an id path, a table's or a file's name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub kind: SubjectKind,
    /// Empty while the id is not read yet: "a field".
    pub name: String,
}

impl Subject {
    pub fn new(kind: SubjectKind, name: impl Into<String>) -> Self {
        Subject {
            kind,
            name: name.into(),
        }
    }

    /// One of its kind whose id is not known (yet).
    pub fn unnamed(kind: SubjectKind) -> Self {
        Subject::new(kind, "")
    }
}

/// The English phrase the messages use: `field "a"`, `a field`,
/// `code list "x"`, `a code of code list "x"`, `[form]`, `form.toml`.
impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.kind, self.name.as_str()) {
            (SubjectKind::Code, name) => write!(f, "a code of code list \"{name}\""),
            (SubjectKind::Table, name) => write!(f, "[{name}]"),
            (SubjectKind::File, name) => f.write_str(name),
            (kind, "") => write!(f, "a {}", kind.english()),
            (kind, name) => write!(f, "{} \"{name}\"", kind.english()),
        }
    }
}

impl Diagnostic {
    pub fn error(code: &str, file: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: code.to_string(),
            file: file.to_string(),
            line: 0,
            column: 0,
            message: message.into(),
            args: BTreeMap::new(),
            suggestion: None,
            hint: None,
            cause: None,
        }
    }

    pub fn warning(code: &str, file: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, file, message)
        }
    }

    /// Places the diagnostic at a byte offset of the file's text.
    pub fn at(mut self, source: &str, offset: usize) -> Self {
        let (line, column) = line_column(source, offset);
        self.line = line;
        self.column = column;
        self
    }

    /// One value the message interpolates.
    pub fn arg(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.set_arg(name, value);
        self
    }

    /// [`Diagnostic::arg`] for a diagnostic already in a list.
    pub fn set_arg(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        self.args.insert(name.to_string(), value.to_string());
        self
    }

    /// The thing the message is about, as the args `kind` and `name`; an
    /// unnamed one as the kind `unnamed_<kind>` alone ("a field").
    pub fn subject(mut self, subject: &Subject) -> Self {
        self.set_subject(subject);
        self
    }

    /// [`Diagnostic::subject`] for a diagnostic already in a list.
    pub fn set_subject(&mut self, subject: &Subject) -> &mut Self {
        if subject.name.is_empty() {
            self.set_arg("kind", format!("unnamed_{}", subject.kind.keyword()))
        } else {
            self.set_arg("kind", subject.kind.keyword())
                .set_arg("name", &subject.name)
        };
        self
    }

    pub fn with_suggestion(mut self, hint: Hint) -> Self {
        self.set_hint(hint);
        self
    }

    /// What the parser found wrong: the arg `detail` in English, and the
    /// cause for a client's own language.
    pub fn with_cause(mut self, cause: Cause) -> Self {
        self.set_cause(cause);
        self
    }

    /// [`Diagnostic::with_cause`] for a diagnostic already in a list.
    pub fn set_cause(&mut self, cause: Cause) -> &mut Self {
        self.set_arg("detail", &cause.english);
        self.cause = Some(cause);
        self
    }

    /// [`Diagnostic::with_suggestion`] for a diagnostic already in a list.
    pub fn set_hint(&mut self, hint: Hint) {
        self.suggestion = Some(hint.english.clone());
        self.hint = Some(hint);
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.line > 0 {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        } else {
            write!(f, "{}: ", self.file)?;
        }
        write!(f, "{level}[{}]: {}", self.code, self.message)?;
        if let Some(s) = &self.suggestion {
            write!(f, " — {s}")?;
        }
        Ok(())
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..source.floor_char_boundary_compat(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, index: usize) -> usize;
}

impl FloorCharBoundary for str {
    fn floor_char_boundary_compat(&self, mut index: usize) -> usize {
        while !self.is_char_boundary(index) {
            index -= 1;
        }
        index
    }
}

/// The one TOML syntax or shape error, placed where the parser found it.
pub fn toml_error(file: &str, source: &str, err: &toml::de::Error) -> Diagnostic {
    let detail = err.message().trim_end().replace('\n', " ");
    let d = Diagnostic::error("toml.syntax", file, &detail).arg("detail", detail);
    match err.span() {
        Some(span) => d.at(source, span.start),
        None => d,
    }
}

/// The candidate nearest to `word`, if near enough to be a likely typo; a
/// swap of two neighbouring letters ("titel" for "title") counts as one
/// edit.
pub fn nearest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (strsim::osa_distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let src = "a = 1\nstraße = \"x\"\n";
        assert_eq!(line_column(src, 0), (1, 1));
        let off = src.find('=').unwrap();
        assert_eq!(line_column(src, off), (1, 3));
        let off = src.rfind('=').unwrap();
        assert_eq!(line_column(src, off), (2, 8));
    }
}
