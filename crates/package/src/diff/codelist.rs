//! Changes of code lists: the lists matched by id, their codes by code.

use super::records::{by_id, Paired, Verdict};
use super::{Area, ChangeKind, Level, Out};
use crate::codelist::{Code, Codelist, CodelistSource};
use crate::codelist_package::{CodelistPackage, ListCode};

pub(super) fn diff_codelists(a: &[Codelist], b: &[Codelist], out: &mut Out) {
    out.records(
        Area::Codelist,
        (a, b),
        |c| &c.id,
        Verdict {
            level: Level::Major,
            reason: "fields that used it lose their values",
        },
        Verdict {
            level: Level::Minor,
            reason: "a new code list",
        },
        diff_codelist,
    );
}

fn diff_codelist(out: &mut Out, id: &str, x: &Codelist, y: &Codelist) {
    let c = Area::Codelist;
    out.prop(
        c,
        id,
        "label",
        &x.label,
        &y.label,
        |v| v.clone(),
        Level::Patch,
        "wording only",
    );
    match (&x.source, &y.source) {
        (CodelistSource::Inline(ca), CodelistSource::Inline(cb)) => diff_codes(out, id, ca, cb),
        (
            CodelistSource::XRepository {
                urn: ua,
                version: va,
            },
            CodelistSource::XRepository {
                urn: ub,
                version: vb,
            },
        ) => {
            out.prop(
                c,
                id,
                "urn",
                ua,
                ub,
                |v| Some(v.clone()),
                Level::Major,
                "another code list",
            );
            out.prop(
                c,
                id,
                "version",
                va,
                vb,
                |v| Some(v.clone()),
                Level::Minor,
                "a newer version of the same code list",
            );
        }
        _ => out.push(
            c,
            id,
            ChangeKind::Changed,
            Some("source"),
            None,
            None,
            Level::Major,
            "switched between inline codes and an XRepository list",
        ),
    }
}

/// The codes of an inline list: a code is a property of its list, its
/// labels are wording at `list#code`.
fn diff_codes(out: &mut Out, id: &str, ca: &[Code], cb: &[Code]) {
    let c = Area::Codelist;
    for pair in by_id(ca, cb, |k| k.code.as_str()) {
        match pair {
            Paired::Removed(code) => out.push(
                c,
                id,
                ChangeKind::Removed,
                Some("code"),
                Some(code.code.clone()),
                None,
                Level::Major,
                "submissions with this value are invalid now",
            ),
            Paired::Kept(code, k) => {
                let p = format!("{id}#{}", code.code);
                out.prop(
                    c,
                    &p,
                    "label",
                    &code.label,
                    &k.label,
                    |v| Some(v.clone()),
                    Level::Patch,
                    "wording only",
                );
                out.prop(
                    c,
                    &p,
                    "label-en",
                    &code.label_en,
                    &k.label_en,
                    |v| v.clone(),
                    Level::Patch,
                    "wording only",
                );
            }
            Paired::Added(code) => out.push(
                c,
                id,
                ChangeKind::Added,
                Some("code"),
                None,
                Some(code.code.clone()),
                Level::Minor,
                "a new value to choose",
            ),
        }
    }
}

/// A code list package against its previous version: the list's identity,
/// its columns, and its codes by code (a removed code is major, as for an
/// inline list).
pub(super) fn diff_codelist_package(x: &CodelistPackage, y: &CodelistPackage, out: &mut Out) {
    let c = Area::Codelist;
    let id = "codelist";
    let some = |v: &String| Some(v.clone());
    let opt = |v: &Option<String>| v.clone();
    out.prop(
        c,
        id,
        "label",
        &x.label,
        &y.label,
        some,
        Level::Patch,
        "wording only",
    );
    for (property, a, b) in [
        ("short-name", &x.short_name, &y.short_name),
        ("description", &x.description, &y.description),
        ("agency", &x.agency, &y.agency),
    ] {
        out.prop(c, id, property, a, b, opt, Level::Patch, "wording only");
    }
    out.prop(
        c,
        id,
        "canonical-uri",
        &x.canonical_uri,
        &y.canonical_uri,
        opt,
        Level::Major,
        "another code list",
    );
    for (property, a, b) in [
        ("source-version", &x.source_version, &y.source_version),
        (
            "canonical-version-uri",
            &x.canonical_version_uri,
            &y.canonical_version_uri,
        ),
        ("valid-from", &x.valid_from, &y.valid_from),
    ] {
        out.prop(
            c,
            id,
            property,
            a,
            b,
            opt,
            Level::Patch,
            "a newer version of the same code list",
        );
    }
    out.prop(
        c,
        id,
        "key",
        &x.key,
        &y.key,
        some,
        Level::Major,
        "the codes are taken from another column",
    );
    out.prop(
        c,
        id,
        "label-column",
        &x.label_column,
        &y.label_column,
        opt,
        Level::Patch,
        "wording only",
    );
    for pair in by_id(&x.columns, &y.columns, |k| k.id.as_str()) {
        match pair {
            Paired::Removed(col) => out.push(
                c,
                id,
                ChangeKind::Removed,
                Some("column"),
                Some(col.id.clone()),
                None,
                Level::Major,
                "a column that receivers may read is gone",
            ),
            Paired::Added(col) => out.push(
                c,
                id,
                ChangeKind::Added,
                Some("column"),
                None,
                Some(col.id.clone()),
                Level::Minor,
                "a new column",
            ),
            Paired::Kept(..) => {}
        }
    }
    let codes = |l: &CodelistPackage| -> Vec<Code> {
        l.codes
            .iter()
            .map(|k| Code {
                code: k.code.clone(),
                label: k.label.clone().unwrap_or_default(),
                label_en: None,
                at: 0,
            })
            .collect()
    };
    diff_codes(out, id, &codes(x), &codes(y));
    for pair in by_id(&x.codes, &y.codes, |k| k.code.as_str()) {
        if let Paired::Kept(a, b) = pair {
            let path = format!("{id}#{}", a.code);
            for col in &y.columns {
                let value = |k: &ListCode| {
                    k.values
                        .iter()
                        .find(|(c, _)| *c == col.id)
                        .map(|(_, v)| v.clone())
                };
                out.prop(
                    c,
                    &path,
                    &col.id,
                    &value(a),
                    &value(b),
                    |v| v.clone(),
                    Level::Patch,
                    "another value in a descriptive column",
                );
            }
        }
    }
}
