//! Code list packages (`codelist.toml`): a code list published on its own,
//! versioned like every package, that forms use by depending on it. Most
//! come from the XRepository through `gemeinwerk import genericode`, which
//! keeps every column of the genericode file; a municipality may also write
//! its own (the zones of its resident parking).
//!
//! ```toml
//! [codelist]
//! label = "Bundesland"
//! canonical-uri = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland"
//! source-version = "2010-04-01"
//! key = "Schluessel"
//! label-column = "Bundesland"
//!
//! [[column]]
//! id = "Schluessel"
//! type = "string"
//! required = true
//!
//! [[column]]
//! id = "Bundesland"
//! type = "string"
//! lang = "de"
//!
//! [[column]]
//! id = "Kuerzel"
//!
//! [[code]]
//! code = "01"
//! label = "Schleswig-Holstein"
//! values = { Kuerzel = "SH" }
//! ```
//!
//! Each `[[code]]` has the value of the key column as `code`, the value of
//! the label column as `label`, and the other columns under `values` by
//! column id. Without `[[column]]` the list has the two columns `code` and
//! `label`.

use toml::Spanned;

use super::diagnostics::{line_column, Hint, Subject, SubjectKind};
use super::spanned::{Node, Seen, Sink, Suggest, Table};

#[derive(Debug, Clone, PartialEq)]
pub struct CodelistPackage {
    pub label: String,
    /// genericode's `ShortName`, when it is not the label.
    pub short_name: Option<String>,
    pub description: Option<String>,
    /// The list's identity outside the registry (genericode's
    /// `CanonicalUri`); an import of a form finds the package by it.
    pub canonical_uri: Option<String>,
    /// The list's own version (genericode's `Version`): a date or a number,
    /// not semver.
    pub source_version: Option<String>,
    pub canonical_version_uri: Option<String>,
    pub agency: Option<String>,
    /// `YYYY-MM-DD`.
    pub valid_from: Option<String>,
    /// The id of the column whose values are the codes.
    pub key: String,
    /// The id of the column whose values are the labels, if there is one.
    pub label_column: Option<String>,
    pub columns: Vec<ListColumn>,
    pub codes: Vec<ListCode>,
    /// The codes alone, in order: what the checks of a form compare a
    /// default or a condition with.
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListColumn {
    pub id: String,
    pub name: Option<String>,
    pub long_name: Option<String>,
    /// The XML Schema data type of genericode (`string`, `date`, …).
    pub data_type: Option<String>,
    pub lang: Option<String>,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListCode {
    pub code: String,
    pub label: Option<String>,
    /// The values of the other columns, by column id, in column order.
    pub values: Vec<(String, String)>,
    pub at: usize,
}

impl CodelistPackage {
    /// The columns when `[[column]]` is not given.
    pub fn default_columns() -> Vec<ListColumn> {
        let column = |id: &str| ListColumn {
            id: id.into(),
            name: None,
            long_name: None,
            data_type: Some("string".into()),
            lang: None,
            required: true,
        };
        vec![column("code"), column("label")]
    }

    pub fn code(&self, code: &str) -> Option<&ListCode> {
        self.codes.iter().find(|c| c.code == code)
    }

    /// Whether the columns are the implied `code` and `label`, so that the
    /// file need not list them.
    pub fn has_default_columns(&self) -> bool {
        self.key == "code"
            && self.label_column.as_deref() == Some("label")
            && self.columns == Self::default_columns()
    }
}

const FILE_KEYS: [&str; 3] = ["codelist", "column", "code"];
const KEYS: [&str; 10] = [
    "label",
    "description",
    "canonical-uri",
    "source-version",
    "canonical-version-uri",
    "agency",
    "valid-from",
    "key",
    "label-column",
    "short-name",
];
const COLUMN_KEYS: [&str; 6] = ["id", "name", "long-name", "type", "lang", "required"];
const CODE_KEYS: [&str; 3] = ["code", "label", "values"];

pub fn read(sink: &mut Sink) -> Option<CodelistPackage> {
    let root = match sink.parse_root() {
        Ok(r) => r,
        Err(d) => {
            sink.found.push(d);
            return None;
        }
    };
    let mut top = Table::new(&root, Subject::new(SubjectKind::File, "codelist.toml"))
        .expect("the root is a table");
    let mut list = CodelistPackage {
        label: String::new(),
        short_name: None,
        description: None,
        canonical_uri: None,
        source_version: None,
        canonical_version_uri: None,
        agency: None,
        valid_from: None,
        key: "code".into(),
        label_column: Some("label".into()),
        columns: Vec::new(),
        codes: Vec::new(),
        keys: Vec::new(),
    };
    let mut key_at = 0;
    match top.take("codelist") {
        None => {
            sink.error(
                "codelist.missing_table",
                0,
                "codelist.toml has no [codelist] table",
            )
            .suggest(Hint::new(
                "start-codelist",
                "start with [codelist] and label = \"…\"",
            ));
        }
        Some(node) => {
            if let Some(mut t) =
                Table::expect(node, Subject::new(SubjectKind::Table, "codelist"), sink)
            {
                if let Some(l) = t.required_string("label", sink) {
                    list.label = l.into_inner();
                }
                let text = |t: &mut Table, k: &str, sink: &mut Sink| {
                    t.string(k, sink).map(Spanned::into_inner)
                };
                list.description = text(&mut t, "description", sink);
                list.canonical_uri = t.string("canonical-uri", sink).map(|u| uri(u, sink));
                list.source_version = text(&mut t, "source-version", sink);
                list.canonical_version_uri = t
                    .string("canonical-version-uri", sink)
                    .map(|u| uri(u, sink));
                list.agency = text(&mut t, "agency", sink);
                list.valid_from = t.string("valid-from", sink).map(|d| date(d, sink));
                list.short_name = text(&mut t, "short-name", sink);
                if let Some(k) = t.string("key", sink) {
                    key_at = k.span().start;
                    list.key = k.into_inner();
                }
                if let Some(l) = t.string("label-column", sink) {
                    list.label_column = Some(l.into_inner()).filter(|l| !l.is_empty());
                }
                key_at = key_at.max(t.at);
                t.finish(&KEYS, sink);
            }
        }
    }
    let column_tables = top.tables("column", sink);
    list.columns = if column_tables.is_empty() {
        CodelistPackage::default_columns()
    } else {
        read_columns(&column_tables, sink)
    };
    let ids: Vec<&str> = list.columns.iter().map(|c| c.id.as_str()).collect();
    // With the key or label in an undeclared column, every code would also
    // lack a value: one error says it.
    let mut columns_ok = true;
    for (role, id) in [
        ("key", Some(&list.key)),
        ("label-column", list.label_column.as_ref()),
    ] {
        if let Some(id) = id.filter(|id| !ids.contains(&id.as_str())) {
            columns_ok = false;
            sink.error(
                "codelist.unknown_column",
                key_at,
                format!("\"{role}\" names the column \"{id}\", which [[column]] does not declare"),
            )
            .set_arg("column", id)
            .suggest(Hint::choices("known-columns", "declared columns", &ids));
        }
    }
    let others: Vec<&ListColumn> = list
        .columns
        .iter()
        .filter(|c| c.id != list.key && Some(&c.id) != list.label_column.as_ref())
        .collect();
    let code_tables = top.tables("code", sink);
    top.finish(&FILE_KEYS, sink);
    if code_tables.is_empty() && !sink.has_errors() {
        sink.error("codelist.empty", 0, "the code list has no codes")
            .set_arg("variant", "no_codes")
            .set_subject(&Subject::new(SubjectKind::Codelist, &list.label));
    }
    let what = Subject::new(SubjectKind::Codelist, &list.label);
    let required = |id: &str| list.columns.iter().any(|c| c.id == id && c.required);
    let label_required = list.label_column.as_deref().is_some_and(required);
    let mut seen = Seen::new();
    for node in code_tables {
        let Some(mut t) = Table::expect(node, Subject::new(SubjectKind::Code, &list.label), sink)
        else {
            continue;
        };
        let code = t.required_string("code", sink);
        let label = t.string("label", sink);
        let values = t
            .take("values")
            .map(|v| read_values(v, &others, sink))
            .unwrap_or_default();
        let at = t.at;
        t.finish(&CODE_KEYS, sink);
        let Some(code) = code else { continue };
        if code.get_ref().trim().is_empty() {
            sink.error(
                "codelist.empty_code",
                code.span().start,
                format!("{what} has an empty code"),
            )
            .set_subject(&what);
            continue;
        }
        if let Some(first) = seen.insert(code.get_ref().clone(), code.span().start) {
            super::codelist::duplicate_code(&code, first, &what, sink);
            continue;
        }
        if label.is_some() && list.label_column.is_none() {
            sink.error(
                "codelist.label_without_column",
                at,
                format!(
                    "code \"{}\" has a label, but the list has no label column",
                    code.get_ref()
                ),
            )
            .set_arg("code", code.get_ref());
        }
        let missing = others
            .iter()
            .filter(|c| c.required && !values.iter().any(|(id, _)| *id == c.id))
            .map(|c| c.id.as_str())
            .chain(
                list.label_column
                    .as_deref()
                    .filter(|_| label_required && label.is_none()),
            )
            .filter(|_| columns_ok);
        for column in missing.collect::<Vec<_>>() {
            sink.error(
                "codelist.missing_value",
                at,
                format!(
                    "code \"{}\" has no value for the required column \"{column}\"",
                    code.get_ref()
                ),
            )
            .set_arg("code", code.get_ref())
            .set_arg("column", column);
        }
        list.keys.push(code.get_ref().clone());
        list.codes.push(ListCode {
            code: code.into_inner(),
            label: label.map(Spanned::into_inner),
            values,
            at,
        });
    }
    Some(list)
}

fn read_columns(tables: &[&Spanned<Node>], sink: &mut Sink) -> Vec<ListColumn> {
    let mut seen = Seen::new();
    let mut out = Vec::new();
    for node in tables {
        let Some(mut t) = Table::expect(node, Subject::new(SubjectKind::Table, "column"), sink)
        else {
            continue;
        };
        let id = t.required_string("id", sink);
        let column = ListColumn {
            id: String::new(),
            name: t.string("name", sink).map(Spanned::into_inner),
            long_name: t.string("long-name", sink).map(Spanned::into_inner),
            data_type: t.string("type", sink).map(Spanned::into_inner),
            lang: t.string("lang", sink).map(Spanned::into_inner),
            required: t.bool("required", sink).is_some_and(Spanned::into_inner),
        };
        t.finish(&COLUMN_KEYS, sink);
        let Some(id) = id else { continue };
        if id.get_ref().trim().is_empty() {
            sink.error(
                "codelist.invalid_column",
                id.span().start,
                "a column id must not be empty",
            );
            continue;
        }
        if let Some(first) = seen.insert(id.get_ref().clone(), id.span().start) {
            let (line, _) = line_column(sink.source, first);
            sink.error(
                "codelist.duplicate_column",
                id.span().start,
                format!(
                    "the column \"{}\" is declared twice (first on line {line})",
                    id.get_ref()
                ),
            )
            .set_arg("column", id.get_ref())
            .set_arg("line", line);
            continue;
        }
        out.push(ListColumn {
            id: id.into_inner(),
            ..column
        });
    }
    out
}

/// The values of a code's other columns, in the order of the columns.
fn read_values(
    node: &Spanned<Node>,
    others: &[&ListColumn],
    sink: &mut Sink,
) -> Vec<(String, String)> {
    let Some(mut t) = Table::expect(node, Subject::new(SubjectKind::Table, "values"), sink) else {
        return Vec::new();
    };
    let ids: Vec<&str> = others.iter().map(|c| c.id.as_str()).collect();
    let mut values = Vec::new();
    for id in &ids {
        if let Some(v) = t.string(id, sink) {
            values.push((id.to_string(), v.into_inner()));
        }
    }
    // An unknown key is a column the list does not declare, or the key or
    // label column, which have their own keys.
    t.finish(&ids, sink);
    values
}

fn uri(u: Spanned<String>, sink: &mut Sink) -> String {
    let v = u.get_ref();
    let scheme_ok = v.split_once(':').is_some_and(|(s, rest)| {
        !rest.is_empty()
            && s.starts_with(|c: char| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if !scheme_ok || v.contains(char::is_whitespace) {
        sink.error(
            "codelist.invalid_uri",
            u.span().start,
            format!("\"{v}\" is not a URI"),
        )
        .set_arg("value", v)
        .suggest(Hint::new(
            "urn-example",
            "XRepository code lists are named like \"urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:staat\"",
        ));
    }
    u.into_inner()
}

fn date(d: Spanned<String>, sink: &mut Sink) -> String {
    if !is_real_date(d.get_ref()) {
        sink.error(
            "codelist.invalid_date",
            d.span().start,
            format!("\"{}\" is not a date (YYYY-MM-DD)", d.get_ref()),
        )
        .set_arg("value", d.get_ref());
    }
    d.into_inner()
}

/// `YYYY-MM-DD` with a month and a day that exist.
fn is_real_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

#[cfg(test)]
mod tests {
    use super::super::content::tests::{check_src, codes};
    use super::super::content::{parse_content, Content, DependencyContent};
    use super::super::manifest::PackageKind;
    use super::*;

    fn check(src: &str) -> Vec<String> {
        codes(&check_src(
            "codelist",
            src,
            &[],
            &DependencyContent::default(),
        ))
    }

    fn read(src: &str) -> CodelistPackage {
        match parse_content(PackageKind::Codelist, src).unwrap() {
            Content::Codelist(l) => l,
            other => panic!("{other:?}"),
        }
    }

    const ZONES: &str = "[codelist]\nlabel = \"Parkzonen\"\n\n[[code]]\ncode = \"A\"\nlabel = \"Zone A\"\n\n[[code]]\ncode = \"B\"\nlabel = \"Zone B\"\n";

    #[test]
    fn a_hand_written_list_has_the_columns_code_and_label() {
        assert!(check(ZONES).is_empty(), "{:?}", check(ZONES));
        let l = read(ZONES);
        assert_eq!(l.keys, ["A", "B"]);
        assert!(l.has_default_columns());
        assert_eq!(l.code("B").unwrap().label.as_deref(), Some("Zone B"));
        let written = crate::write::write_codelist_package(&l);
        assert!(!written.contains("[[column]]"), "{written}");
        assert_eq!(
            crate::write::without_positions(&Content::Codelist(read(&written))),
            crate::write::without_positions(&Content::Codelist(l))
        );
    }

    #[test]
    fn declared_columns_and_their_values() {
        let src = "[codelist]\nlabel = \"Bundesland\"\ncanonical-uri = \"urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland\"\nsource-version = \"2010-04-01\"\nvalid-from = \"2010-04-01\"\nkey = \"SCHLUESSEL\"\nlabel-column = \"Bezeichnung\"\n\n[[column]]\nid = \"SCHLUESSEL\"\nrequired = true\n\n[[column]]\nid = \"Bezeichnung\"\nlang = \"de\"\n\n[[column]]\nid = \"Kürzel\"\nname = \"Kürzel\"\nrequired = true\n\n[[code]]\ncode = \"06\"\nlabel = \"Hessen\"\nvalues = { \"Kürzel\" = \"HE\" }\n";
        assert!(check(src).is_empty(), "{:?}", check(src));
        let l = read(src);
        assert_eq!(l.key, "SCHLUESSEL");
        assert_eq!(
            l.codes[0].values,
            [("Kürzel".to_string(), "HE".to_string())]
        );
        assert_eq!(l.valid_from.as_deref(), Some("2010-04-01"));
    }

    /// Each bad input is refused with its own code, at its place.
    #[test]
    fn what_is_wrong_is_named() {
        let with = |extra: &str| format!("{ZONES}{extra}");
        assert_eq!(
            check("[[code]]\ncode = \"A\"\nlabel = \"A\"\n"),
            ["codelist.missing_table"]
        );
        assert_eq!(
            check("[codelist]\n[[code]]\ncode = \"A\"\nlabel = \"A\"\n"),
            ["toml.missing_key"]
        );
        assert_eq!(check("[codelist]\nlabel = \"L\"\n"), ["codelist.empty"]);
        assert_eq!(
            check(&with("[[code]]\ncode = \"A\"\nlabel = \"noch einmal\"\n")),
            ["codelist.duplicate_code"]
        );
        assert_eq!(
            check(&with("[[code]]\ncode = \" \"\nlabel = \"leer\"\n")),
            ["codelist.empty_code"]
        );
        assert_eq!(
            check(&with("[[code]]\nlabel = \"ohne Code\"\n")),
            ["toml.missing_key"]
        );
        assert_eq!(
            check(&with("[[code]]\ncode = \"C\"\n")),
            ["codelist.missing_value"]
        );
        assert_eq!(
            check(&with("[[code]]\ncode = 3\nlabel = \"Zahl\"\n")),
            ["toml.wrong_type"]
        );
        assert_eq!(
            check(&with(
                "[[code]]\ncode = \"C\"\nlabel = \"C\"\nvalues = { farbe = \"rot\" }\n"
            )),
            ["toml.unknown_key"]
        );
        assert_eq!(
            check(&with(
                "[[code]]\ncode = \"C\"\nlabel = \"C\"\nfarbe = \"rot\"\n"
            )),
            ["toml.unknown_key"]
        );
        let head = |k: &str| {
            ZONES.replace(
                "label = \"Parkzonen\"\n",
                &format!("label = \"Parkzonen\"\n{k}\n"),
            )
        };
        assert_eq!(
            check(&head("canonical-uri = \"keine uri\"")),
            ["codelist.invalid_uri"]
        );
        assert_eq!(
            check(&head("valid-from = \"2025-02-30\"")),
            ["codelist.invalid_date"]
        );
        assert_eq!(
            check(&head("key = \"schluessel\"")),
            ["codelist.unknown_column"]
        );
        assert_eq!(check(&head("versoin = \"1\"")), ["toml.unknown_key"]);
        let columns = "[codelist]\nlabel = \"L\"\n[[column]]\nid = \"code\"\n[[column]]\nid = \"code\"\n[[column]]\nid = \"label\"\n[[code]]\ncode = \"A\"\n";
        assert_eq!(check(columns), ["codelist.duplicate_column"]);
        let no_label = "[codelist]\nlabel = \"L\"\nlabel-column = \"\"\n[[column]]\nid = \"code\"\n[[code]]\ncode = \"A\"\nlabel = \"A\"\n";
        assert_eq!(check(no_label), ["codelist.label_without_column"]);
        // The place: line and column of the second "A".
        let d = check_src(
            "codelist",
            &with("[[code]]\ncode = \"A\"\nlabel = \"x\"\n"),
            &[],
            &DependencyContent::default(),
        );
        assert_eq!(d[0].line, 12, "{d:?}");
    }

    /// A form names the package as its field's code list; its conditions
    /// are checked against the package's codes.
    #[test]
    fn forms_use_a_code_list_package_by_name() {
        let deps = DependencyContent::resolved_from([("kassel/parkzonen", "codelist", ZONES)]);
        let form = |cond: &str, list: &str| {
            format!("[form]\ntitle = \"Antrag\"\nvertrauensniveau = \"niedrig\"\n\n[[field]]\nid = \"zone\"\ntype = \"select\"\nlabel = \"Zone\"\ncodelist = \"{list}\"\n\n[[field]]\nid = \"grund\"\ntype = \"text\"\nlabel = \"Grund\"\nshown-when = '{cond}'\n")
        };
        let check = |src: &str, deps_named: &[&str], content: &DependencyContent| {
            codes(&check_src("form", src, deps_named, content))
        };
        let named = ["kassel/parkzonen"];
        let good = check(&form("zone == \"A\"", "kassel/parkzonen"), &named, &deps);
        assert!(good.is_empty(), "{good:?}");
        let unknown = check(&form("zone == \"Z\"", "kassel/parkzonen"), &named, &deps);
        assert_eq!(unknown.len(), 1, "{unknown:?}");
        assert_eq!(
            check(
                &form("zone == \"A\"", "kassel/parkzonen"),
                &[],
                &DependencyContent::default()
            ),
            ["form.codelist_not_a_dependency"]
        );
        assert_eq!(
            check(
                &form("zone == \"A\"", "kassel/parkzonen#zonen"),
                &named,
                &deps
            ),
            ["form.unknown_codelist"]
        );
        let a_form = DependencyContent::resolved_from([(
            "kassel/parkzonen",
            "form",
            "[form]\ntitle = \"X\"\nvertrauensniveau = \"niedrig\"\n[[field]]\nid = \"a\"\ntype = \"text\"\nlabel = \"A\"\n",
        )]);
        assert_eq!(
            check(&form("zone == \"A\"", "kassel/parkzonen"), &named, &a_form),
            ["form.unknown_codelist"]
        );
    }

    #[test]
    fn the_diff_names_added_removed_and_relabelled_codes() {
        let m = super::super::content::tests::manifest_with_deps("codelist", &[]);
        let old = Content::Codelist(read(ZONES));
        let new = Content::Codelist(read(
            &ZONES
                .replace("label = \"Zone B\"", "label = \"Zone B (Wehlheiden)\"")
                .replace(
                    "code = \"A\"\nlabel = \"Zone A\"",
                    "code = \"C\"\nlabel = \"Zone C\"",
                ),
        ));
        let d = crate::diff::diff(&m, &old, &m, &new);
        let seen: Vec<(String, Option<String>, crate::diff::Level)> = d
            .changes
            .iter()
            .map(|c| {
                (
                    format!("{:?} {}", c.kind, c.path),
                    c.property.clone(),
                    c.level,
                )
            })
            .collect();
        use crate::diff::Level::*;
        assert!(
            seen.contains(&("Removed codelist".into(), Some("code".into()), Major)),
            "{seen:?}"
        );
        assert!(
            seen.contains(&("Added codelist".into(), Some("code".into()), Minor)),
            "{seen:?}"
        );
        assert!(
            seen.contains(&("Changed codelist#B".into(), Some("label".into()), Patch)),
            "{seen:?}"
        );
        assert_eq!(d.changes.len(), 3, "{seen:?}");
    }
}
