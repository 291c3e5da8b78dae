//! Changes of code lists: the lists matched by id, their codes by code.

use super::records::{by_id, Paired, Verdict};
use super::{Area, ChangeKind, Level, Out};
use crate::codelist::{Code, Codelist, CodelistSource};

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
