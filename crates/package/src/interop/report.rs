//! What an import could not carry over exactly: every element of the
//! source that was approximated, dropped or kept only as text, so that a
//! process designer knows what to review before publishing.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// How far an element of the source made it into the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoteKind {
    /// Carried over, but not with the same meaning (a near type, a default).
    Approximated,
    /// Not carried over at all.
    Dropped,
    /// A rule kept as documented text in README.md, not enforced.
    RuleAsText,
    /// A rule turned into a condition (shown-when / required-when).
    RuleAsCondition,
}

impl NoteKind {
    fn as_str(self) -> &'static str {
        match self {
            NoteKind::Approximated => "approximated",
            NoteKind::Dropped => "dropped",
            NoteKind::RuleAsText => "rule kept as text",
            NoteKind::RuleAsCondition => "rule as condition",
        }
    }
}

/// One element that was not mapped exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub kind: NoteKind,
    /// The FIM id (and version) of the element concerned, e.g. `F00000057 V1.2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fim: Option<String>,
    /// Where it landed in the package (`group.field`), when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The XML element, e.g. `praezisierung`.
    pub element: String,
    /// The source line.
    pub line: usize,
    pub message: String,
}

/// Descriptive elements the package format has no place for (definitions,
/// legal references, release status …), with every element that had one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCarried {
    pub element: String,
    /// The FIM ids of the fields, groups and rules that carry it.
    pub on: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// `XDatenfelder 2.0` …
    pub standard: String,
    /// The FIM id and version of the imported schema or group.
    pub source: String,
    pub package: String,
    pub kind: String,
    pub fields: usize,
    pub groups: usize,
    pub codelists: usize,
    pub rules: usize,
    pub conditions: usize,
    pub notes: Vec<Note>,
    pub not_carried: Vec<NotCarried>,
}

impl ImportReport {
    pub fn count(&self, kind: NoteKind) -> usize {
        self.notes.iter().filter(|n| n.kind == kind).count()
    }

    /// Collects the not-carried elements by element name.
    pub(crate) fn set_not_carried(&mut self, seen: BTreeMap<String, Vec<String>>) {
        self.not_carried = seen
            .into_iter()
            .map(|(element, mut on)| {
                on.dedup();
                NotCarried { element, on }
            })
            .collect();
    }
}

/// The human report, as `gemeinwerk import` prints it.
impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "imported {} {} as {} {}: {} field(s), {} group(s), {} code list(s), {} rule(s), {} condition(s)",
            self.standard,
            self.source,
            self.kind,
            self.package,
            self.fields,
            self.groups,
            self.codelists,
            self.rules,
            self.conditions
        )?;
        if self.notes.is_empty() && self.not_carried.is_empty() {
            return writeln!(f, "everything was mapped exactly");
        }
        if !self.notes.is_empty() {
            writeln!(f, "\nnot mapped exactly ({}):", self.notes.len())?;
        }
        for n in &self.notes {
            write!(f, "  line {}: {}: <{}>", n.line, n.kind.as_str(), n.element)?;
            if let Some(id) = &n.fim {
                write!(f, " {id}")?;
            }
            if let Some(p) = &n.path {
                write!(f, " → {p}")?;
            }
            writeln!(f, ": {}", n.message)?;
        }
        if !self.not_carried.is_empty() {
            writeln!(
                f,
                "\nnot carried (descriptive elements the package format has no place for):"
            )?;
            for n in &self.not_carried {
                let shown: Vec<&str> = n.on.iter().take(6).map(String::as_str).collect();
                let more = n.on.len().saturating_sub(shown.len());
                write!(
                    f,
                    "  <{}> on {} element(s): {}",
                    n.element,
                    n.on.len(),
                    shown.join(", ")
                )?;
                if more > 0 {
                    write!(f, " and {more} more")?;
                }
                writeln!(f)?;
            }
        }
        Ok(())
    }
}
