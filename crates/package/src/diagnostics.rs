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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
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

    pub fn with_suggestion(mut self, suggestion: impl Into<String>) -> Self {
        self.suggestion = Some(suggestion.into());
        self
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
