//! The semantic diff of two versions of a package: changes at the level of
//! manifest keys, fields, groups, code lists, conditions, states,
//! transitions, roles, fees and notices, each classified major, minor or
//! patch with the reason. The rules are in docs/package-format.md.
//!
//! The contract a form's version stands for is the data it collects: a
//! portal that renders it, a client that submits it, a Fachverfahren that
//! receives it. A change that can make an old submission invalid or an old
//! receiver miss data is major; one that only adds what nobody must use is
//! minor; wording is a patch.
//!
//! One module per part of a package; records that carry an id (code
//! lists, codes, roles, states, transitions, fees, notices, dependencies,
//! form elements by path) are paired by `records::by_id`.

mod codelist;
mod field;
mod form;
pub mod german;
mod manifest;
mod out;
mod process;
mod records;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::content::Content;
use crate::manifest::Manifest;
use out::Out;

/// How large a change is, in semver terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Patch,
    Minor,
    Major,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Patch => "patch",
            Level::Minor => "minor",
            Level::Major => "major",
        })
    }
}

/// What a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Manifest,
    Form,
    Field,
    Group,
    Codelist,
    Condition,
    Role,
    State,
    Transition,
    Fee,
    Notice,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).ok();
        f.write_str(s.as_ref().and_then(|v| v.as_str()).unwrap_or("?"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One change. `path` names the element (`fahrzeug.kennzeichen`, a state
/// id, a manifest key); `property` the changed property, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub area: Area,
    pub path: String,
    pub kind: ChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    pub level: Level,
    pub reason: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<5} {} {}", self.level, self.area, self.path)?;
        if let Some(p) = &self.property {
            write!(f, " {p}")?;
        }
        match (self.kind, &self.old, &self.new) {
            (ChangeKind::Added, _, _) if self.property.is_none() => write!(f, ": added")?,
            (ChangeKind::Removed, _, _) if self.property.is_none() => write!(f, ": removed")?,
            (_, Some(o), Some(n)) => write!(f, ": {o:?} → {n:?}")?,
            (_, None, Some(n)) => write!(f, ": added {n:?}")?,
            (_, Some(o), None) => write!(f, ": removed {o:?}")?,
            _ => write!(f, ": changed")?,
        }
        write!(f, " ({})", self.reason)
    }
}

/// All changes between two versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub changes: Vec<Change>,
}

impl Diff {
    /// The largest change, `None` when nothing changed.
    pub fn level(&self) -> Option<Level> {
        self.changes.iter().map(|c| c.level).max()
    }

    pub fn count(&self, level: Level) -> usize {
        self.changes.iter().filter(|c| c.level == level).count()
    }

    /// One line: "2 major, 1 minor, 3 patch".
    pub fn summary(&self) -> String {
        if self.changes.is_empty() {
            return "no changes".into();
        }
        [Level::Major, Level::Minor, Level::Patch]
            .iter()
            .map(|l| (self.count(*l), l))
            .filter(|(n, _)| *n > 0)
            .map(|(n, l)| format!("{n} {l}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Diffs two versions of a package.
pub fn diff(
    old_manifest: &Manifest,
    old: &Content,
    new_manifest: &Manifest,
    new: &Content,
) -> Diff {
    let mut out = Out {
        changes: Vec::new(),
    };
    manifest::diff_manifest(old_manifest, new_manifest, &mut out);
    match (old, new) {
        (Content::Form(a), Content::Form(b)) => form::diff_form(a, b, &mut out),
        (Content::Fieldgroup(a), Content::Fieldgroup(b)) => {
            out.text(Area::Form, "fieldgroup", "label", &a.label, &b.label);
            out.text(Area::Form, "fieldgroup", "help", &a.help, &b.help);
            out.legal_basis(Area::Form, "fieldgroup", &a.legal_basis, &b.legal_basis);
            out.fim(Area::Form, "fieldgroup", &a.fim, &b.fim);
            form::diff_body(&a.body, &b.body, &mut out);
        }
        (Content::Process(a), Content::Process(b)) => process::diff_process(a, b, &mut out),
        (Content::Codelist(a), Content::Codelist(b)) => {
            codelist::diff_codelist_package(a, b, &mut out)
        }
        (a, b) => out.push(
            Area::Manifest,
            "kind",
            ChangeKind::Changed,
            Some("kind"),
            Some(a.kind().to_string()),
            Some(b.kind().to_string()),
            Level::Major,
            "the package is now of another kind",
        ),
    }
    Diff {
        changes: out.changes,
    }
}
