//! Resolving conflicts: applying a side, and the merge file that lists
//! the open conflicts in the working folder.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, Value};

use super::compare::value_text;
use super::layout::{place, subtree_max};
use super::merger::{find_mut, id_ref, push_table, remove_table};
use super::{parse, Conflict, ConflictKind, MergeError, MergeInfo, Side, MERGE_FILE};
use crate::diagnostics::{Diagnostic, Hint};
use crate::PackageFiles;

/// Applies one side of a conflict to the files.
pub(super) fn apply(files: &mut PackageFiles, c: &Conflict, side: Side) -> Result<(), MergeError> {
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
    let root = doc.as_table_mut();
    match c.kind {
        ConflictKind::Value if c.path.starts_with("code:") => set_code_value(root, c, text)?,
        ConflictKind::Value => set_value(root, c, text)?,
        ConflictKind::Element => {
            let (prefix, rest) = c.path.split_once(':').ok_or_else(|| not_found(c))?;
            match prefix {
                "code" => set_code(root, c, rest, text)?,
                "codelist" => {
                    let lists = root
                        .get_mut("codelist")
                        .and_then(Item::as_table_mut)
                        .ok_or_else(|| not_found(c))?;
                    set_entry(lists, rest, text.as_deref()).map_err(|e| bad(c, e))?;
                }
                _ => set_element(root, c, prefix, rest, text)?,
            }
        }
        ConflictKind::File => unreachable!("handled above"),
    }
    files.insert(c.file.clone(), doc.to_string().into_bytes());
    Ok(())
}

fn not_found(c: &Conflict) -> MergeError {
    MergeError::PathNotFound {
        path: c.path.clone(),
        file: c.file.clone(),
    }
}

/// A side's text that is no TOML: the merge file was edited by hand.
fn bad(c: &Conflict, e: String) -> MergeError {
    MergeError::Toml {
        file: MERGE_FILE.into(),
        message: format!("{}: {e}", c.path),
    }
}

fn parse_value(c: &Conflict, text: &str) -> Result<Value, MergeError> {
    text.parse()
        .map_err(|e: toml_edit::TomlError| bad(c, e.message().to_string()))
}

/// The inline array of codes of the code list `list`.
fn codes_mut<'t>(
    root: &'t mut Table,
    c: &Conflict,
    list: &str,
) -> Result<&'t mut toml_edit::Array, MergeError> {
    root.get_mut("codelist")
        .and_then(|l| l.get_mut(list))
        .and_then(|l| l.get_mut("codes"))
        .and_then(Item::as_array_mut)
        .ok_or_else(|| not_found(c))
}

/// `code:LIST#CODE/KEY`: one property of one code.
fn set_code_value(root: &mut Table, c: &Conflict, text: Option<String>) -> Result<(), MergeError> {
    let (elem, key) = c.path["code:".len()..]
        .rsplit_once('/')
        .ok_or_else(|| not_found(c))?;
    let (list, code) = elem.split_once('#').ok_or_else(|| not_found(c))?;
    let entry = codes_mut(root, c, list)?
        .iter_mut()
        .filter_map(Value::as_inline_table_mut)
        .find(|t| t.get("code").and_then(Value::as_str) == Some(code))
        .ok_or_else(|| not_found(c))?;
    match text {
        None => {
            entry.remove(key);
        }
        Some(t) => {
            entry.insert(key, parse_value(c, &t)?.decorated(" ", " "));
        }
    }
    Ok(())
}

/// One value of a table or element.
fn set_value(root: &mut Table, c: &Conflict, text: Option<String>) -> Result<(), MergeError> {
    let (table, key) = locate_value(root, &c.path).ok_or_else(|| not_found(c))?;
    match text {
        None => {
            table.remove(&key);
        }
        Some(t) => {
            let v = parse_value(c, &t)?.decorated(" ", "");
            table.insert(&key, Item::Value(v));
        }
    }
    Ok(())
}

/// `code:LIST#CODE`: a whole code, replaced in place or added at the end
/// in the layout of the first one.
fn set_code(
    root: &mut Table,
    c: &Conflict,
    rest: &str,
    text: Option<String>,
) -> Result<(), MergeError> {
    let (list, code) = rest.split_once('#').ok_or_else(|| not_found(c))?;
    let arr = codes_mut(root, c, list)?;
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
            let mut v = parse_value(c, &t)?;
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
    Ok(())
}

/// A whole element (field, group, state …): removed, and the side's text
/// put where the element was, or at the end of its container.
fn set_element(
    root: &mut Table,
    c: &Conflict,
    prefix: &str,
    rest: &str,
    text: Option<String>,
) -> Result<(), MergeError> {
    let (container, array, id) =
        locate_container(root, prefix, rest).ok_or_else(|| not_found(c))?;
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
            .map_err(|e: toml_edit::TomlError| bad(c, e.message().to_string()))?;
        let mut t = doc.as_table().clone();
        t.set_implicit(false);
        place(&mut t, at);
        push_table(container, &array, t);
    }
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
                ).arg("conflict", c)
                .arg("path", &c.path)
                .arg("file", &c.file)
                // An absent side is the keyword `deleted`, which no TOML
                // value text is, so that a client can word it.
                .arg("base", c.base.as_deref().unwrap_or("deleted"))
                .arg("ours", c.ours.as_deref().unwrap_or("deleted"))
                .arg("theirs", c.theirs.as_deref().unwrap_or("deleted"))
                .with_suggestion(
                    Hint::new(
                        "resolve-conflict",
                        format!(
                            "gemeinwerk upstream resolve {} --ours (or --theirs), or edit {} and delete the entry",
                            c.path, c.file
                        ),
                    )
                    .arg("path", &c.path)
                    .arg("file", &c.file),
                )
            })
            .collect(),
        Err(e) => vec![e.to_diagnostic(MERGE_FILE)],
    }
}
