//! The three-way merge of a fork with its upstream, at the level of the
//! package model: fields and groups (by path), code lists and their codes,
//! the `[form]`/`[process]`/`[fieldgroup]` keys, roles, states,
//! transitions, fees, notices, manifest keys and dependencies are aligned
//! by id, and each property is merged on its own.
//!
//! It works on the TOML files themselves (with `toml_edit`), starting from
//! ours: comments, layout and keys the model does not keep stay as the fork
//! wrote them, and only what upstream changed is carried over. Values are
//! compared as the model compares them (a condition by its canonical text,
//! an amount in cents), not as text.
//!
//! Rules, for each property or element:
//! - changed on one side only: that side's value;
//! - the same change on both sides: taken once, no conflict;
//! - different changes on both sides: a [`Conflict`] with base, ours and
//!   theirs; the merged files keep ours until it is resolved;
//! - deleted on one side, changed on the other: a conflict of the element;
//! - lists of words (examples, keywords, accounts, media types, forms):
//!   additions and removals of both sides are combined;
//! - `name`, `version` and `[forked-from]` of the manifest are ours (the
//!   caller points `[forked-from]` at the new upstream version).
//!
//! The user's side of the story is documented in docs/package-format.md,
//! "Merging upstream changes".

use std::fmt;

use serde::Serialize;
use toml_edit::{DocumentMut, Item};

mod compare;
mod layout;
mod merger;
mod resolve;
#[cfg(test)]
mod tests;

use crate::diagnostics::Diagnostic;
use crate::manifest::{PackageKind, MANIFEST_FILE};
use crate::PackageFiles;
use layout::spread;
use merger::Merger;
use resolve::apply;

pub use resolve::{check_no_open_conflicts, read_merge_file, resolve_files, write_merge_file};

/// The file that lists the open conflicts of a merge in the working folder.
pub const MERGE_FILE: &str = "gemeinwerk-merge.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Ours,
    Theirs,
}

/// What a conflict is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConflictKind {
    /// One property (`field:parkzone/label`); the texts are TOML values.
    Value,
    /// A whole element deleted on one side and changed on the other
    /// (`field:fahrzeug.halter`); the texts are the element's TOML.
    Element,
    /// A file other than the manifest and the content file (`file:README.md`).
    File,
}

/// One conflict. `base`, `ours` and `theirs` are TOML text (`None`: absent
/// on that side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub path: String,
    pub file: String,
    pub kind: ConflictKind,
    pub base: Option<String>,
    pub ours: Option<String>,
    pub theirs: Option<String>,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(deleted)".into());
        write!(
            f,
            "{} ({}): base {}, ours {}, theirs {}",
            self.path,
            self.file,
            show(&self.base),
            show(&self.ours),
            show(&self.theirs)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("{file} is not valid TOML: {message}")]
    Toml { file: String, message: String },
    #[error("{0} is missing")]
    Missing(String),
    #[error("the packages are of different kinds ({ours} here, {theirs} upstream)")]
    KindMismatch { ours: String, theirs: String },
    #[error("there is no open conflict \"{path}\"")]
    NoSuchConflict { path: String },
    #[error("\"{path}\" names nothing in {file}")]
    PathNotFound { path: String, file: String },
}

impl MergeError {
    /// As a diagnostic of `file`, with the values its message names.
    pub fn to_diagnostic(&self, file: &str) -> Diagnostic {
        let d = Diagnostic::error(self.code(), file, self.to_string());
        match self {
            MergeError::Toml { file, message } => d.arg("file", file).arg("detail", message),
            MergeError::Missing(file) => d.arg("file", file),
            MergeError::KindMismatch { ours, theirs } => d.arg("ours", ours).arg("theirs", theirs),
            MergeError::NoSuchConflict { path } => d.arg("path", path),
            MergeError::PathNotFound { path, file } => d.arg("path", path).arg("file", file),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            MergeError::Toml { .. } => "merge.invalid_toml",
            MergeError::Missing(_) => "merge.missing_file",
            MergeError::KindMismatch { .. } => "merge.kind_mismatch",
            MergeError::NoSuchConflict { .. } => "merge.no_such_conflict",
            MergeError::PathNotFound { .. } => "merge.path_not_found",
        }
    }
}

/// The merged package: `files` hold ours wherever a conflict is open.
#[derive(Debug, Clone)]
pub struct MergeResult {
    pub files: PackageFiles,
    pub conflicts: Vec<Conflict>,
    /// Paths of the upstream changes that were taken.
    pub taken: Vec<String>,
}

impl MergeResult {
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty()
    }

    /// Resolves one open conflict with one side's version.
    pub fn resolve(&mut self, path: &str, side: Side) -> Result<(), MergeError> {
        let i = self
            .conflicts
            .iter()
            .position(|c| c.path == path)
            .ok_or_else(|| MergeError::NoSuchConflict { path: path.into() })?;
        apply(&mut self.files, &self.conflicts[i], side)?;
        self.conflicts.remove(i);
        Ok(())
    }

    /// The files to write into the working folder: the merged files and,
    /// while conflicts are open, [`MERGE_FILE`] listing them.
    pub fn working_files(&self, about: &MergeInfo) -> PackageFiles {
        let mut files = self.files.clone();
        files.remove(MERGE_FILE);
        if !self.conflicts.is_empty() {
            files.insert(
                MERGE_FILE.into(),
                write_merge_file(about, &self.conflicts).into_bytes(),
            );
        }
        files
    }
}

/// What was merged, for the head of [`MERGE_FILE`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeInfo {
    /// `ns/name` of the upstream package.
    pub upstream: String,
    pub base: String,
    pub theirs: String,
}

pub(super) fn parse(file: &str, bytes: &[u8]) -> Result<DocumentMut, MergeError> {
    let text = std::str::from_utf8(bytes).map_err(|e| MergeError::Toml {
        file: file.into(),
        message: e.to_string(),
    })?;
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| MergeError::Toml {
                file: file.into(),
                message: e.message().to_string(),
            })?;
    spread(doc.as_table_mut());
    Ok(doc)
}

fn kind_of(files: &PackageFiles) -> Result<PackageKind, MergeError> {
    let raw = files
        .get(MANIFEST_FILE)
        .ok_or_else(|| MergeError::Missing(MANIFEST_FILE.into()))?;
    let doc = parse(MANIFEST_FILE, raw)?;
    doc.get("package")
        .and_then(|p| p.get("kind"))
        .and_then(Item::as_str)
        .and_then(|k| k.parse().ok())
        .ok_or_else(|| MergeError::Toml {
            file: MANIFEST_FILE.into(),
            message: "[package] has no valid kind".into(),
        })
}

/// Merges the changes from `base` to `theirs` (upstream) into `ours` (the
/// fork). Every file of the packages takes part: the manifest and the
/// content file by the model, other files as a whole.
pub fn merge(
    base: &PackageFiles,
    ours: &PackageFiles,
    theirs: &PackageFiles,
) -> Result<MergeResult, MergeError> {
    let kind = kind_of(ours)?;
    let their_kind = kind_of(theirs)?;
    if kind != their_kind {
        return Err(MergeError::KindMismatch {
            ours: kind.to_string(),
            theirs: their_kind.to_string(),
        });
    }
    let mut m = Merger::default();
    let mut files = ours.clone();
    files.remove(MERGE_FILE);
    let content = kind.content_file();
    for file in [MANIFEST_FILE, content] {
        let (Some(o), Some(t)) = (ours.get(file), theirs.get(file)) else {
            return Err(MergeError::Missing(file.into()));
        };
        // Reading the TOML is most of the work: the three sides at once.
        let (b, o, t) = std::thread::scope(|s| {
            let b = s.spawn(|| match base.get(file) {
                Some(b) => parse(file, b),
                None => Ok(DocumentMut::new()),
            });
            let t = s.spawn(|| parse(file, t));
            let o = parse(file, o);
            (
                b.join().expect("parsing does not panic"),
                o,
                t.join().expect("parsing does not panic"),
            )
        });
        let (b, mut o, t) = (b?, o?, t?);
        m.file = file.to_string();
        if file == MANIFEST_FILE {
            m.manifest(b.as_table(), o.as_table_mut(), t.as_table());
        } else {
            m.content(b.as_table(), o.as_table_mut(), t.as_table());
        }
        files.insert(file.to_string(), o.to_string().into_bytes());
    }
    // Other files: README.md, pictures … as a whole.
    let mut names: Vec<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    names.sort();
    names.dedup();
    for name in names {
        if name == MANIFEST_FILE || name == content || name == MERGE_FILE {
            continue;
        }
        let (b, o, t) = (base.get(name), ours.get(name), theirs.get(name));
        if o == t || b == t {
            continue;
        }
        let path = format!("file:{name}");
        if b == o {
            match t {
                Some(t) => files.insert(name.clone(), t.clone()),
                None => files.remove(name),
            };
            m.taken.push(path);
        } else {
            let text = |v: Option<&Vec<u8>>| v.map(|v| String::from_utf8_lossy(v).into_owned());
            m.conflicts.push(Conflict {
                path,
                file: name.clone(),
                kind: ConflictKind::File,
                base: text(b),
                ours: text(o),
                theirs: text(t),
            });
        }
    }
    Ok(MergeResult {
        files,
        conflicts: m.conflicts,
        taken: m.taken,
    })
}
