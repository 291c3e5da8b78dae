//! What an import could not carry over exactly: every element of the
//! source that was approximated, dropped or kept only as text, so that a
//! process designer knows what to review before publishing.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::reason::{code, fim_de};
pub use super::reason::{CodelistGap, ConditionKeys, NoteReason, RuleGap};

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub kind: NoteKind,
    /// The FIM id (and version) of the element concerned, e.g. `F00000057 V1.2`.
    pub fim: Option<String>,
    /// Where it landed in the package (`group.field`), when it did.
    pub path: Option<String>,
    /// The XML element, e.g. `praezisierung`.
    pub element: String,
    /// The source line.
    pub line: usize,
    pub reason: NoteReason,
}

/// In JSON the reason is its stable code and both renderings: `message`
/// (English, as it always was) and `message_de` (German Markdown, as in
/// the README), so that machine consumers need no translation table.
impl Serialize for Note {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = 6 + usize::from(self.fim.is_some()) + usize::from(self.path.is_some());
        let mut s = serializer.serialize_struct("Note", len)?;
        s.serialize_field("kind", &self.kind)?;
        if let Some(fim) = &self.fim {
            s.serialize_field("fim", fim)?;
        } else {
            s.skip_field("fim")?;
        }
        if let Some(path) = &self.path {
            s.serialize_field("path", path)?;
        } else {
            s.skip_field("path")?;
        }
        s.serialize_field("element", &self.element)?;
        s.serialize_field("line", &self.line)?;
        s.serialize_field("reason", self.reason.code())?;
        s.serialize_field("message", &self.reason.english())?;
        s.serialize_field("message_de", &self.reason.german())?;
        s.end()
    }
}

/// Descriptive elements the package format has no place for (definitions,
/// legal references, release status …), with every element that had one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCarried {
    pub element: String,
    /// The FIM ids of the fields, groups and rules that carry it.
    pub on: Vec<String>,
}

/// An element FIM has not released for use (Freigabestatus other than 5
/// or 6): imported, and a warning, since a form built on it may change
/// with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreleased {
    /// The FIM id and version.
    pub fim: String,
    /// Where it is in the package; empty for the package itself.
    pub path: String,
    /// The Freigabestatus with its name: "3 Entwurf".
    pub status: String,
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
    pub unreleased: Vec<Unreleased>,
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

impl NoteKind {
    fn german(self) -> &'static str {
        match self {
            NoteKind::Approximated => "angenähert",
            NoteKind::Dropped => "weggelassen",
            NoteKind::RuleAsText => "Regel als Text",
            NoteKind::RuleAsCondition => "Regel als Bedingung",
        }
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl ImportReport {
    /// The report in German, as Markdown: what the README of an imported
    /// package shows (the web UI displays it). Each note says its reason
    /// in German; only names from the source and of the formats are code.
    pub fn german(&self) -> String {
        let mut s = format!(
            "Übernommen: {} {} als {} `{}` mit {}, {}, {}, {} und {}.\n",
            self.standard,
            fim_de(&self.source),
            match self.kind.as_str() {
                "form" => "Formular",
                "fieldgroup" => "Feldgruppe",
                "process" => "Prozess",
                other => other,
            },
            self.package,
            plural(self.fields, "Feld", "Feldern"),
            plural(self.groups, "Gruppe", "Gruppen"),
            plural(self.codelists, "Codeliste", "Codelisten"),
            plural(self.rules, "Regel", "Regeln"),
            plural(self.conditions, "Bedingung", "Bedingungen"),
        );
        if !self.unreleased.is_empty() {
            s.push_str(&format!(
                "\nVon FIM nicht freigegeben ({}), das Formular kann sich mit ihnen ändern:\n\n",
                self.unreleased.len()
            ));
            for u in &self.unreleased {
                s.push_str(&format!("- {}", fim_de(&u.fim)));
                if !u.path.is_empty() {
                    s.push_str(&format!(" → {}", code(&u.path)));
                }
                s.push_str(&format!(": Freigabestatus {}\n", u.status));
            }
        }
        if self.notes.is_empty() && self.not_carried.is_empty() {
            s.push_str("\nAlles wurde genau übernommen.\n");
            return s;
        }
        if !self.notes.is_empty() {
            s.push_str(&format!(
                "\nNicht genau übernommen ({}):\n\n",
                self.notes.len()
            ));
        }
        for n in &self.notes {
            s.push_str(&format!(
                "- Zeile {}: {}: `<{}>`",
                n.line,
                n.kind.german(),
                n.element
            ));
            if let Some(id) = &n.fim {
                s.push_str(&format!(" {}", fim_de(id)));
            }
            if let Some(p) = &n.path {
                s.push_str(&format!(" → {}", code(p)));
            }
            s.push_str(&format!(": {}\n", n.reason.german()));
        }
        if !self.not_carried.is_empty() {
            s.push_str("\nNicht übernommen (beschreibende Angaben, für die das Paketformat keinen Platz hat):\n\n");
            for n in &self.not_carried {
                let shown: Vec<Cow<str>> = n.on.iter().take(6).map(|f| fim_de(f)).collect();
                let more = n.on.len().saturating_sub(shown.len());
                s.push_str(&format!(
                    "- `<{}>` an {}: {}",
                    n.element,
                    plural(n.on.len(), "Element", "Elementen"),
                    shown.join(", ")
                ));
                if more > 0 {
                    s.push_str(&format!(" und {more} weiteren"));
                }
                s.push('\n');
            }
        }
        s
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
        if !self.unreleased.is_empty() {
            writeln!(
                f,
                "\nwarning: not released by FIM ({}); the form may change with them:",
                self.unreleased.len()
            )?;
            for u in &self.unreleased {
                write!(f, "  {}", u.fim)?;
                if !u.path.is_empty() {
                    write!(f, " → {}", u.path)?;
                }
                writeln!(f, ": Freigabestatus {}", u.status)?;
            }
        }
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
            writeln!(f, ": {}", n.reason.english())?;
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
