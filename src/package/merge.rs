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
use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use super::diagnostics::Diagnostic;
use super::expr;
use super::manifest::{PackageKind, MANIFEST_FILE};
use super::model::Occurs;
use super::PackageFiles;

/// The file that lists the open conflicts of a merge in the working folder.
pub const MERGE_FILE: &str = "gemeinwerk-merge.toml";

/// Positions of tables are spread out so that new tables fit in between.
const SPREAD: isize = 1 << 20;

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

fn parse(file: &str, bytes: &[u8]) -> Result<DocumentMut, MergeError> {
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
    CONDITIONS.with(|c| c.borrow_mut().clear());
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

// ---------------------------------------------------------------------
// Comparing as the model compares.

thread_local! {
    /// Canonical texts of the conditions met in this merge: each of them
    /// is compared several times (whole element, property, three sides).
    static CONDITIONS: std::cell::RefCell<std::collections::HashMap<String, String>> =
        Default::default();
}

fn canon_condition(s: &str) -> String {
    CONDITIONS.with(|c| {
        if let Some(found) = c.borrow().get(s) {
            return found.clone();
        }
        let canon = expr::parse(s)
            .map(|e| e.to_string())
            .unwrap_or_else(|_| s.trim().to_string());
        c.borrow_mut().insert(s.to_string(), canon.clone());
        canon
    })
}

fn canon_value(key: &str, v: &Value, out: &mut String) {
    use std::fmt::Write as _;
    match v {
        Value::String(s) => {
            let s = s.value();
            let norm = match key {
                "shown-when" | "required-when" => Some(canon_condition(s)),
                "amount" => super::process::parse_amount(s).ok().map(|c| c.to_string()),
                "max-size" => super::model::parse_size(s).ok().map(|n| n.to_string()),
                "occurs" => Occurs::parse(s).ok().map(|o| o.to_string()),
                "vertrauensniveau" => Some(s.to_lowercase()),
                _ => None,
            };
            match norm {
                Some(n) => out.push_str(&n),
                None => {
                    // Delimited, so that "a" and a string "\"a\"" differ.
                    out.push('\u{1}');
                    out.push_str(s);
                    out.push('\u{1}');
                }
            }
        }
        Value::Integer(i) => {
            let i = *i.value();
            let _ = if key == "amount" {
                write!(out, "{}", i * 100)
            } else {
                write!(out, "{i}")
            };
        }
        Value::Float(f) => {
            let f = *f.value();
            let _ = if key == "amount" {
                write!(out, "{}", (f * 100.0).round() as i64)
            } else if f.fract() == 0.0 && f.abs() < 9.0e15 {
                write!(out, "{}", f as i64)
            } else {
                write!(out, "{f}")
            };
        }
        Value::Boolean(b) => {
            let _ = write!(out, "{}", b.value());
        }
        Value::Datetime(d) => {
            let _ = write!(out, "{}", d.value());
        }
        Value::Array(a) => {
            out.push('[');
            for v in a.iter() {
                canon_value(key, v, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::InlineTable(t) => {
            let mut entries: Vec<(&str, &Value)> = t.iter().collect();
            entries.sort_by_key(|(k, _)| *k);
            out.push('{');
            for (k, v) in entries {
                out.push_str(k);
                out.push('=');
                canon_value(k, v, out);
                out.push(';');
            }
            out.push('}');
        }
    }
}

fn canon_table(t: &Table, out: &mut String) {
    let mut entries: Vec<(&str, &Item)> = t.iter().collect();
    entries.sort_by_key(|(k, _)| *k);
    out.push('{');
    for (k, v) in entries {
        out.push_str(k);
        out.push('=');
        canon_item(k, v, out);
        out.push(';');
    }
    out.push('}');
}

fn canon_item(key: &str, item: &Item, out: &mut String) {
    match item {
        Item::None => {}
        Item::Value(v) => canon_value(key, v, out),
        Item::Table(t) => canon_table(t, out),
        Item::ArrayOfTables(a) => {
            out.push('[');
            for t in a.iter() {
                canon_table(t, out);
                out.push(',');
            }
            out.push(']');
        }
    }
}

fn canon_of(key: &str, item: &Item) -> String {
    let mut s = String::new();
    canon_item(key, item, &mut s);
    s
}

/// Keys whose string values are compared by their meaning, not their text.
fn normalised(key: &str) -> bool {
    matches!(
        key,
        "shown-when" | "required-when" | "amount" | "max-size" | "occurs" | "vertrauensniveau"
    )
}

// The `same*` functions answer "equal canonical texts?" without building
// the texts: comparing is most of a merge, and most values are equal.

/// Absent (or `Item::None`) is equal only to absent.
fn same(key: &str, a: Option<&Item>, b: Option<&Item>) -> bool {
    match (a.filter(|i| !i.is_none()), b.filter(|i| !i.is_none())) {
        (None, None) => true,
        (Some(a), Some(b)) => same_item(key, a, b),
        _ => false,
    }
}

fn same_t(a: Option<&Table>, b: Option<&Table>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same_table(a, b),
        _ => false,
    }
}

fn same_item(key: &str, a: &Item, b: &Item) -> bool {
    match (a, b) {
        (Item::Value(x), Item::Value(y)) => same_value(key, x, y),
        (Item::Table(x), Item::Table(y)) => same_table(x, y),
        (Item::ArrayOfTables(x), Item::ArrayOfTables(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(x, y)| same_table(x, y))
        }
        // An inline table and a table (or their arrays) may mean the same.
        _ => canon_of(key, a) == canon_of(key, b),
    }
}

fn same_table(a: &Table, b: &Table) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| same_item(k, v, w)))
}

fn same_value(key: &str, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !normalised(key) => x.value() == y.value(),
        (Value::Integer(x), Value::Integer(y)) => x.value() == y.value(),
        (Value::Boolean(x), Value::Boolean(y)) => x.value() == y.value(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(x, y)| same_value(key, x, y))
        }
        (Value::InlineTable(x), Value::InlineTable(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(k, v, w)))
        }
        _ => {
            let (mut s, mut t) = (String::new(), String::new());
            canon_value(key, a, &mut s);
            canon_value(key, b, &mut t);
            s == t
        }
    }
}

// ---------------------------------------------------------------------
// Texts shown in conflicts.

fn value_text(v: &Value) -> String {
    let mut v = v.clone();
    v.decor_mut().clear();
    v.to_string()
}

fn item_text(item: &Item) -> String {
    match item {
        Item::Value(v) => value_text(v),
        Item::Table(t) => table_text(t),
        other => other.to_string(),
    }
}

fn table_text(t: &Table) -> String {
    let mut t = t.clone();
    t.decor_mut().clear();
    t.set_implicit(false);
    DocumentMut::from(t).to_string().trim().to_string()
}

// ---------------------------------------------------------------------
// Positions.

fn visit_tables(t: &mut Table, f: &mut dyn FnMut(&mut Table)) {
    for (_, item) in t.iter_mut() {
        match item {
            Item::Table(t) => {
                f(t);
                visit_tables(t, f);
            }
            Item::ArrayOfTables(a) => {
                for t in a.iter_mut() {
                    f(t);
                    visit_tables(t, f);
                }
            }
            _ => {}
        }
    }
}

fn spread(root: &mut Table) {
    visit_tables(root, &mut |t| {
        if let Some(p) = t.position() {
            t.set_position((p + 1) * SPREAD);
        }
    });
}

fn subtree_max(t: &Table) -> isize {
    fn walk(t: &Table, max: &mut isize) {
        *max = (*max).max(t.position().unwrap_or(0));
        for (_, item) in t.iter() {
            match item {
                Item::Table(t) => walk(t, max),
                Item::ArrayOfTables(a) => a.iter().for_each(|t| walk(t, max)),
                _ => {}
            }
        }
    }
    let mut max = 0;
    walk(t, &mut max);
    max
}

/// Gives a table taken from the other side, and the tables in it, the
/// positions right after `after`, in their order there.
fn place(t: &mut Table, after: isize) {
    let mut old = Vec::new();
    visit_tables(t, &mut |n| old.push(n.position().unwrap_or(0)));
    old.sort_unstable();
    t.set_position(after + 1);
    visit_tables(t, &mut |n| {
        let p = n.position().unwrap_or(0);
        let rank = old.partition_point(|x| *x < p);
        n.set_position(after + 2 + rank as isize);
    });
}

// ---------------------------------------------------------------------
// The merge itself.

#[derive(Default)]
struct Merger {
    file: String,
    conflicts: Vec<Conflict>,
    taken: Vec<String>,
}

fn sub<'a>(t: Option<&'a Table>, key: &str) -> Option<&'a Table> {
    t?.get(key)?.as_table()
}

fn is_words(item: Option<&Item>) -> bool {
    match item {
        None => true,
        Some(i) => i
            .as_array()
            .is_some_and(|a| a.iter().all(|v| v.as_str().is_some())),
    }
}

fn words(item: Option<&Item>) -> Vec<String> {
    item.and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Merger {
    fn conflict(
        &mut self,
        path: String,
        kind: ConflictKind,
        b: Option<String>,
        o: Option<String>,
        t: Option<String>,
    ) {
        self.conflicts.push(Conflict {
            path,
            file: self.file.clone(),
            kind,
            base: b,
            ours: o,
            theirs: t,
        });
    }

    fn manifest(&mut self, b: &Table, o: &mut Table, t: &Table) {
        if let (Some(op), Some(tp)) = (
            o.get_mut("package").and_then(Item::as_table_mut),
            t.get("package").and_then(Item::as_table),
        ) {
            self.record(
                "manifest",
                sub(Some(b), "package"),
                op,
                tp,
                &["name", "version", "kind"],
            );
        }
        self.map("dependency:", b, o, t, "dependencies");
        // [forked-from] is ours; anything else at the top is merged whole.
        let keys = union_keys(Some(b), o, t);
        for k in keys {
            if !matches!(k.as_str(), "package" | "dependencies" | "forked-from") {
                self.value(format!("manifest/{k}"), &k, b.get(&k), o, t.get(&k));
            }
        }
    }

    fn content(&mut self, b: &Table, o: &mut Table, t: &Table) {
        let keys = union_keys(Some(b), o, t);
        for k in &keys {
            match k.as_str() {
                "form" | "process" | "fieldgroup" => match (
                    o.get_mut(k).and_then(Item::as_table_mut),
                    t.get(k).and_then(Item::as_table),
                ) {
                    (Some(ot), Some(tt)) => self.record(k, sub(Some(b), k), ot, tt, &[]),
                    _ => self.value(k.clone(), k, b.get(k), o, t.get(k)),
                },
                "codelist" => self.map("codelist:", b, o, t, "codelist"),
                "roles" => self.map("role:", b, o, t, "roles"),
                "field" | "group" => {}
                "state" | "transition" | "fee" | "notice" => self.records(k, b, o, t),
                _ => self.value(k.clone(), k, b.get(k), o, t.get(k)),
            }
        }
        if keys.iter().any(|k| k == "field" || k == "group") {
            self.items("", Some(b), o, t);
        }
    }

    /// The properties of one element: each key merged on its own. Keys
    /// in `skip` are handled by the caller.
    fn record(&mut self, elem: &str, b: Option<&Table>, o: &mut Table, t: &Table, skip: &[&str]) {
        for k in union_keys(b, o, t) {
            if skip.contains(&k.as_str()) {
                continue;
            }
            let bi = b.and_then(|b| b.get(&k));
            if k == "codes" && elem.starts_with("codelist:") {
                let list = elem.trim_start_matches("codelist:").to_string();
                if self.codes(&list, bi, o, t.get(&k)) {
                    continue;
                }
            }
            self.value(format!("{elem}/{k}"), &k, bi, o, t.get(&k));
        }
    }

    /// One key of `o`, three ways.
    fn value(
        &mut self,
        path: String,
        key: &str,
        b: Option<&Item>,
        o: &mut Table,
        t: Option<&Item>,
    ) {
        if same(key, o.get(key), t) || same(key, b, t) {
            return;
        }
        if same(key, b, o.get(key)) {
            match t {
                Some(t) => {
                    let mut t = t.clone();
                    if let Some(tt) = t.as_table_mut() {
                        place(tt, o.position().unwrap_or(0));
                    }
                    o.insert(key, t);
                }
                None => {
                    o.remove(key);
                }
            }
            self.taken.push(path);
            return;
        }
        let oi = o.get(key);
        if is_words(b) && is_words(oi) && is_words(t) && (oi.is_some() && t.is_some()) {
            let (wb, wo, wt) = (words(b), words(oi), words(t));
            let mut merged: Vec<String> = wo
                .into_iter()
                .filter(|w| !wb.contains(w) || wt.contains(w))
                .collect();
            for w in wt {
                if !wb.contains(&w) && !merged.contains(&w) {
                    merged.push(w);
                }
            }
            let mut arr = toml_edit::Array::new();
            for w in merged {
                arr.push(w);
            }
            if let Some(Item::Value(v)) = o.get_mut(key) {
                let decor = v.decor().clone();
                *v = Value::Array(arr);
                *v.decor_mut() = decor;
            }
            self.taken.push(path);
            return;
        }
        let text = |i: Option<&Item>| i.filter(|i| !i.is_none()).map(item_text);
        self.conflict(path, ConflictKind::Value, text(b), text(oi), text(t));
    }

    /// A table of entries keyed by name: code lists, roles, dependencies.
    fn map(&mut self, prefix: &str, b: &Table, o: &mut Table, t: &Table, key: &str) {
        let bm = sub(Some(b), key);
        let Some(tm) = t.get(key) else {
            if let Some(bm) = bm {
                // Upstream dropped the whole table: drop what ours left as it was.
                let names: Vec<String> = bm.iter().map(|(k, _)| k.to_string()).collect();
                if let Some(om) = o.get_mut(key).and_then(Item::as_table_mut) {
                    let empty = Table::new();
                    for n in names {
                        self.entry(prefix, &n, Some(bm), om, &empty);
                    }
                }
            }
            return;
        };
        let Some(tm) = tm.as_table() else {
            self.value(format!("{prefix}*"), key, b.get(key), o, Some(tm));
            return;
        };
        if o.get(key).is_none() {
            let mut fresh = Table::new();
            fresh.set_implicit(true);
            o.insert(key, Item::Table(fresh));
        }
        let Some(om) = o.get_mut(key).and_then(Item::as_table_mut) else {
            self.value(
                format!("{prefix}*"),
                key,
                b.get(key),
                o,
                Some(&Item::Table(tm.clone())),
            );
            return;
        };
        for n in union_keys(bm, om, tm) {
            self.entry(prefix, &n, bm, om, tm);
        }
    }

    fn entry(&mut self, prefix: &str, n: &str, bm: Option<&Table>, om: &mut Table, tm: &Table) {
        let path = format!("{prefix}{n}");
        let (bi, ti) = (bm.and_then(|b| b.get(n)), tm.get(n));
        let both_tables = om.get(n).is_some_and(Item::is_table) && ti.is_some_and(Item::is_table);
        if !both_tables {
            let oi = om.get(n);
            let (ot_same, bt_same, bo_same) = (same(n, oi, ti), same(n, bi, ti), same(n, bi, oi));
            if !ot_same
                && !bt_same
                && !bo_same
                && (oi.is_none() || ti.is_none())
                && bi.is_some_and(Item::is_table)
            {
                let text = |i: Option<&Item>| i.map(item_text);
                self.conflict(path, ConflictKind::Element, text(bi), text(oi), text(ti));
                return;
            }
            if bo_same && !ot_same {
                if let Some(Item::Table(tt)) = ti {
                    // A new entry of upstream: after the one before it there.
                    let mut tt = tt.clone();
                    let before = tm
                        .iter()
                        .take_while(|(k, _)| *k != n)
                        .filter_map(|(k, _)| om.get(k).and_then(Item::as_table))
                        .map(subtree_max)
                        .max()
                        .unwrap_or_else(|| om.position().unwrap_or(0));
                    place(&mut tt, before);
                    om.insert(n, Item::Table(tt));
                    self.taken.push(path);
                    return;
                }
            }
            self.value(path, n, bi, om, ti);
            return;
        }
        let bt = bi.and_then(Item::as_table);
        let tt = ti.and_then(Item::as_table).expect("checked");
        let ot = om.get_mut(n).and_then(Item::as_table_mut).expect("checked");
        self.record(&path, bt, ot, tt, &[]);
    }

    /// `[[state]]`, `[[transition]]`, `[[fee]]`, `[[notice]]`, keyed by id.
    fn records(&mut self, key: &str, b: &Table, o: &mut Table, t: &Table) {
        let (bs, ts) = (record_seq(Some(b), key), record_seq(Some(t), key));
        let prefix = format!("{key}:");
        self.keyed(&prefix, false, &bs, o, &ts, &[key]);
    }

    /// The fields and groups of a container (the file or a group), keyed
    /// by id, in one sequence as they appear.
    fn items(&mut self, scope: &str, b: Option<&Table>, o: &mut Table, t: &Table) {
        let (bs, ts) = (item_seq(b), item_seq(Some(t)));
        self.keyed(scope, true, &bs, o, &ts, &["field", "group"]);
    }

    /// The shared part of [`Self::items`] and [`Self::records`]: elements of
    /// the array-of-tables keys `arrays` in `o`, aligned by id.
    fn keyed(
        &mut self,
        scope: &str,
        is_items: bool,
        bs: &[(String, &'static str, &Table)],
        o: &mut Table,
        ts: &[(String, &'static str, &Table)],
        arrays: &[&str],
    ) {
        let path_of = |id: &str, array: &str| -> String {
            if is_items {
                format!("{array}:{}", join(scope, id))
            } else {
                format!("{scope}{id}")
            }
        };
        // Each element of ours is changed only at its own step below, so
        // comparing it at that step compares it as it was.
        let os: Vec<(String, &'static str)> = {
            let seq = if is_items {
                item_seq(Some(o))
            } else {
                record_seq(Some(o), arrays[0])
            };
            seq.into_iter().map(|(id, k, _)| (id, k)).collect()
        };
        let first_pos = if is_items {
            item_seq(Some(o)).first().and_then(|x| x.2.position())
        } else {
            record_seq(Some(o), arrays[0])
                .first()
                .and_then(|x| x.2.position())
        };
        let array_of = |kind: &'static str| -> String {
            if is_items {
                kind.to_string()
            } else {
                arrays[0].to_string()
            }
        };
        let mut ids: Vec<&str> = os.iter().map(|x| x.0.as_str()).collect();
        let mut seen: std::collections::HashSet<&str> = ids.iter().copied().collect();
        for x in ts.iter().chain(bs) {
            if seen.insert(x.0.as_str()) {
                ids.push(x.0.as_str());
            }
        }
        let index =
            |s: &[(String, &'static str, &Table)]| -> std::collections::HashMap<String, usize> {
                s.iter()
                    .enumerate()
                    .map(|(i, x)| (x.0.clone(), i))
                    .collect()
            };
        let (bx, tx) = (index(bs), index(ts));
        let ox: std::collections::HashMap<&str, &'static str> =
            os.iter().map(|x| (x.0.as_str(), x.1)).collect();
        for id in ids {
            let bi = bx.get(id).map(|i| (bs[*i].1, bs[*i].2));
            let ti = tx.get(id).map(|i| (ts[*i].1, ts[*i].2));
            let okind = ox.get(id).copied();
            let kind = okind.or(ti.map(|x| x.0)).or(bi.map(|x| x.0)).unwrap_or("");
            let array = array_of(kind);
            let path = path_of(id, &array);
            let (bt, tt) = (bi.map(|x| x.1), ti.map(|x| x.1));
            let ot = okind.and_then(|k| find_ref(o, &array_of(k), id));
            if same_t(ot, tt) || same_t(bt, tt) {
                continue;
            }
            let bo_same = same_t(bt, ot);
            let text = |x: Option<&Table>| x.map(table_text);
            match (okind, ti) {
                (Some(ok), Some((tk, tt))) if ok == tk => {
                    // Both have it: merge it property by property.
                    let Some(ot) = find_mut(o, &array, id) else {
                        continue;
                    };
                    let bt = bi.filter(|x| x.0 == ok).map(|x| x.1);
                    if is_items {
                        self.record(&path, bt, ot, tt, &["field", "group"]);
                        if kind == "group" {
                            self.items(&join(scope, id), bt, ot, tt);
                        }
                    } else {
                        self.record(&path, bt, ot, tt, &[]);
                    }
                }
                (None, Some((tk, tt))) if bo_same => {
                    // New upstream: after the element before it there.
                    let before = preceding(ts, id, first_pos, o, arrays);
                    let mut tt = tt.clone();
                    place(&mut tt, before);
                    push_table(o, &array_of(tk), tt);
                    self.taken.push(path);
                }
                (Some(_), None) if bo_same => {
                    remove_table(o, &array, id);
                    self.taken.push(path);
                }
                _ => {
                    let ours = text(ot);
                    self.conflict(path, ConflictKind::Element, text(bt), ours, text(tt));
                }
            }
        }
    }

    /// `codes = [{ code = …, label = … }, …]` of a code list, keyed by
    /// code. Returns false when the codes are not written that way.
    fn codes(&mut self, list: &str, b: Option<&Item>, o: &mut Table, t: Option<&Item>) -> bool {
        let inline = |i: Option<&Item>| -> Option<Vec<(String, InlineTable)>> {
            let a = i?.as_array()?;
            a.iter()
                .map(|v| {
                    let t = v.as_inline_table()?;
                    Some((t.get("code")?.as_str()?.to_string(), t.clone()))
                })
                .collect()
        };
        let (Some(bs), Some(os), Some(ts)) = (
            inline(b).or_else(|| b.is_none().then(Vec::new)),
            inline(o.get("codes")),
            inline(t),
        ) else {
            return false;
        };
        let Some(arr) = o.get_mut("codes").and_then(Item::as_array_mut) else {
            return false;
        };
        let mut ids: Vec<String> = os.iter().map(|x| x.0.clone()).collect();
        for x in ts.iter().chain(&bs) {
            if !ids.contains(&x.0) {
                ids.push(x.0.clone());
            }
        }
        let canon_i = |x: Option<&InlineTable>| {
            x.map(|t| {
                let mut s = String::new();
                canon_value("", &Value::InlineTable(t.clone()), &mut s);
                s
            })
        };
        let index = |arr: &toml_edit::Array, code: &str| {
            arr.iter().position(|v| {
                v.as_inline_table()
                    .and_then(|t| t.get("code"))
                    .and_then(Value::as_str)
                    == Some(code)
            })
        };
        for id in ids {
            let find =
                |s: &[(String, InlineTable)]| s.iter().find(|x| x.0 == id).map(|x| x.1.clone());
            let (bi, oi, ti) = (find(&bs), find(&os), find(&ts));
            let (cb, co, ct) = (
                canon_i(bi.as_ref()),
                canon_i(oi.as_ref()),
                canon_i(ti.as_ref()),
            );
            let path = format!("code:{list}#{id}");
            if co == ct || cb == ct {
                continue;
            }
            let text = |x: &Option<InlineTable>| {
                x.as_ref()
                    .map(|t| value_text(&Value::InlineTable(t.clone())))
            };
            match (&oi, &ti) {
                (Some(ot), Some(tt)) => {
                    let mut otab = ot.clone().into_table();
                    let ttab = tt.clone().into_table();
                    let btab = bi.clone().map(InlineTable::into_table);
                    self.record(&path, btab.as_ref(), &mut otab, &ttab, &[]);
                    let mut merged = otab.into_inline_table();
                    *merged.decor_mut() = ot.decor().clone();
                    if let Some(i) = index(arr, &id) {
                        arr.replace_formatted(i, Value::InlineTable(merged));
                    }
                }
                (None, Some(tt)) if cb.is_none() || cb == co => {
                    // After the code before it upstream.
                    let before = ts
                        .iter()
                        .take_while(|x| x.0 != id)
                        .filter_map(|x| index(arr, &x.0))
                        .max();
                    let at = before.map(|i| i + 1).unwrap_or(0);
                    let mut v = Value::InlineTable(tt.clone());
                    if let Some(first) = arr.get(0) {
                        *v.decor_mut() = first.decor().clone();
                    }
                    arr.insert_formatted(at, v);
                    self.taken.push(path);
                }
                (Some(_), None) if cb == co => {
                    if let Some(i) = index(arr, &id) {
                        arr.remove(i);
                    }
                    self.taken.push(path);
                }
                _ => self.conflict(path, ConflictKind::Element, text(&bi), text(&oi), text(&ti)),
            }
        }
        true
    }
}

fn id_of(t: &Table) -> String {
    id_ref(t).to_string()
}

fn id_ref(t: &Table) -> &str {
    t.get("id").and_then(Item::as_str).unwrap_or("")
}

fn item_seq(t: Option<&Table>) -> Vec<(String, &'static str, &Table)> {
    let mut v = Vec::new();
    if let Some(t) = t {
        for kind in ["field", "group"] {
            if let Some(a) = t.get(kind).and_then(Item::as_array_of_tables) {
                v.extend(a.iter().map(|x| (id_of(x), kind, x)));
            }
        }
    }
    v.sort_by_key(|(_, _, t)| t.position());
    v
}

fn record_seq<'a>(t: Option<&'a Table>, key: &str) -> Vec<(String, &'static str, &'a Table)> {
    let mut v: Vec<(String, &'static str, &Table)> = t
        .and_then(|x| x.get(key))
        .and_then(Item::as_array_of_tables)
        .map(|a| a.iter().map(|t| (id_of(t), "", t)).collect())
        .unwrap_or_default();
    v.sort_by_key(|(_, _, t)| t.position());
    v
}

fn join(scope: &str, id: &str) -> String {
    if scope.is_empty() {
        id.to_string()
    } else {
        format!("{scope}.{id}")
    }
}

fn union_keys(b: Option<&Table>, o: &Table, t: &Table) -> Vec<String> {
    let mut keys: Vec<String> = o.iter().map(|(k, _)| k.to_string()).collect();
    for (k, _) in t.iter().chain(b.into_iter().flat_map(|b| b.iter())) {
        if !keys.iter().any(|x| x == k) {
            keys.push(k.to_string());
        }
    }
    keys
}

fn find_ref<'a>(o: &'a Table, array: &str, id: &str) -> Option<&'a Table> {
    o.get(array)?
        .as_array_of_tables()?
        .iter()
        .find(|t| id_ref(t) == id)
}

fn find_mut<'a>(o: &'a mut Table, array: &str, id: &str) -> Option<&'a mut Table> {
    o.get_mut(array)?
        .as_array_of_tables_mut()?
        .iter_mut()
        .find(|t| id_ref(t) == id)
}

fn push_table(o: &mut Table, array: &str, t: Table) {
    if o.get(array).and_then(Item::as_array_of_tables).is_none() {
        o.insert(array, Item::ArrayOfTables(ArrayOfTables::new()));
    }
    if let Some(a) = o.get_mut(array).and_then(Item::as_array_of_tables_mut) {
        a.push(t);
    }
}

fn remove_table(o: &mut Table, array: &str, id: &str) {
    if let Some(a) = o.get_mut(array).and_then(Item::as_array_of_tables_mut) {
        let found = a.iter().position(|t| id_ref(t) == id);
        if let Some(i) = found {
            a.remove(i);
        }
        if a.is_empty() {
            o.remove(array);
        }
    }
}

/// Where a new element goes: after the subtree of the element before it
/// upstream that ours has too, else at the start of the container.
fn preceding(
    ts: &[(String, &'static str, &Table)],
    id: &str,
    first_pos: Option<isize>,
    o: &Table,
    arrays: &[&str],
) -> isize {
    let before: Vec<&String> = ts.iter().take_while(|x| x.0 != id).map(|x| &x.0).collect();
    for prev in before.iter().rev() {
        for array in arrays {
            if let Some(t) = o
                .get(array)
                .and_then(Item::as_array_of_tables)
                .and_then(|a| a.iter().find(|t| id_ref(t) == prev.as_str()))
            {
                return subtree_max(t);
            }
        }
    }
    // The start of the container: right after its own header, or before
    // its first element.
    match o.position() {
        Some(p) if p > 0 => p,
        _ => first_pos.map(|p| (p - SPREAD / 2).max(0)).unwrap_or(0),
    }
}

// ---------------------------------------------------------------------
// Resolving.

/// Applies one side of a conflict to the files.
fn apply(files: &mut PackageFiles, c: &Conflict, side: Side) -> Result<(), MergeError> {
    let text = match side {
        Side::Ours => c.ours.clone(),
        Side::Theirs => c.theirs.clone(),
    };
    if c.kind == ConflictKind::File {
        match text {
            Some(t) => files.insert(c.file.clone(), t.into_bytes()),
            None => files.remove(&c.file),
        };
        return Ok(());
    }
    let raw = files
        .get(&c.file)
        .ok_or_else(|| MergeError::Missing(c.file.clone()))?;
    let mut doc = parse(&c.file, raw)?;
    let not_found = || MergeError::PathNotFound {
        path: c.path.clone(),
        file: c.file.clone(),
    };
    let bad = |e: String| MergeError::Toml {
        file: MERGE_FILE.into(),
        message: format!("{}: {e}", c.path),
    };
    let root = doc.as_table_mut();
    match c.kind {
        ConflictKind::Value if c.path.starts_with("code:") => {
            let (elem, key) = c.path["code:".len()..]
                .rsplit_once('/')
                .ok_or_else(not_found)?;
            let (list, code) = elem.split_once('#').ok_or_else(not_found)?;
            let arr = root
                .get_mut("codelist")
                .and_then(|l| l.get_mut(list))
                .and_then(|l| l.get_mut("codes"))
                .and_then(Item::as_array_mut)
                .ok_or_else(not_found)?;
            let entry = arr
                .iter_mut()
                .filter_map(Value::as_inline_table_mut)
                .find(|t| t.get("code").and_then(Value::as_str) == Some(code))
                .ok_or_else(not_found)?;
            match text {
                None => {
                    entry.remove(key);
                }
                Some(t) => {
                    let v: Value = t
                        .parse()
                        .map_err(|e: toml_edit::TomlError| bad(e.message().to_string()))?;
                    entry.insert(key, v.decorated(" ", " "));
                }
            }
        }
        ConflictKind::Value => {
            let (table, key) = locate_value(root, &c.path).ok_or_else(not_found)?;
            match text {
                None => {
                    table.remove(&key);
                }
                Some(t) => {
                    let v: Value = t
                        .parse()
                        .map_err(|e: toml_edit::TomlError| bad(e.message().to_string()))?;
                    let v = v.decorated(" ", "");
                    table.insert(&key, Item::Value(v));
                }
            }
        }
        ConflictKind::Element => {
            let (prefix, rest) = c.path.split_once(':').ok_or_else(not_found)?;
            match prefix {
                "code" => {
                    let (list, code) = rest.split_once('#').ok_or_else(not_found)?;
                    let arr = root
                        .get_mut("codelist")
                        .and_then(|l| l.get_mut(list))
                        .and_then(|l| l.get_mut("codes"))
                        .and_then(Item::as_array_mut)
                        .ok_or_else(not_found)?;
                    let i = arr.iter().position(|v| {
                        v.as_inline_table()
                            .and_then(|t| t.get("code"))
                            .and_then(Value::as_str)
                            == Some(code)
                    });
                    match (i, text) {
                        (Some(i), None) => {
                            arr.remove(i);
                        }
                        (i, Some(t)) => {
                            let v: Value = t
                                .parse()
                                .map_err(|e: toml_edit::TomlError| bad(e.message().to_string()))?;
                            let mut v = v;
                            if let Some(first) = arr.get(0) {
                                *v.decor_mut() = first.decor().clone();
                            }
                            match i {
                                Some(i) => {
                                    arr.replace_formatted(i, v);
                                }
                                None => arr.push_formatted(v),
                            }
                        }
                        (None, None) => {}
                    }
                }
                "codelist" => {
                    let lists = root
                        .get_mut("codelist")
                        .and_then(Item::as_table_mut)
                        .ok_or_else(not_found)?;
                    set_entry(lists, rest, text.as_deref()).map_err(bad)?;
                }
                _ => {
                    let (container, array, id) =
                        locate_container(root, prefix, rest).ok_or_else(not_found)?;
                    let existing = container
                        .get(&array)
                        .and_then(Item::as_array_of_tables)
                        .and_then(|a| a.iter().find(|t| id_ref(t) == id));
                    let at = match existing {
                        Some(t) => (t.position().unwrap_or(0) - 1).max(0),
                        // At the end of its container (fields and groups alike).
                        None => {
                            let arrays: Vec<&str> = match prefix {
                                "field" | "group" => vec!["field", "group"],
                                _ => vec![array.as_str()],
                            };
                            arrays
                                .into_iter()
                                .filter_map(|a| container.get(a).and_then(Item::as_array_of_tables))
                                .flat_map(|a| a.iter().map(subtree_max))
                                .max()
                                .unwrap_or_else(|| container.position().unwrap_or(0))
                        }
                    };
                    remove_table(container, &array, &id);
                    if let Some(t) = text {
                        let doc: DocumentMut = t
                            .parse()
                            .map_err(|e: toml_edit::TomlError| bad(e.message().to_string()))?;
                        let mut t = doc.as_table().clone();
                        t.set_implicit(false);
                        place(&mut t, at);
                        push_table(container, &array, t);
                    }
                }
            }
        }
        ConflictKind::File => unreachable!("handled above"),
    }
    files.insert(c.file.clone(), doc.to_string().into_bytes());
    Ok(())
}

fn set_entry(t: &mut Table, key: &str, text: Option<&str>) -> Result<(), String> {
    let pos = t
        .get(key)
        .and_then(Item::as_table)
        .and_then(Table::position);
    match text {
        None => {
            t.remove(key);
        }
        Some(text) => {
            let doc: DocumentMut = text
                .parse()
                .map_err(|e: toml_edit::TomlError| e.message().to_string())?;
            let mut new = doc.as_table().clone();
            new.set_implicit(false);
            let after = pos.map(|p| (p - 1).max(0)).unwrap_or_else(|| {
                t.iter()
                    .filter_map(|(_, i)| i.as_table())
                    .map(subtree_max)
                    .max()
                    .unwrap_or(0)
            });
            place(&mut new, after);
            t.insert(key, Item::Table(new));
        }
    }
    Ok(())
}

/// The container, array name and id of an element path such as
/// `field:fahrzeug.kennzeichen` or `state:eingang`.
fn locate_container<'a>(
    root: &'a mut Table,
    prefix: &str,
    rest: &str,
) -> Option<(&'a mut Table, String, String)> {
    match prefix {
        "field" | "group" => {
            let mut parts: Vec<&str> = rest.split('.').collect();
            let id = parts.pop()?.to_string();
            let mut t = root;
            for g in parts {
                t = find_mut(t, "group", g)?;
            }
            Some((t, prefix.to_string(), id))
        }
        "state" | "transition" | "fee" | "notice" => {
            Some((root, prefix.to_string(), rest.to_string()))
        }
        _ => None,
    }
}

/// The table and key of a value path such as `field:parkzone/label`,
/// `manifest/description`, `dependency:fim/anschrift-inland` or
/// `code:parkzone#A/label`.
fn locate_value<'a>(root: &'a mut Table, path: &str) -> Option<(&'a mut Table, String)> {
    if let Some(name) = path.strip_prefix("dependency:") {
        return Some((
            root.get_mut("dependencies")?.as_table_mut()?,
            name.to_string(),
        ));
    }
    if let Some(name) = path.strip_prefix("role:") {
        return Some((root.get_mut("roles")?.as_table_mut()?, name.to_string()));
    }
    let (elem, key) = path.rsplit_once('/')?;
    let key = key.to_string();
    let Some((prefix, rest)) = elem.split_once(':') else {
        let table = if elem == "manifest" { "package" } else { elem };
        return Some((root.get_mut(table)?.as_table_mut()?, key));
    };
    match prefix {
        "codelist" => Some((
            root.get_mut("codelist")?.get_mut(rest)?.as_table_mut()?,
            key,
        )),
        // A code is an inline table, not a Table: `apply` handles
        // `code:` paths itself before it gets here.
        "code" => None,
        _ => {
            let (container, array, id) = locate_container(root, prefix, rest)?;
            Some((find_mut(container, &array, &id)?, key))
        }
    }
}

// ---------------------------------------------------------------------
// The merge file.

/// Writes [`MERGE_FILE`]: what was merged and every open conflict.
pub fn write_merge_file(about: &MergeInfo, conflicts: &[Conflict]) -> String {
    let mut doc = DocumentMut::new();
    doc.decor_mut().set_prefix(format!(
        "# Open conflicts of the merge of {} {} → {}.\n\
         # The package files hold your version (\"ours\") of each of them.\n\
         # Resolve one with `gemeinwerk upstream resolve PATH --ours` or `--theirs`,\n\
         # or edit the package file yourself and delete its [[conflict]] here.\n\
         # The package cannot be published while this file lists a conflict.\n\n",
        about.upstream, about.base, about.theirs
    ));
    let mut head = Table::new();
    head.insert("upstream", toml_edit::value(about.upstream.as_str()));
    head.insert("base", toml_edit::value(about.base.as_str()));
    head.insert("theirs", toml_edit::value(about.theirs.as_str()));
    doc.insert("merge", Item::Table(head));
    let mut list = ArrayOfTables::new();
    for c in conflicts {
        let mut t = Table::new();
        t.insert("path", toml_edit::value(c.path.as_str()));
        t.insert("file", toml_edit::value(c.file.as_str()));
        let kind = match c.kind {
            ConflictKind::Value => "value",
            ConflictKind::Element => "element",
            ConflictKind::File => "file",
        };
        t.insert("kind", toml_edit::value(kind));
        for (k, v) in [("base", &c.base), ("ours", &c.ours), ("theirs", &c.theirs)] {
            match v {
                None => {
                    t.insert(&format!("{k}-deleted"), toml_edit::value(true));
                }
                Some(text) => {
                    // Values as values, so that a string reads as a string;
                    // elements and files as text.
                    let parsed = (c.kind == ConflictKind::Value)
                        .then(|| text.parse::<Value>().ok())
                        .flatten();
                    let v = parsed.unwrap_or_else(|| Value::from(text.as_str()));
                    t.insert(k, Item::Value(v.decorated(" ", "")));
                }
            }
        }
        list.push(t);
    }
    if !list.is_empty() {
        doc.insert("conflict", Item::ArrayOfTables(list));
    }
    doc.to_string()
}

/// Reads [`MERGE_FILE`] from the working files; no file, no conflicts.
pub fn read_merge_file(
    files: &PackageFiles,
) -> Result<Option<(MergeInfo, Vec<Conflict>)>, MergeError> {
    let Some(raw) = files.get(MERGE_FILE) else {
        return Ok(None);
    };
    let doc = parse(MERGE_FILE, raw)?;
    let bad = |m: &str| MergeError::Toml {
        file: MERGE_FILE.into(),
        message: m.into(),
    };
    let s = |t: &Table, k: &str| t.get(k).and_then(Item::as_str).map(str::to_string);
    let head = doc
        .get("merge")
        .and_then(Item::as_table)
        .ok_or_else(|| bad("no [merge] table"))?;
    let about = MergeInfo {
        upstream: s(head, "upstream").unwrap_or_default(),
        base: s(head, "base").unwrap_or_default(),
        theirs: s(head, "theirs").unwrap_or_default(),
    };
    let mut out = Vec::new();
    for t in doc
        .get("conflict")
        .and_then(Item::as_array_of_tables)
        .iter()
        .flat_map(|a| a.iter())
    {
        let kind = match s(t, "kind").as_deref() {
            Some("value") => ConflictKind::Value,
            Some("element") => ConflictKind::Element,
            Some("file") => ConflictKind::File,
            _ => return Err(bad("a [[conflict]] has no kind value, element or file")),
        };
        let text = |k: &str| -> Option<String> {
            let item = t.get(k)?;
            match (kind, item.as_value()) {
                (ConflictKind::Value, Some(v)) => Some(value_text(v)),
                (_, Some(v)) => v.as_str().map(str::to_string),
                _ => None,
            }
        };
        out.push(Conflict {
            path: s(t, "path").ok_or_else(|| bad("a [[conflict]] has no path"))?,
            file: s(t, "file").ok_or_else(|| bad("a [[conflict]] has no file"))?,
            kind,
            base: text("base"),
            ours: text("ours"),
            theirs: text("theirs"),
        });
    }
    Ok(Some((about, out)))
}

/// `upstream resolve PATH --ours|--theirs` on the working files: applies the
/// side recorded in [`MERGE_FILE`] and drops the conflict from it (the file
/// goes when the last one is resolved). Returns the new files.
pub fn resolve_files(
    files: &PackageFiles,
    path: &str,
    side: Side,
) -> Result<PackageFiles, MergeError> {
    let (about, mut conflicts) =
        read_merge_file(files)?.ok_or_else(|| MergeError::NoSuchConflict { path: path.into() })?;
    let i = conflicts
        .iter()
        .position(|c| c.path == path)
        .ok_or_else(|| MergeError::NoSuchConflict { path: path.into() })?;
    let mut out = files.clone();
    apply(&mut out, &conflicts[i], side)?;
    conflicts.remove(i);
    out.remove(MERGE_FILE);
    if !conflicts.is_empty() {
        out.insert(
            MERGE_FILE.into(),
            write_merge_file(&about, &conflicts).into_bytes(),
        );
    }
    Ok(out)
}

/// For `validate` and publish: an error per conflict still open in the
/// working files.
pub fn check_no_open_conflicts(files: &PackageFiles) -> Vec<Diagnostic> {
    match read_merge_file(files) {
        Ok(None) => Vec::new(),
        Ok(Some((_, conflicts))) => conflicts
            .iter()
            .map(|c| {
                Diagnostic::error(
                    "merge.open_conflict",
                    MERGE_FILE,
                    format!("the merge left a conflict open: {c}"),
                )
                .with_suggestion(format!(
                    "gemeinwerk upstream resolve {} --ours (or --theirs), or edit {} and delete the entry",
                    c.path, c.file
                ))
            })
            .collect(),
        Err(e) => vec![Diagnostic::error(e.code(), MERGE_FILE, e.to_string())],
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;
    use crate::package::content::{check_with, parse_content, Content, DependencyContent};
    use crate::package::manifest::parse_manifest;

    const MANIFEST: &str = "[package]\nname = \"kassel/p\"\nversion = \"1.0.0\"\nkind = \"form\"\ndescription = \"x\"\nlicense = \"EUPL-1.2\"\nthemenfeld = \"querschnitt\"\nkeywords = [\"a\"]\n";
    const FORM: &str = "[form]\ntitle = \"T\"\nvertrauensniveau = \"niedrig\"\n\n[codelist.zone]\nlabel = \"Zonen\"\ncodes = [\n  { code = \"A\", label = \"Zone A\" },\n  { code = \"B\", label = \"Zone B\" },\n]\n\n[[field]]\nid = \"zone\"\ntype = \"select\"\nlabel = \"Zone\"\ncodelist = \"zone\"\n\n[[group]]\nid = \"g\"\nlabel = \"G\"\n\n[[group.field]]\nid = \"x\"\ntype = \"text\"\nlabel = \"X\"\nhelp = \"Hilfe\"\nexamples = [\"a\"]\n\n[[field]]\nid = \"y\"\ntype = \"text\"\nlabel = \"Y\"\n";

    fn pkg(manifest: &str, form: &str) -> PackageFiles {
        let mut f = PackageFiles::new();
        f.insert(MANIFEST_FILE.into(), manifest.as_bytes().to_vec());
        f.insert("form.toml".into(), form.as_bytes().to_vec());
        f
    }

    fn form_of(files: &PackageFiles) -> Content {
        let text = std::str::from_utf8(&files["form.toml"]).unwrap();
        parse_content(PackageKind::Form, text).unwrap_or_else(|e| panic!("{text}\n{e:?}"))
    }

    /// `same` must answer exactly what comparing canonical texts answers.
    #[test]
    fn comparing_without_texts_agrees_with_canonical_texts() {
        let docs = [
            "x = \"a\"",
            "x = \"b\"",
            "x = 3",
            "x = 3.0",
            "x = [\"a\", \"b\"]",
            "x = [\"b\", \"a\"]",
            "x = { a = 1, b = \"z\" }",
            "x = { b = \"z\", a = 1 }",
            "[x]\na = 1\nb = \"z\"",
            "[x]\na = 1",
            "[[x]]\na = 1\n[[x]]\nb = 2",
            "x = [{ a = 1 }, { b = 2 }]",
            "amount = \"12,50\"",
            "amount = 12.5",
            "amount = \"12.50\"",
            "amount = 12",
            "shown-when = \"a == 'x'\"",
            "shown-when = \"(a=='x')\"",
            "shown-when = \"a != 'x'\"",
            "occurs = \"0..1\"",
            "vertrauensniveau = \"Hoch\"",
            "vertrauensniveau = \"hoch\"",
        ];
        let items: Vec<(String, Item)> = docs
            .iter()
            .map(|d| {
                let doc: DocumentMut = d.parse().unwrap();
                let (k, v) = doc.as_table().iter().next().unwrap();
                (k.to_string(), v.clone())
            })
            .collect();
        let mut equal_pairs = 0;
        for (ka, a) in &items {
            for (kb, b) in &items {
                if ka != kb {
                    continue;
                }
                let by_text = canon_of(ka, a) == canon_of(kb, b);
                assert_eq!(same_item(ka, a, b), by_text, "{ka}: {a} vs {b}");
                equal_pairs += usize::from(by_text);
            }
        }
        // Beside each item with itself: 3 == 3.0, the two inline tables, the
        // inline table and the table, the array of tables and the array of
        // inline tables, three amounts, two conditions, two trust levels.
        assert!(equal_pairs > items.len() + 10, "{equal_pairs}");
    }

    fn three(ours: &str, theirs: &str) -> MergeResult {
        merge(
            &pkg(MANIFEST, FORM),
            &pkg(MANIFEST, ours),
            &pkg(MANIFEST, theirs),
        )
        .unwrap()
    }

    fn paths(r: &MergeResult) -> Vec<&str> {
        r.conflicts.iter().map(|c| c.path.as_str()).collect()
    }

    #[test]
    fn disjoint_changes_merge() {
        let ours = FORM.replace("label = \"Y\"", "label = \"Ypsilon\"");
        let theirs = FORM.replace("help = \"Hilfe\"", "help = \"Bessere Hilfe\"")
            + "\n[[field]]\nid = \"neu\"\ntype = \"boolean\"\nlabel = \"Neu\"\n";
        let r = three(&ours, &theirs);
        assert!(r.is_clean(), "{:?}", r.conflicts);
        let text = std::str::from_utf8(&r.files["form.toml"]).unwrap();
        assert!(
            text.contains("Ypsilon")
                && text.contains("Bessere Hilfe")
                && text.contains("id = \"neu\""),
            "{text}"
        );
        assert_eq!(r.taken, ["field:g.x/help", "field:neu"]);
        form_of(&r.files);
    }

    #[test]
    fn the_same_change_on_both_sides_is_no_conflict() {
        let both = FORM.replace("label = \"Y\"", "label = \"Ypsilon\"");
        let r = three(&both, &both);
        assert!(r.is_clean());
        assert!(r.taken.is_empty());
        // Also when only the spelling of a condition differs.
        let o = FORM.replace(
            "label = \"Y\"\n",
            "label = \"Y\"\nshown-when = \"zone == 'A'\"\n",
        );
        let t = FORM.replace(
            "label = \"Y\"\n",
            "label = \"Y\"\nshown-when = \"(zone=='A')\"\n",
        );
        assert!(three(&o, &t).is_clean());
    }

    #[test]
    fn different_changes_of_one_property_conflict() {
        let o = FORM.replace("label = \"Y\"", "label = \"Ypsilon\"");
        let t = FORM.replace("label = \"Y\"", "label = \"Why\"");
        let mut r = three(&o, &t);
        assert_eq!(paths(&r), ["field:y/label"]);
        let c = &r.conflicts[0];
        assert_eq!(
            (c.base.as_deref(), c.ours.as_deref(), c.theirs.as_deref()),
            (Some("\"Y\""), Some("\"Ypsilon\""), Some("\"Why\""))
        );
        assert_eq!(c.kind, ConflictKind::Value);
        let mut r2 = r.clone();
        r.resolve("field:y/label", Side::Theirs).unwrap();
        r2.resolve("field:y/label", Side::Ours).unwrap();
        assert!(std::str::from_utf8(&r.files["form.toml"])
            .unwrap()
            .contains("label = \"Why\""));
        assert!(std::str::from_utf8(&r2.files["form.toml"])
            .unwrap()
            .contains("label = \"Ypsilon\""));
        assert!(r.is_clean() && r2.is_clean());
        assert_eq!(
            r.resolve("field:y/label", Side::Ours).unwrap_err().code(),
            "merge.no_such_conflict"
        );
    }

    #[test]
    fn deleted_on_one_side_changed_on_the_other_conflicts() {
        let without_y = FORM.replace(
            "\n[[field]]\nid = \"y\"\ntype = \"text\"\nlabel = \"Y\"\n",
            "",
        );
        let y_changed = FORM.replace("label = \"Y\"", "label = \"Ypsilon\"");
        let mut r = three(&without_y, &y_changed);
        assert_eq!(paths(&r), ["field:y"]);
        assert_eq!(r.conflicts[0].kind, ConflictKind::Element);
        assert_eq!(r.conflicts[0].ours, None);
        r.resolve("field:y", Side::Theirs).unwrap();
        let Content::Form(f) = form_of(&r.files) else {
            unreachable!()
        };
        assert_eq!(f.body.items.last().unwrap().id(), "y");
        // The other way round: upstream deleted what we changed.
        let r = three(&y_changed, &without_y);
        assert_eq!(paths(&r), ["field:y"]);
        // Deleted upstream, untouched here: deleted.
        let r = three(FORM, &without_y);
        assert!(r.is_clean());
        assert_eq!(r.taken, ["field:y"]);
        // Deleting a group while the other side changed a field in it.
        let without_g = FORM.replace("[[group]]\nid = \"g\"\nlabel = \"G\"\n\n[[group.field]]\nid = \"x\"\ntype = \"text\"\nlabel = \"X\"\nhelp = \"Hilfe\"\nexamples = [\"a\"]\n\n", "");
        let x_changed = FORM.replace("label = \"X\"", "label = \"Iks\"");
        assert_eq!(paths(&three(&without_g, &x_changed)), ["group:g"]);
    }

    #[test]
    fn codes_merge_one_by_one() {
        let o = FORM.replace(
            "{ code = \"B\", label = \"Zone B\" },\n",
            "{ code = \"B\", label = \"Zone B\" },\n  { code = \"C\", label = \"Zone C\" },\n",
        );
        let t = FORM.replace("label = \"Zone A\"", "label = \"Zone A – Mitte\"");
        let r = three(&o, &t);
        assert!(r.is_clean(), "{:?}", r.conflicts);
        let Content::Form(f) = form_of(&r.files) else {
            unreachable!()
        };
        assert_eq!(f.body.codelists[0].codes, ["A", "B", "C"]);
        assert_eq!(f.body.codelists[0].inline()[0].label, "Zone A – Mitte");
        let o2 = FORM.replace("label = \"Zone A\"", "label = \"Zone A – Nord\"");
        let mut r = three(&o2, &t);
        assert_eq!(paths(&r), ["code:zone#A/label"]);
        r.resolve("code:zone#A/label", Side::Theirs).unwrap();
        let Content::Form(f) = form_of(&r.files) else {
            unreachable!()
        };
        assert_eq!(f.body.codelists[0].inline()[0].label, "Zone A – Mitte");
    }

    #[test]
    fn word_lists_combine_and_manifest_keys_merge() {
        let o = FORM.replace("examples = [\"a\"]", "examples = [\"a\", \"b\"]");
        let t = FORM.replace("examples = [\"a\"]", "examples = [\"c\"]");
        let r = three(&o, &t);
        assert!(r.is_clean());
        let Content::Form(f) = form_of(&r.files) else {
            unreachable!()
        };
        let crate::package::model::Item::Group(g) = &f.body.items[1] else {
            unreachable!()
        };
        let crate::package::model::Item::Field(x) = &g.items[0] else {
            unreachable!()
        };
        assert_eq!(x.examples, ["b", "c"]);

        let ours_m = MANIFEST
            .replace("kassel/p", "darmstadt/p")
            .replace("description = \"x\"", "description = \"Darmstadt\"")
            + "\n[forked-from]\npackage = \"kassel/p\"\nversion = \"1.0.0\"\n";
        let theirs_m = MANIFEST.replace("\"1.0.0\"", "\"1.1.0\"").replace(
            "keywords = [\"a\"]",
            "keywords = [\"a\", \"b\"]\nleika = \"99050012104000\"",
        ) + "\n[dependencies]\n\"fim/x\" = \"^1\"\n";
        let r = merge(
            &pkg(MANIFEST, FORM),
            &pkg(&ours_m, FORM),
            &pkg(&theirs_m, FORM),
        )
        .unwrap();
        assert!(r.is_clean(), "{:?}", r.conflicts);
        let (m, _) = parse_manifest(std::str::from_utf8(&r.files[MANIFEST_FILE]).unwrap()).unwrap();
        assert_eq!(m.full_name(), "darmstadt/p");
        assert_eq!(m.version.to_string(), "1.0.0");
        assert_eq!(m.description, "Darmstadt");
        assert_eq!(m.keywords, ["a", "b"]);
        assert_eq!(m.leika.as_deref(), Some("99050012104000"));
        assert_eq!(m.dependencies[0].full_name(), "fim/x");
        assert_eq!(m.forked_from.unwrap().version.to_string(), "1.0.0");
        let theirs_m2 = MANIFEST.replace("description = \"x\"", "description = \"Kassel\"");
        let r = merge(
            &pkg(MANIFEST, FORM),
            &pkg(&ours_m, FORM),
            &pkg(&theirs_m2, FORM),
        )
        .unwrap();
        assert_eq!(paths(&r), ["manifest/description"]);
    }

    #[test]
    fn processes_merge_by_state_transition_fee_and_role() {
        let base = "[process]\ntitle = \"P\"\n\n[roles]\nsb = \"SB\"\n\n[[state]]\nid = \"a\"\nlabel = \"A\"\nstart = true\n\n[[state]]\nid = \"b\"\nlabel = \"B\"\nend = \"bewilligt\"\n\n[[transition]]\nid = \"t\"\nfrom = \"a\"\nto = \"b\"\nrole = \"sb\"\naction = \"bescheiden\"\n\n[[fee]]\nid = \"g\"\nlabel = \"G\"\namount = \"30.70\"\nlegal-basis = \"X\"\non = \"t\"\n";
        let m = MANIFEST.replace("\"form\"", "\"process\"");
        let p = |s: &str| {
            let mut f = PackageFiles::new();
            f.insert(MANIFEST_FILE.into(), m.as_bytes().to_vec());
            f.insert("process.toml".into(), s.as_bytes().to_vec());
            f
        };
        let ours = base
            .replace("\"30.70\"", "\"25,00\"")
            .replace("sb = \"SB\"", "sb = \"Sachbearbeitung\"");
        let theirs = base
            .replace("label = \"B\"", "label = \"Bewilligt\"")
            .replace("legal-basis = \"X\"", "legal-basis = \"GebOSt\"")
            + "\n[[notice]]\nid = \"bescheid\"\nlabel = \"Bescheid\"\non = \"t\"\n";
        let r = merge(&p(base), &p(&ours), &p(&theirs)).unwrap();
        assert!(r.is_clean(), "{:?}", r.conflicts);
        let text = std::str::from_utf8(&r.files["process.toml"]).unwrap();
        let Content::Process(pr) = parse_content(PackageKind::Process, text).unwrap() else {
            unreachable!()
        };
        assert_eq!(pr.fees[0].amount_cents, 2500);
        assert_eq!(pr.fees[0].legal_basis.as_deref(), Some("GebOSt"));
        assert_eq!(pr.roles[0].label, "Sachbearbeitung");
        assert_eq!(pr.states[1].label.as_ref().unwrap().de, "Bewilligt");
        assert_eq!(pr.notices.len(), 1);
        // "30,70" and "30.70" are the same amount.
        let same = base.replace("\"30.70\"", "\"30,70\"");
        let r = merge(&p(base), &p(&same), &p(&base.replace("\"30.70\"", "30.7"))).unwrap();
        assert!(r.is_clean() && r.taken.is_empty());
        let t2 = base.replace("\"30.70\"", "\"31.00\"");
        assert_eq!(
            paths(&merge(&p(base), &p(&ours), &p(&t2)).unwrap()),
            ["fee:g/amount"]
        );
    }

    #[test]
    fn comments_of_ours_are_kept() {
        let o = format!(
            "# Darmstadts Fassung\n{}",
            FORM.replace("label = \"Y\"", "label = \"Y\" # geändert")
        );
        let t = FORM.replace("help = \"Hilfe\"", "help = \"Neu\"");
        let r = three(&o, &t);
        let text = std::str::from_utf8(&r.files["form.toml"]).unwrap();
        assert!(text.starts_with("# Darmstadts Fassung\n"), "{text}");
        assert!(text.contains("# geändert"), "{text}");
    }

    // ------------------------------------------------------------------
    // The story of issue 5 on the demo packages.

    fn read_dir(name: &str) -> PackageFiles {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("demo")
            .join(name);
        let mut files = PackageFiles::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            files.insert(
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            );
        }
        files
    }

    fn edit(files: &mut PackageFiles, file: &str, from: &str, to: &str) {
        let text = String::from_utf8(files[file].clone()).unwrap();
        assert!(text.contains(from), "{from}");
        files.insert(file.into(), text.replacen(from, to, 1).into_bytes());
    }

    fn darmstadt_fork(base: &PackageFiles) -> PackageFiles {
        let mut d = base.clone();
        edit(
            &mut d,
            MANIFEST_FILE,
            "kassel/bewohnerparkausweis",
            "darmstadt/bewohnerparkausweis",
        );
        edit(
            &mut d,
            MANIFEST_FILE,
            "der Stadt Kassel",
            "der Wissenschaftsstadt Darmstadt",
        );
        let t = String::from_utf8(d[MANIFEST_FILE].clone()).unwrap()
            + "\n[forked-from]\npackage = \"kassel/bewohnerparkausweis\"\nversion = \"1.0.0\"\n";
        d.insert(MANIFEST_FILE.into(), t.into_bytes());
        let f = "form.toml";
        // The zones of Darmstadt.
        edit(
            &mut d,
            f,
            "Bewohnerparkzonen in Kassel",
            "Bewohnerparkzonen in Darmstadt",
        );
        edit(
            &mut d,
            f,
            "Zone A – Innenstadt / Friedrich-Ebert-Straße",
            "Zone A – Martinsviertel",
        );
        edit(&mut d, f, "  { code = \"D\", label = \"Zone D – Nord-Holland\" },\n  { code = \"E\", label = \"Zone E – Südstadt\" },\n", "  { code = \"D\", label = \"Zone D – Johannesviertel\" },\n");
        // The fee.
        edit(&mut d, f, "ein Jahr (30,70 €)", "ein Jahr (25,00 €)");
        edit(&mut d, f, "zwei Jahre (61,40 €)", "zwei Jahre (50,00 €)");
        // The label that Kassel changes too, differently.
        edit(
            &mut d,
            f,
            "label = \"Parkzone\"",
            "label = \"Parkzone in Darmstadt\"",
        );
        edit(
            &mut d,
            f,
            "die Stadt Kassel meine Angaben",
            "die Wissenschaftsstadt Darmstadt meine Angaben",
        );
        d
    }

    fn demo_deps() -> DependencyContent {
        let mut packages = BTreeMap::new();
        for dir in [
            "fim-natuerliche-person",
            "fim-anschrift-inland",
            "fim-fahrzeug",
        ] {
            let files = read_dir(dir);
            let (m, _) =
                parse_manifest(std::str::from_utf8(&files[MANIFEST_FILE]).unwrap()).unwrap();
            let text = std::str::from_utf8(&files[m.kind.content_file()]).unwrap();
            packages.insert(m.full_name(), parse_content(m.kind, text).unwrap());
        }
        DependencyContent::resolved(packages)
    }

    fn validates(files: &PackageFiles) -> Content {
        let (m, _) = parse_manifest(std::str::from_utf8(&files[MANIFEST_FILE]).unwrap()).unwrap();
        let (content, found) = check_with(&m, files, &demo_deps());
        let errors: Vec<String> = found
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
        content.unwrap()
    }

    #[test]
    fn darmstadt_merges_kassel_1_1_0() {
        let base = read_dir("kassel-bewohnerparkausweis");
        let theirs = read_dir("kassel-bewohnerparkausweis-1.1.0");
        let ours = darmstadt_fork(&base);
        validates(&ours);
        let r = merge(&base, &ours, &theirs).unwrap();
        // Exactly the one label conflict.
        assert_eq!(paths(&r), ["field:parkzone/label"]);
        let c = &r.conflicts[0];
        assert_eq!(c.base.as_deref(), Some("\"Parkzone\""));
        assert_eq!(c.ours.as_deref(), Some("\"Parkzone in Darmstadt\""));
        assert_eq!(c.theirs.as_deref(), Some("\"Bewohnerparkzone\""));
        // Upstream's disjoint changes are in, Darmstadt's stay.
        for p in [
            "field:fahrzeug.kennzeichen/help",
            "field:fahrzeug.kennzeichen/pattern",
            "field:fahrzeug.kennzeichen/examples",
            "field:fahrzeug.zweitfahrzeug",
            "file:README.md",
        ] {
            assert!(r.taken.iter().any(|t| t == p), "{p} in {:?}", r.taken);
        }
        let text = std::str::from_utf8(&r.files["form.toml"]).unwrap();
        assert!(text.contains("Zone A – Martinsviertel") && !text.contains("Zone E"));
        assert!(text.contains("ein Jahr (25,00 €)"));
        assert!(text.contains("[1-9][0-9]{0,3}[EH]?"));
        assert!(text.contains("eingeben."));
        let (m, _) = parse_manifest(std::str::from_utf8(&r.files[MANIFEST_FILE]).unwrap()).unwrap();
        assert_eq!(m.full_name(), "darmstadt/bewohnerparkausweis");

        // The working folder lists the conflict; resolving it there works too.
        let about = MergeInfo {
            upstream: "kassel/bewohnerparkausweis".into(),
            base: "1.0.0".into(),
            theirs: "1.1.0".into(),
        };
        let work = r.working_files(&about);
        let open = check_no_open_conflicts(&work);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].code, "merge.open_conflict");
        let merge_file = std::str::from_utf8(&work[MERGE_FILE]).unwrap();
        assert!(
            merge_file.contains("theirs = \"Bewohnerparkzone\""),
            "{merge_file}"
        );
        let (_, listed) = read_merge_file(&work).unwrap().unwrap();
        assert_eq!(listed, r.conflicts);
        let resolved = resolve_files(&work, "field:parkzone/label", Side::Theirs).unwrap();
        assert!(!resolved.contains_key(MERGE_FILE));
        assert!(check_no_open_conflicts(&resolved).is_empty());

        for side in [Side::Ours, Side::Theirs] {
            let mut r = r.clone();
            r.resolve("field:parkzone/label", side).unwrap();
            assert!(r.is_clean());
            let Content::Form(f) = validates(&r.files) else {
                unreachable!()
            };
            let label = f.body.items.iter().find_map(|i| match i {
                crate::package::model::Item::Field(x) if x.id == "parkzone" => x.label.clone(),
                _ => None,
            });
            let want = if side == Side::Ours {
                "Parkzone in Darmstadt"
            } else {
                "Bewohnerparkzone"
            };
            assert_eq!(label.unwrap().de, want);
            assert_eq!(f.body.codelists[0].codes, ["A", "B", "C", "D"]);
        }
        let Content::Form(f) = validates(&resolved) else {
            unreachable!()
        };
        let crate::package::model::Item::Group(g) = &f.body.items[4] else {
            panic!("{:?}", f.body.items[4].id())
        };
        assert_eq!(g.items.last().unwrap().id(), "zweitfahrzeug");
    }
}
