//! Changes of one field: type, requirement, conditions, constraints,
//! wording.

use super::form::{can_be_required, diff_condition};
use super::{Area, ChangeKind, Level, Out};
use crate::model::{Bound, Constraints, Field};

fn bound_level(
    old: &Option<Bound>,
    new: &Option<Bound>,
    is_min: bool,
) -> Option<(Level, &'static str)> {
    match (old, new) {
        (a, b) if a == b => None,
        (None, Some(_)) => Some((
            Level::Major,
            "a new limit may refuse values that were accepted",
        )),
        (Some(_), None) => Some((Level::Minor, "the limit is gone; more values are accepted")),
        (Some(a), Some(b)) => match b.partial_cmp(a) {
            Some(o) if (o == std::cmp::Ordering::Less) == is_min => Some((
                Level::Minor,
                "the limit is wider; every old value is still accepted",
            )),
            Some(_) => Some((
                Level::Major,
                "the limit is narrower; values that were accepted are refused",
            )),
            None => Some((
                Level::Major,
                "the limit changed in a way that cannot be compared",
            )),
        },
        _ => None,
    }
}

pub(super) fn diff_field(path: &str, a: &Field, b: &Field, out: &mut Out) {
    let fa = Area::Field;
    diff_type(path, a, b, out);
    diff_required(path, a, b, out);
    diff_condition(
        Area::Condition,
        path,
        "shown-when",
        &a.shown_when,
        &b.shown_when,
        can_be_required(b),
        out,
    );
    diff_condition(
        Area::Condition,
        path,
        "required-when",
        &a.required_when,
        &b.required_when,
        true,
        out,
    );
    out.text(fa, path, "label", &a.label, &b.label);
    out.text(fa, path, "help", &a.help, &b.help);
    out.text(fa, path, "text", &a.text, &b.text);
    let (ca, cb) = (&a.constraints, &b.constraints);
    diff_bounds(path, ca, cb, out);
    if ca.pattern != cb.pattern {
        let (level, reason) = pattern_level(&ca.pattern, &cb.pattern, &a.examples);
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("pattern"),
            ca.pattern.clone(),
            cb.pattern.clone(),
            level,
            reason,
        );
    }
    diff_files(path, ca, cb, out);
    let cl = |f: &Field| f.codelist.as_ref().map(|c| c.get_ref().clone());
    out.prop(
        fa,
        path,
        "codelist",
        &cl(a),
        &cl(b),
        |v| v.clone(),
        Level::Major,
        "the values to choose from come from another list",
    );
    out.prop(
        fa,
        path,
        "examples",
        &a.examples,
        &b.examples,
        |v| Some(v.join(", ")),
        Level::Patch,
        "documentation only",
    );
    out.prop(
        fa,
        path,
        "fixed",
        &a.fixed,
        &b.fixed,
        |v| v.clone(),
        Level::Major,
        "submissions carry another value",
    );
    out.legal_basis(fa, path, &a.legal_basis, &b.legal_basis);
    out.fim(fa, path, &a.fim, &b.fim);
}

/// A new type is minor when it takes every value of the old one.
fn diff_type(path: &str, a: &Field, b: &Field, out: &mut Out) {
    let fa = Area::Field;
    if a.ty != b.ty {
        let (level, reason) = if a.ty.widens_to(b.ty) {
            (Level::Minor, "the new type accepts every old value")
        } else {
            (
                Level::Major,
                "values of the old type may not fit the new one",
            )
        };
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("type"),
            Some(a.ty.as_str().into()),
            Some(b.ty.as_str().into()),
            level,
            reason,
        );
    }
}

fn diff_required(path: &str, a: &Field, b: &Field, out: &mut Out) {
    let fa = Area::Field;
    match (a.required, b.required) {
        (false, true) => out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("required"),
            Some("false".into()),
            Some("true".into()),
            Level::Major,
            "an optional field became required: old submissions may lack it",
        ),
        (true, false) => out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("required"),
            Some("true".into()),
            Some("false".into()),
            Level::Minor,
            "a required field became optional",
        ),
        _ => {}
    }
}

/// Lengths and values: a wider limit is minor, a narrower one major.
fn diff_bounds(path: &str, ca: &Constraints, cb: &Constraints, out: &mut Out) {
    let fa = Area::Field;
    let num = |v: &Option<u64>| v.map(|n| n.to_string());
    let len = |old: &Option<u64>, new: &Option<u64>, is_min: bool| {
        bound_level(
            &old.map(|n| Bound::Number(n as f64)),
            &new.map(|n| Bound::Number(n as f64)),
            is_min,
        )
    };
    if let Some((level, reason)) = len(&ca.min_length, &cb.min_length, true) {
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("min-length"),
            num(&ca.min_length),
            num(&cb.min_length),
            level,
            reason,
        );
    }
    if let Some((level, reason)) = len(&ca.max_length, &cb.max_length, false) {
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("max-length"),
            num(&ca.max_length),
            num(&cb.max_length),
            level,
            reason,
        );
    }
    let show = |b: &Option<Bound>| b.as_ref().map(|b| b.to_string());
    if let Some((level, reason)) = bound_level(&ca.min, &cb.min, true) {
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("min"),
            show(&ca.min),
            show(&cb.min),
            level,
            reason,
        );
    }
    if let Some((level, reason)) = bound_level(&ca.max, &cb.max, false) {
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("max"),
            show(&ca.max),
            show(&cb.max),
            level,
            reason,
        );
    }
}

/// The files an upload field accepts: media types and the largest size.
fn diff_files(path: &str, ca: &Constraints, cb: &Constraints, out: &mut Out) {
    let fa = Area::Field;
    let num = |v: &Option<u64>| v.map(|n| n.to_string());
    for m in ca
        .media_types
        .iter()
        .filter(|m| !cb.media_types.contains(m))
    {
        out.push(
            fa,
            path,
            ChangeKind::Removed,
            Some("media-types"),
            Some(m.clone()),
            None,
            Level::Major,
            "files of this type are refused now",
        );
    }
    for m in cb
        .media_types
        .iter()
        .filter(|m| !ca.media_types.contains(m))
    {
        out.push(
            fa,
            path,
            ChangeKind::Added,
            Some("media-types"),
            None,
            Some(m.clone()),
            Level::Minor,
            "more kinds of files are accepted",
        );
    }
    if ca.max_size != cb.max_size {
        let smaller = match (ca.max_size, cb.max_size) {
            (Some(x), Some(y)) => y < x,
            (None, Some(_)) => true,
            _ => false,
        };
        let (level, reason) = if smaller {
            (Level::Major, "files that were accepted are too large now")
        } else {
            (Level::Minor, "larger files are accepted")
        };
        out.push(
            fa,
            path,
            ChangeKind::Changed,
            Some("max-size"),
            num(&ca.max_size),
            num(&cb.max_size),
            level,
            reason,
        );
    }
}

/// A changed pattern is minor when every example of the old version still
/// matches the new pattern, major otherwise (or without examples: the
/// check cannot show that old values are still accepted).
fn pattern_level(
    old: &Option<String>,
    new: &Option<String>,
    old_examples: &[String],
) -> (Level, &'static str) {
    match (old, new) {
        (_, None) => (
            Level::Minor,
            "the pattern is gone; more values are accepted",
        ),
        (None, Some(_)) => (
            Level::Major,
            "a new pattern may refuse values that were accepted",
        ),
        (Some(_), Some(p)) => {
            if old_examples.is_empty() {
                return (Level::Major, "the pattern changed and the field has no examples to show that old values still match; add examples = [...] to the field");
            }
            match regex::Regex::new(&format!("^(?:{p})$")) {
                Ok(re) if old_examples.iter().all(|e| re.is_match(e)) => (
                    Level::Minor,
                    "the pattern changed; every example of the old version still matches",
                ),
                Ok(_) => (
                    Level::Major,
                    "an example of the old version no longer matches the pattern",
                ),
                Err(_) => (Level::Major, "the new pattern does not compile"),
            }
        }
    }
}
